"""Re-identification: which tracks of a video are one person, across cuts, zooms and pans.

Plain code, no pixels and no model: tracks arrive with the mean of their faces' embeddings
(unit vectors, see `_embedder`) and the time span they cover. A track joins the person whose
identity is nearest, if the cosine distance is at most `max_distance` and none of the
person's tracks overlaps it in time (one person is never in two places in one frame);
otherwise it starts a new person. A track without an identity (every face too small or too
faint to vote) cannot be recognised, and is a person of its own.

A person's identity is the normalised mean of its tracks' identities, each track counting
once, so one long shot does not drown a short one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Identity = npt.NDArray[np.float32]
Span = tuple[float, float]

MAX_DISTANCE = 0.45
"""Cosine distance between track identities below which two tracks are one person. On real
footage the same person across a cut and a zoom measured 0.32-0.37 and the nearest two
different people 0.6 and more (docs/video-people.md)."""


def mean_identity(vectors: list[Identity]) -> Identity | None:
    """The normalised mean of unit vectors, or None when there are none."""
    if not vectors:
        return None
    total = np.sum(vectors, axis=0)
    norm = float(np.linalg.norm(total))
    result: Identity = (total / norm if norm > 0 else total).astype(np.float32)
    return result


def distance(a: Identity, b: Identity) -> float:
    """Cosine distance of two unit vectors: 0 the same, 1 unrelated, 2 opposite."""
    return 1.0 - float(a @ b)


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]


@dataclass
class Person:
    """One person: the tracks resolved to them, each with its span and identity."""

    id: int
    tracks: dict[int, tuple[Span, Identity | None]] = field(default_factory=dict)
    published: bool = False

    @property
    def identity(self) -> Identity | None:
        return mean_identity([i for _, i in self.tracks.values() if i is not None])

    def overlaps(self, span: Span, but: int | None = None) -> bool:
        return any(_overlaps(span, s) for t, (s, _) in self.tracks.items() if t != but)


class People:
    """The people of one video, as its tracks are resolved to them."""

    def __init__(self, max_distance: float = MAX_DISTANCE) -> None:
        self.max_distance = max_distance
        self._people: list[Person] = []
        self._of_track: dict[int, Person] = {}

    @property
    def people(self) -> list[Person]:
        return list(self._people)

    def of_track(self, track: int) -> Person | None:
        return self._of_track.get(track)

    def nearest(self, identity: Identity, span: Span) -> tuple[Person | None, float]:
        """The person nearest to `identity` whose tracks do not overlap `span`, and how near."""
        best: Person | None = None
        best_distance = float("inf")
        for person in self._people:
            mine = person.identity
            if mine is None or person.overlaps(span):
                continue
            d = distance(identity, mine)
            if d < best_distance:
                best, best_distance = person, d
        return best, best_distance

    def resolve(self, track: int, identity: Identity | None, span: Span) -> Person:
        """The person that `track`, with `identity` over `span`, belongs to; made if need be.

        A track resolved before is updated in place (its person does not change).
        """
        person = self._of_track.get(track)
        if person is None and identity is not None:
            nearest, d = self.nearest(identity, span)
            if nearest is not None and d <= self.max_distance:
                person = nearest
        if person is None:
            person = Person(id=len(self._people))
            self._people.append(person)
        person.tracks[track] = (span, identity)
        self._of_track[track] = person
        return person
