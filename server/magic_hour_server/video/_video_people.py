"""From tracks to entries: each person of a video published once, with their best usable view.

`Casting` keeps, for every live track, its span, its identity votes (face embeddings) and its
best view so far. When the tracker says a track is ready (it ended, or it has run long
enough to publish), the track is resolved to a person (`_people.People`): an earlier
person when the faces match, a new one otherwise. A person is published once, with the
best usable view among their tracks resolved by then; a later track of a person already
published adds no entry. Nothing here touches a file or a model.

Publication latency against duplicates and crop quality: a track is resolved when it ends
or after the tracker's `publish_after` samples (3 s of video by default), whichever comes
first, and is compared with the people resolved before it; holding tracks longer would not
find more matches, since every earlier person is already known. A person's entry waits for
a good view (`GOOD_VIEW`) up to `HOLD_SECONDS` of video, so that a person first seen small
in a wide shot is published with their close-up when one follows soon after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from magic_hour_server.detection._people import Identity, People, Person, mean_identity

if TYPE_CHECKING:
    from PIL import Image

    from magic_hour_server.detection._face_quality import FaceQuality

MAX_VOTES = 16
"""Identity votes kept per track: enough for a steady mean, bounded for long shots."""
GOOD_VIEW = 0.5
"""A person whose best view reaches this quality (`FaceQuality.value`) is published at once:
on real footage a sharp, frontal, well-lit face about 100 px tall or more."""
HOLD_SECONDS = 10.0
"""Otherwise a person waits at most this long (video time from their first sighting) for a
better view, which a later shot of them, after a cut, often brings."""


@dataclass(frozen=True)
class View:
    """A candidate crop of a face: where and when it was taken, and how good it is."""

    frame: int
    index: int
    time: float
    box: tuple[int, int, int, int]
    score: float
    quality: FaceQuality
    usable: bool
    crop: Image.Image

    def better_than(self, other: View | None) -> bool:
        if other is None:
            return True
        if self.usable != other.usable:
            return self.usable
        return self.quality.value > other.quality.value


@dataclass
class _Track:
    first: float
    last: float
    votes: list[Identity] = field(default_factory=list)
    last_vote: float | None = None
    view: View | None = None

    @property
    def span(self) -> tuple[float, float]:
        return self.first, self.last


@dataclass
class _Waiting:
    person: Person
    view: View
    since: float


@dataclass(frozen=True)
class Entry:
    """A published face: its view and the person it stands for."""

    person: int
    view: View


class Casting:
    """The people of one video as its tracks come and go; `publish` receives each entry.

    A resolved person waits, with the best usable view of all their resolved tracks, until
    that view is good enough (`GOOD_VIEW`), or `hold` seconds of video have passed since
    they were first seen, or the video ends: whichever comes first.
    """

    def __init__(
        self,
        publish: Callable[[Entry], None],
        people: People | None = None,
        *,
        hold: float = HOLD_SECONDS,
    ) -> None:
        self._publish = publish
        self.people = people or People()
        self.hold = hold
        self._tracks: dict[int, _Track] = {}
        self._waiting: dict[int, _Waiting] = {}
        self.entries: list[Entry] = []

    def seen(self, track: int, time: float) -> None:
        """`track` was matched in the sample at `time`."""
        state = self._tracks.get(track)
        if state is None:
            self._tracks[track] = _Track(first=time, last=time)
        else:
            state.last = time

    def vote(self, track: int, identity: Identity, time: float) -> None:
        state = self._tracks[track]
        if len(state.votes) < MAX_VOTES:
            state.votes.append(identity)
        state.last_vote = time

    def votes(self, track: int) -> tuple[int, float | None]:
        """How many votes `track` has, and when it had the last one."""
        state = self._tracks.get(track)
        return (0, None) if state is None else (len(state.votes), state.last_vote)

    def wants_view(self, track: int) -> bool:
        """Whether a new view of `track` could still matter (its person is not published)."""
        person = self.people.of_track(track)
        return person is None or not person.published

    def offer(self, track: int, view: View) -> None:
        """Keep `view` as `track`'s best if it is better than what the track has."""
        state = self._tracks[track]
        if not self.wants_view(track) or not view.better_than(state.view):
            return
        state.view = view
        person = self.people.of_track(track)
        if person is not None:
            self._consider(person, view, view.time)

    def ready(self, track: int) -> None:
        """The tracker confirmed `track` and says it may be resolved now."""
        self._resolve(track, final=False)

    def ended(self, track: int) -> None:
        """`track` stopped: resolved for good if it was confirmed, forgotten otherwise."""
        if self.people.of_track(track) is not None:
            self._resolve(track, final=True)
        else:
            self._tracks.pop(track, None)

    def tick(self, time: float) -> None:
        """Video time reached `time`: publish the people who waited long enough."""
        for person_id, waiting in list(self._waiting.items()):
            if time - waiting.since >= self.hold:
                self._emit(person_id)

    def finish(self) -> None:
        """The video ended: everyone still waiting is published."""
        for person_id in list(self._waiting):
            self._emit(person_id)

    def person_of(self, track: int) -> int | None:
        person = self.people.of_track(track)
        return None if person is None else person.id

    def _resolve(self, track: int, *, final: bool) -> None:
        state = self._tracks[track] if not final else self._tracks.pop(track)
        person = self.people.resolve(track, mean_identity(state.votes), state.span)
        if state.view is not None and not person.published:
            self._consider(person, state.view, state.last)
        if person.published:
            state.view = None  # nothing more to choose: free the crop

    def _consider(self, person: Person, view: View, time: float) -> None:
        """`view` is a candidate for `person`, seen up to `time`."""
        if person.published or not view.usable:
            return
        waiting = self._waiting.get(person.id)
        if waiting is None:
            first = min(span[0] for span, _ in person.tracks.values())
            waiting = self._waiting[person.id] = _Waiting(person, view, since=first)
        elif view.better_than(waiting.view):
            waiting.view = view
        if waiting.view.quality.value >= GOOD_VIEW or time - waiting.since >= self.hold:
            self._emit(person.id)

    def _emit(self, person_id: int) -> None:
        waiting = self._waiting.pop(person_id)
        waiting.person.published = True
        entry = Entry(person_id, waiting.view)
        self.entries.append(entry)
        self._publish(entry)
        for track in waiting.person.tracks:
            state = self._tracks.get(track)
            if state is not None:
                state.view = None  # nothing more to choose: free the crop
