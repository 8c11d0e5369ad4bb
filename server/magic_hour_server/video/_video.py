"""Face detection in videos: stream frames with PyAV, detect on samples, one entry per person.

Frames are decoded one at a time in a background thread and dropped at once; only sampled
frames (`sample_fps` per second) are converted to RGB, at a reduced working size, and go
through the detector in a second thread (`_video_decode`). The full-size picture is made
only when a face in it is wanted for a vote or a view: then the face is aligned on its
landmarks and measured (`_face_quality`); detections are joined into tracks within a shot
(`_tracking.Tracker`), and tracks into people across cuts by their face embeddings
(`_embedder`, `_people`); `_video_people.Casting` publishes each person once, with their best
usable view.

Embeddings cost about as much per face as a detection pass at 416 px, so only faces that can
vote are embedded (at least `MIN_HEIGHT` px tall, detector score `MIN_VOTE_SCORE`, neither
too dark nor too blurred), only while their track needs votes (`VOTES_WANTED`, at most one per
`VOTE_INTERVAL` seconds), and on every sample where the picture changed as much as at a cut,
so that the tracker can refuse to carry a track across it (`MAX_TRACK_DISTANCE`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
import numpy.typing as npt
from PIL import Image

from magic_hour_server._media import MediaError
from magic_hour_server.detection._alignment import Point, align
from magic_hour_server.detection._detector import Detection, FaceDetector
from magic_hour_server.detection._embedder import FaceEmbedder, default_embedder
from magic_hour_server.detection._face_quality import MIN_HEIGHT, FaceQuality, UsableLimits, measure
from magic_hour_server.detection._people import Identity
from magic_hour_server.detection._processing import FaceSink, crop_face_pixels, pixel_box
from magic_hour_server.video._tracking import Box, Seen, Tracker, iou, look_of
from magic_hour_server.video._video_decode import (
    Sample,
    SampledFrames,
    VideoLimits,
    duration_of,
    matroska_shortfall,
    open_video,
)
from magic_hour_server.video._video_people import HOLD_SECONDS, Casting, Entry, View

DETECT_MAX_SIDE = 416
"""Sampled frames are scaled down to this longest side for the detector, whose cost grows
with the pixel count and is nearly all of the time a video takes. The detector finds faces
down to about 10 px at that scale: faces at least 1/40 of the frame's longer side (31 px in
720p, 46 px in 1080p). Measured on the 720p benchmark clip: 480 px gave 4.7x real time,
416 px 5.5x (2 cores). Photos get 960 px (`_detector`)."""

MIN_VOTE_SCORE = 0.6
"""Faces the detector is less sure of than this do not vote on who a track is."""
VOTES_WANTED = 6
VOTE_INTERVAL = 0.5
MAX_EMBEDDINGS_PER_SAMPLE = 8
"""Bounds the embedding work of a crowded sample; the tallest faces go first."""
CUT_CHANGE = 12.0
"""Mean absolute grey-level change (0..255) between two samples' 32 x 18 thumbnails from
which a sample may follow a cut. On real footage cuts measured 26-30 and steady shots 1-4;
a moving close-up reaches the cuts' range, which only costs embeddings, not accuracy."""
MAX_TRACK_DISTANCE = 0.6
"""A face further than this (cosine distance) from its track's identity starts a new track."""


@dataclass(frozen=True)
class Observation:
    """A face seen in a sample: the frame, its time, the track it joined, its box (x, y, w, h)."""

    frame: int
    time: float
    track: int
    box: tuple[int, int, int, int]


@dataclass
class VideoPeople:
    """What a video's pass found: its entries, and every face seen with its person.

    `person_of_track` maps each confirmed track to its person; faces of unconfirmed tracks
    (one-sample false positives) belong to no one. `track_identities` holds the mean
    embedding of each confirmed track that had votes; `embeddings` counts faces embedded.
    """

    entries: list[Entry] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    person_of_track: dict[int, int] = field(default_factory=dict)
    track_identities: dict[int, Identity] = field(default_factory=dict)
    embeddings: int = 0


@dataclass(frozen=True)
class _Analysis:
    """What a face's aligned picture says: the picture, its quality, what it may be used for."""

    aligned: npt.NDArray[np.uint8]
    quality: FaceQuality
    usable: bool
    can_vote: bool


@dataclass
class _Face:
    detection: Detection  # in the working-size picture
    box: Box  # x1, y1, x2, y2 in full-size upright pixels
    pixels: tuple[int, int, int, int]
    score: float
    landmarks: tuple[Point, ...]
    at_edge: bool
    analysis: _Analysis | None = None


class _FullFrame:
    """A sample's full-size picture, converted when first asked for: once a video's people
    have their votes and views, most samples never need it."""

    def __init__(self, sample: Sample) -> None:
        self._sample = sample
        self._pixels: npt.NDArray[np.uint8] | None = None

    def pixels(self) -> npt.NDArray[np.uint8]:
        if self._pixels is None:
            self._pixels = self._sample.full()
        return self._pixels


def process_video(
    path: str | os.PathLike[str],
    detector: FaceDetector,
    threshold: float,
    sink: FaceSink,
    *,
    embedder: FaceEmbedder | None = None,
    limits: UsableLimits | None = None,
    sample_fps: float = 4.0,
    detect_max_side: int = DETECT_MAX_SIDE,
    publish_after_seconds: float = 3.0,
    hold_seconds: float = HOLD_SECONDS,
    video_limits: VideoLimits | None = None,
) -> VideoPeople:
    """Detect the people of the video at `path` and hand one face per person to `sink`.

    Up to `sample_fps` frames per second go through `detector` with `threshold`. A track is
    resolved to a person when it ends or after `publish_after_seconds` of video in which it
    was seen; a person's face reaches the sink once they have a good view, or `hold_seconds`
    of video after they were first seen, or at the end: long videos show faces while
    running. Faces too small, dark or blurred for a
    face swap are left out unless `limits.keep_all`. Each face is named by the frame its
    crop comes from (counted from 0 in presentation order) and its place among that frame's
    detections, left to right; `frame_time` is that frame's time in seconds from the start,
    and `box` is in the upright picture's pixels (rotation metadata applied). Raises
    MediaError when the file is not a readable video, or is damaged or truncated (faces
    published before the damage stay published).
    """
    if sample_fps <= 0:
        raise ValueError("sample_fps must be positive")
    tracker = Tracker(
        min_hits=2,
        # About a second without the face ends its track.
        max_missed=max(2, round(sample_fps)),
        publish_after=max(2, round(publish_after_seconds * sample_fps)),
        # Measured on a real clip: a face matched itself from sample to sample with
        # likeness above 0.9 (median 0.999); the matches below 0.5 were all across cuts.
        min_likeness=0.5,
        max_identity_distance=MAX_TRACK_DISTANCE,
    )
    with open_video(Path(path), video_limits) as container:
        stream = container.streams.video[0]
        run = _Run(container, stream, detector, threshold, sink, tracker, hold_seconds)
        run.embedder = embedder or default_embedder()
        run.limits = limits or UsableLimits()

        def detect(small: npt.NDArray[np.uint8]) -> list[Detection]:
            return detector.detect(small, threshold, multi_scale=False, one_thread=True)

        with SampledFrames(
            container, stream, sample_fps, detect_max_side, detect=detect, limits=video_limits
        ) as samples:
            run.run(samples)
    return run.found


class _Run:
    """One video's pass: detections to tracks, tracks to people, each person published once."""

    embedder: FaceEmbedder
    limits: UsableLimits

    def __init__(
        self,
        container: av.container.InputContainer,
        stream: av.VideoStream,
        detector: FaceDetector,
        threshold: float,
        sink: FaceSink,
        tracker: Tracker,
        hold_seconds: float,
    ) -> None:
        self.container = container
        self.stream = stream
        self.detector = detector
        self.threshold = threshold
        self.sink = sink
        self.tracker = tracker
        self.duration = duration_of(container, stream)
        self.casting = Casting(self._publish, hold=hold_seconds)
        self.found = VideoPeople()
        self.progress = 0.0
        self._thumbnail: npt.NDArray[np.float32] | None = None

    def run(self, samples: SampledFrames) -> None:
        try:
            for sample in samples:
                self._sample(sample)
                self._report(sample.time)
        except av.FFmpegError as err:
            self._finish()
            where = f" after {samples.last_time:.1f} s" if samples.decoded else ""
            if isinstance(err, av.ArgumentError):
                # What the decoder says of a frame past its `max_pixels` (and of some damage).
                raise MediaError(
                    f"the video is damaged, or a frame in it is larger than the limit of"
                    f" {samples.max_pixels:,} pixels{where}"
                ) from err
            raise MediaError(f"the video is damaged or truncated{where}") from err
        self._finish()
        decoded, last_time = samples.decoded, samples.last_time
        if decoded == 0:
            if self.duration:
                raise MediaError("the video is truncated: no frame could be decoded")
            raise MediaError("the video has no frames")
        self._check_complete(decoded, last_time)
        self.sink.set_progress(1.0)

    def _sample(self, sample: Sample) -> None:
        cut = self._changed_like_a_cut(sample.small)
        found = sample.found
        frame = _FullFrame(sample)
        faces = [self._face(d, sample) for d in found]
        identities = self._identities(faces, sample.time, cut, frame)
        seen = [
            Seen(
                face.box,
                face.score,
                look_of(sample.small, (d.x1, d.y1, d.x2, d.y2)),
                identities.get(index),
            )
            for index, (face, d) in enumerate(zip(faces, found, strict=True))
        ]
        update = self.tracker.update(sample.time, seen)
        for index, (face, track) in enumerate(zip(faces, update.assigned, strict=True)):
            self.casting.seen(track, sample.time)
            self.found.observations.append(
                Observation(sample.number, sample.time, track, face.pixels)
            )
            if index in identities:
                self.casting.vote(track, identities[index], sample.time)
            if not self.casting.wants_view(track):
                continue
            analysis = self._analyse(face, frame)
            # The crop is a copy of the region: the view does not keep the frame alive.
            view = View(
                frame=sample.number,
                index=index,
                time=sample.time,
                box=face.pixels,
                score=face.score,
                quality=analysis.quality,
                usable=analysis.usable,
                crop=crop_face_pixels(frame.pixels(), face.pixels),
            )
            self.casting.offer(track, view)
        self._apply(update.ready, update.ended)
        self.casting.tick(sample.time)

    def _face(self, d: Detection, sample: Sample) -> _Face:
        width, height = sample.size
        # Scale factors back to full-size upright pixels, per axis (rounding differs).
        sx, sy = width / sample.small.shape[1], height / sample.small.shape[0]
        box = (d.x1 * sx, d.y1 * sy, d.x2 * sx, d.y2 * sy)
        pixels = pixel_box(Detection(*box, min(1.0, max(0.0, d.score))), width, height)
        x, y, w, h = pixels
        return _Face(
            detection=d,
            box=box,
            pixels=pixels,
            score=min(1.0, max(0.0, d.score)),
            landmarks=tuple((x * sx, y * sy) for x, y in d.landmarks),
            at_edge=x <= 1 or y <= 1 or x + w >= width - 1 or y + h >= height - 1,
        )

    def _analyse(self, face: _Face, frame: _FullFrame) -> _Analysis:
        """The face aligned on its landmarks in the full-size frame, and measured (once)."""
        if face.analysis is None:
            aligned = align(frame.pixels(), face.landmarks)
            height = face.box[3] - face.box[1]
            quality = measure(
                aligned, face.landmarks, height=height, score=face.score, at_edge=face.at_edge
            )
            strict = quality.unusable_reason(UsableLimits())
            face.analysis = _Analysis(
                aligned=aligned,
                quality=quality,
                usable=quality.unusable_reason(self.limits) is None,
                can_vote=strict is None
                and face.score >= MIN_VOTE_SCORE
                and quality.height >= MIN_HEIGHT,
            )
        return face.analysis

    def _identities(
        self, faces: Sequence[_Face], time: float, cut: bool, frame: _FullFrame
    ) -> dict[int, Identity]:
        """Embeddings of the faces worth one now, by their index in `faces`."""
        chosen = [
            index
            for index, face in enumerate(faces)
            if (cut or self._needs_vote(face, time)) and self._analyse(face, frame).can_vote
        ]
        chosen.sort(key=lambda index: -(faces[index].box[3] - faces[index].box[1]))
        chosen = chosen[:MAX_EMBEDDINGS_PER_SAMPLE]
        if not chosen:
            return {}
        vectors = self.embedder.embed([self._analyse(faces[i], frame).aligned for i in chosen])
        self.found.embeddings += len(chosen)
        return dict(zip(chosen, vectors, strict=True))

    def _needs_vote(self, face: _Face, time: float) -> bool:
        """Whether the track likely to take `face` still wants a vote (a new face does)."""
        best, overlap = None, 0.3
        for track in self.tracker.tracks:
            value = iou(track.predict(time), face.box)
            if value > overlap:
                best, overlap = track, value
        if best is None:
            return True
        votes, last = self.casting.votes(best.id)
        return votes < VOTES_WANTED and (last is None or time - last >= VOTE_INTERVAL)

    def _changed_like_a_cut(self, small: npt.NDArray[np.uint8]) -> bool:
        grey = Image.fromarray(small).convert("L").resize((32, 18), Image.Resampling.BOX)
        thumbnail = np.asarray(grey, dtype=np.float32)
        previous, self._thumbnail = self._thumbnail, thumbnail
        return previous is not None and float(np.abs(thumbnail - previous).mean()) >= CUT_CHANGE

    def _apply(self, ready: list[int], ended: list[int]) -> None:
        for track in ready:
            self.casting.ready(track)
        for track in ended:
            self.casting.ended(track)

    def _publish(self, entry: Entry) -> None:
        view = entry.view
        self.found.entries.append(entry)
        self.sink.add_face(
            frame=view.frame,
            index=view.index,
            crop=view.crop,
            box=view.box,
            score=view.score,
            frame_time=round(view.time, 3),
        )

    def _finish(self) -> None:
        update = self.tracker.finish()
        self._apply(update.ready, update.ended)
        self.casting.finish()
        for track in {o.track for o in self.found.observations}:
            person = self.casting.person_of(track)
            if person is not None:
                self.found.person_of_track[track] = person
        for known in self.casting.people.people:
            for track, (_, identity) in known.tracks.items():
                if identity is not None:
                    self.found.track_identities[track] = identity

    def _report(self, time: float) -> None:
        if not self.duration:
            return
        fraction = min(time / self.duration, 0.99)
        # Each report may be a database write: only whole percents are worth one.
        if fraction >= self.progress + 0.01:
            self.progress = fraction
            self.sink.set_progress(fraction)

    def _check_complete(self, decoded: int, last_time: float) -> None:
        missing = matroska_shortfall(self.container.name)
        if missing:
            raise MediaError(f"the video is truncated: {missing} bytes are missing at its end")
        expected = self.stream.frames
        if expected and decoded < expected * 0.98 - 1:
            raise MediaError(
                f"the video is truncated: {decoded} of {expected} frames could be decoded"
            )
        if self.duration and not expected:
            rate = self.stream.average_rate or Fraction(25)
            end = last_time + 1 / float(rate)
            if end < self.duration - max(1.0, 0.05 * self.duration):
                raise MediaError(
                    f"the video is truncated: it stops at {end:.1f} s of {self.duration:.1f} s"
                )
