"""Associate face detections across sampled video frames into tracks, one per person.

The tracker only sees boxes, scores and times; it knows nothing about pixels. Each sample,
`Tracker.update` predicts where every live track's face should be (its last centre moved at
its smoothed velocity), pairs predictions and detections by a cost that mixes the centre
distance (relative to the face's size) and box overlap, and reports which detection went to
which track, which tracks are ready to be published, and which ended without being confirmed.

Publishing policy (the API can add faces but never replace one): a track is published once,
either when it ends (after `max_missed` samples without a match, or at the end of the video)
or as soon as it has been matched `publish_after` times, whichever comes first. The second
rule keeps a long shot progressive: a person on screen for minutes shows up within a few
seconds of video, with the best view seen until then. A track must have been matched at least
`min_hits` times to be published at all, which filters one-sample false positives.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

Box = tuple[float, float, float, float]
"""x1, y1, x2, y2 in pixels."""

Look = NDArray[np.float64]
"""A face's colour signature (see `look_of`): a unit vector."""


Identity = NDArray[np.float32]
"""A face's embedding (see `_embedder`): a unit vector."""


@dataclass(frozen=True)
class Seen:
    """One detection in a sample: its box, the detector's score (0..1), and optionally its
    look and its identity (a face embedding, when one was computed for it)."""

    box: Box
    score: float = 1.0
    look: Look | None = None
    identity: Identity | None = None


def look_of(image: NDArray[np.uint8], box: Box, bins: int = 4) -> Look:
    """The colour signature of the face at `box` in `image` (H x W x 3 RGB).

    The square root of the normalised RGB histogram (`bins` per channel) of the box's central
    part (hair and background stay out): two signatures' dot product is their Bhattacharyya
    coefficient, 1 for the same colours and 0 for disjoint ones.
    """
    x1, y1, x2, y2 = box
    w, h = x2 - x1, y2 - y1
    top, bottom = max(0, int(y1 + 0.2 * h)), max(0, math.ceil(y2 - 0.2 * h))
    left, right = max(0, int(x1 + 0.2 * w)), max(0, math.ceil(x2 - 0.2 * w))
    pixels = image[top : max(bottom, top + 1), left : max(right, left + 1)].reshape(-1, 3)
    levels = (pixels // (256 // bins)).astype(np.intp)
    cells = (levels[:, 0] * bins + levels[:, 1]) * bins + levels[:, 2]
    counts = np.bincount(cells, minlength=bins**3).astype(np.float64)
    total = counts.sum()
    return np.sqrt(counts / total) if total else np.full(bins**3, bins**-1.5)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _side(box: Box) -> float:
    return math.sqrt(max(box[2] - box[0], 1e-6) * max(box[3] - box[1], 1e-6))


@dataclass
class Track:
    """One person's face followed over time."""

    id: int
    box: Box
    time: float
    score: float = 1.0  # running mean of the detector's scores
    look: Look | None = None  # running mean of the colour signatures
    identity: Identity | None = None  # running mean of the embeddings
    hits: int = 1
    missed: int = 0
    velocity: tuple[float, float] = (0.0, 0.0)  # centre motion, pixels per second
    published: bool = False

    def predict(self, time: float) -> Box:
        """The box expected at `time`: the last box moved at the track's velocity."""
        dt = time - self.time
        dx, dy = self.velocity[0] * dt, self.velocity[1] * dt
        x1, y1, x2, y2 = self.box
        return x1 + dx, y1 + dy, x2 + dx, y2 + dy

    def absorb(self, seen: Seen, time: float, smoothing: float) -> None:
        box = seen.box
        dt = time - self.time
        if dt > 0:
            (cx, cy), (px, py) = _centre(box), _centre(self.box)
            measured = ((cx - px) / dt, (cy - py) / dt)
            if self.hits == 1:
                self.velocity = measured
            else:
                keep = 1.0 - smoothing
                self.velocity = (
                    keep * self.velocity[0] + smoothing * measured[0],
                    keep * self.velocity[1] + smoothing * measured[1],
                )
        self.box = box
        self.time = time
        self.score = (self.score + seen.score) / 2
        if seen.look is not None:
            mixed = seen.look if self.look is None else self.look + seen.look
            self.look = mixed / (np.linalg.norm(mixed) or 1.0)
        if seen.identity is not None:
            summed = seen.identity if self.identity is None else self.identity + seen.identity
            self.identity = summed / (np.linalg.norm(summed) or 1.0)
        self.hits += 1
        self.missed = 0


@dataclass(frozen=True)
class Update:
    """What one sample changed.

    `assigned[i]` is the track id detection `i` now belongs to. `ready` lists tracks to
    publish now (each appears at most once over the whole video); `ended` lists tracks that
    stopped and are not in `ready`, published earlier or never (whatever the caller keeps
    for them can go).
    """

    assigned: list[int]
    ready: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)


class Tracker:
    """Greedy minimum-cost association with constant-velocity prediction.

    `gate` bounds the distance between a detection's centre and a track's predicted centre,
    in units of the track's face size; it widens by `gate_growth` per missed sample because a
    prediction grows less certain. Detections whose size differs from the track's by more
    than `max_scale` either way are never matched to it, nor are detections whose look
    (colour signature) is less than `min_likeness` like the track's: at a cut, another person
    standing where the last one stood is another face. When both a detection and a track
    have an identity (a face embedding), a cosine distance above `max_identity_distance`
    keeps them apart too: that catches the cut that colour alone misses.
    """

    def __init__(
        self,
        *,
        min_hits: int = 2,
        max_missed: int = 4,
        publish_after: int = 12,
        gate: float = 1.0,
        gate_growth: float = 0.5,
        max_scale: float = 1.8,
        smoothing: float = 0.5,
        min_likeness: float = 0.0,
        max_identity_distance: float = 2.0,
    ) -> None:
        if min_hits < 1 or publish_after < min_hits or max_missed < 0:
            raise ValueError("need 1 <= min_hits <= publish_after and max_missed >= 0")
        self.min_hits = min_hits
        self.max_missed = max_missed
        self.publish_after = publish_after
        self.gate = gate
        self.gate_growth = gate_growth
        self.max_scale = max_scale
        self.smoothing = smoothing
        self.min_likeness = min_likeness
        self.max_identity_distance = max_identity_distance
        self.samples = 0
        self._tracks: dict[int, Track] = {}
        self._next_id = 0

    @property
    def tracks(self) -> list[Track]:
        """The live tracks."""
        return list(self._tracks.values())

    def cost(self, track: Track, seen: Seen, time: float) -> float | None:
        """The cost of matching `seen` to `track`, or None when the pair is out of the gate.

        Scores must agree too: a faint detection near a face (or a faint track started
        by one) must not take the place of the face's own detection or track.
        """
        box = seen.box
        predicted = track.predict(time)
        side = _side(track.box)
        scale = _side(box) / side
        if not 1 / self.max_scale <= scale <= self.max_scale:
            return None
        (px, py), (cx, cy) = _centre(predicted), _centre(box)
        distance = math.hypot(cx - px, cy - py) / side
        if distance > self.gate + self.gate_growth * track.missed:
            return None
        cost = distance + (1.0 - iou(predicted, box)) + abs(track.score - seen.score)
        if track.look is not None and seen.look is not None:
            likeness = float(track.look @ seen.look)
            if likeness < self.min_likeness:
                return None
            cost += 1.0 - likeness
        if (
            track.identity is not None
            and seen.identity is not None
            and 1.0 - float(track.identity @ seen.identity) > self.max_identity_distance
        ):
            return None
        return cost

    def update(self, time: float, detections: Sequence[Seen | Box]) -> Update:
        """Feed the detections of the sample at `time` (seconds, increasing)."""
        self.samples += 1
        seen = [d if isinstance(d, Seen) else Seen(d) for d in detections]
        pairs: list[tuple[float, int, int]] = []
        for track in self._tracks.values():
            for index, one in enumerate(seen):
                cost = self.cost(track, one, time)
                if cost is not None:
                    pairs.append((cost, track.id, index))
        pairs.sort()
        assigned: list[int | None] = [None] * len(seen)
        matched: set[int] = set()
        for _, track_id, index in pairs:
            if track_id in matched or assigned[index] is not None:
                continue
            self._tracks[track_id].absorb(seen[index], time, self.smoothing)
            assigned[index] = track_id
            matched.add(track_id)

        ready: list[int] = []
        ended: list[int] = []
        for track in list(self._tracks.values()):
            if track.id not in matched:
                track.missed += 1
                if track.missed > self.max_missed:
                    del self._tracks[track.id]
                    self._close(track, self.min_hits, ready, ended)
            elif not track.published and track.hits >= self.publish_after:
                track.published = True
                ready.append(track.id)

        result = [
            self._start(one, time) if track_id is None else track_id
            for one, track_id in zip(seen, assigned, strict=True)
        ]
        return Update(assigned=result, ready=ready, ended=ended)

    def finish(self) -> Update:
        """End every live track (the video is over) and say which to publish."""
        # A clip shorter than `min_hits` samples could never confirm anything otherwise.
        needed = min(self.min_hits, max(self.samples, 1))
        ready: list[int] = []
        ended: list[int] = []
        for track in self._tracks.values():
            self._close(track, needed, ready, ended)
        self._tracks.clear()
        return Update(assigned=[], ready=ready, ended=ended)

    def _close(self, track: Track, needed: int, ready: list[int], ended: list[int]) -> None:
        if not track.published and track.hits >= needed:
            track.published = True
            ready.append(track.id)
        else:
            ended.append(track.id)

    def _start(self, seen: Seen, time: float) -> int:
        track = Track(
            id=self._next_id,
            box=seen.box,
            time=time,
            score=seen.score,
            look=seen.look,
            identity=seen.identity,
        )
        self._next_id += 1
        self._tracks[track.id] = track
        return track.id
