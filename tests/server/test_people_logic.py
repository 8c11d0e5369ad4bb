"""The sans-I/O parts of re-identification: people from tracks, quality, publication."""

from __future__ import annotations

import numpy as np
import pytest
from magic_hour_server.detection._alignment import TEMPLATE
from magic_hour_server.detection._face_quality import (
    FaceQuality,
    UsableLimits,
    frontalness,
    measure,
)
from magic_hour_server.detection._people import MAX_DISTANCE, People, distance, mean_identity
from magic_hour_server.video._video_people import GOOD_VIEW, Casting, Entry, View
from PIL import Image


def unit(*values: float) -> np.ndarray:
    vector = np.zeros(128, dtype=np.float32)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


A, A2, B = unit(1, 0), unit(1, 0.3), unit(0, 1)


def quality(value_height: float = 100, detail: float = 4.0, frontal: float = 1.0) -> FaceQuality:
    return FaceQuality(
        height=value_height, score=0.9, detail=detail, brightness=150, frontal=frontal
    )


def view(time: float, q: FaceQuality, usable: bool = True) -> View:
    return View(
        frame=round(time * 25),
        index=0,
        time=time,
        box=(0, 0, 10, 10),
        score=q.score,
        quality=q,
        usable=usable,
        crop=Image.new("RGB", (4, 4)),
    )


def test_distances_and_means() -> None:
    assert distance(A, A) == pytest.approx(0.0, abs=1e-6)
    assert distance(A, B) == pytest.approx(1.0, abs=1e-6)
    mean = mean_identity([A, A2])
    assert mean is not None and np.linalg.norm(mean) == pytest.approx(1.0, abs=1e-6)
    assert mean_identity([]) is None


def test_tracks_that_match_and_do_not_share_a_frame_are_one_person() -> None:
    people = People()
    first = people.resolve(1, A, (0.0, 1.0))
    assert distance(A, A2) < MAX_DISTANCE
    assert people.resolve(2, A2, (2.0, 3.0)) is first  # after a cut
    assert people.resolve(3, A2, (2.5, 4.0)).id != first.id  # shares frames with track 2
    assert people.resolve(4, B, (5.0, 6.0)).id not in {first.id}  # someone else
    assert people.resolve(5, None, (7.0, 8.0)).id == len(people.people) - 1  # no vote: new


def test_re_resolving_a_track_keeps_its_person() -> None:
    people = People()
    person = people.resolve(1, A, (0.0, 1.0))
    assert people.resolve(1, B, (0.0, 2.0)) is person
    assert person.tracks[1][0] == (0.0, 2.0)


def test_the_usability_line() -> None:
    limits = UsableLimits()
    assert quality().unusable_reason(limits) is None
    assert quality(value_height=30).unusable_reason(limits) == "too small"
    assert quality(detail=1.0).unusable_reason(limits) == "too blurred"
    dark = FaceQuality(height=100, score=0.9, detail=4.0, brightness=20, frontal=1.0)
    assert dark.unusable_reason(limits) == "too dark"
    assert dark.unusable_reason(UsableLimits(keep_all=True)) is None


def test_quality_prefers_larger_sharper_frontal_faces() -> None:
    base = quality()
    assert quality(value_height=150).value > base.value
    assert quality(detail=5.0).value > base.value
    assert quality(frontal=0.2).value < base.value
    edge = FaceQuality(100, 0.9, 4.0, 150, 1.0, at_edge=True)
    assert edge.value < base.value


def test_frontalness_falls_as_the_nose_leaves_the_middle() -> None:
    points = [tuple(p) for p in TEMPLATE * 2 + 30]
    assert frontalness(points) == pytest.approx(1.0, abs=0.01)
    turned = [tuple(p) for p in TEMPLATE.copy()]
    nose_x, nose_y = turned[2]
    half_turned = [*turned[:2], (nose_x + 8, nose_y), *turned[3:]]
    profile = [*turned[:2], (nose_x + 30, nose_y), *turned[3:]]
    assert 0.0 < frontalness(half_turned) < 1.0
    assert frontalness(profile) < frontalness(half_turned)


def test_measure_sees_blur_and_darkness() -> None:
    rng = np.random.default_rng(0)
    sharp = rng.integers(60, 200, size=(112, 112, 3), dtype=np.uint8)
    flat = np.full((112, 112, 3), 128, dtype=np.uint8)
    dark = (sharp * 0.1).astype(np.uint8)
    points = [tuple(p) for p in TEMPLATE]
    assert measure(sharp, points, height=100, score=0.9).detail > 10
    assert measure(flat, points, height=100, score=0.9).detail == 0
    assert measure(dark, points, height=100, score=0.9).brightness < 25


class Recorder:
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def __call__(self, entry: Entry) -> None:
        self.entries.append(entry)


def test_a_good_view_is_published_when_its_track_is_ready_and_once() -> None:
    published = Recorder()
    casting = Casting(published)
    good = quality(value_height=160, detail=5.0)
    assert good.value >= GOOD_VIEW
    casting.seen(1, 0.0)
    casting.vote(1, A, 0.0)
    casting.offer(1, view(0.0, good))
    assert published.entries == []  # not confirmed yet
    casting.ready(1)
    assert [e.view.time for e in published.entries] == [0.0]
    casting.seen(1, 0.5)
    casting.offer(1, view(0.5, good))
    casting.ended(1)
    # The same person again after a cut adds nothing.
    casting.seen(2, 2.0)
    casting.vote(2, A2, 2.0)
    casting.offer(2, view(2.0, good))
    casting.ready(2)
    assert not casting.wants_view(2)  # resolved to a published person
    casting.ended(2)
    casting.finish()
    assert len(published.entries) == 1


def test_a_modest_view_waits_for_a_better_one_after_a_cut() -> None:
    published = Recorder()
    casting = Casting(published, hold=10.0)
    casting.seen(1, 0.0)
    casting.vote(1, A, 0.0)
    casting.offer(1, view(0.0, quality(value_height=50)))
    casting.ready(1)
    casting.ended(1)
    assert published.entries == []  # waiting: the view is usable but modest
    casting.seen(2, 3.0)
    casting.vote(2, A2, 3.0)
    casting.offer(2, view(3.0, quality(value_height=160, detail=5.0)))
    casting.ready(2)
    casting.ended(2)
    assert [e.view.time for e in published.entries] == [3.0]


def test_a_waiting_person_is_published_after_the_hold_or_at_the_end() -> None:
    published = Recorder()
    casting = Casting(published, hold=2.0)
    for track, identity in ((1, A), (2, B)):
        casting.seen(track, 0.0)
        casting.vote(track, identity, 0.0)
        casting.offer(track, view(0.0, quality(value_height=50)))
        casting.ready(track)
        casting.ended(track)
    casting.tick(1.0)
    assert published.entries == []
    casting.tick(2.0)
    assert len(published.entries) == 2
    late = Casting(published2 := Recorder(), hold=60.0)
    late.seen(1, 0.0)
    late.offer(1, view(0.0, quality(value_height=50)))
    late.ended(1)
    late.finish()
    assert len(published2.entries) == 0  # never confirmed: no person
    late.seen(2, 1.0)
    late.offer(2, view(1.0, quality(value_height=50)))
    late.ready(2)
    late.finish()
    assert len(published2.entries) == 1


def test_a_person_with_only_unusable_views_is_never_published() -> None:
    published = Recorder()
    casting = Casting(published)
    casting.seen(1, 0.0)
    casting.offer(1, view(0.0, quality(detail=0.5), usable=False))
    casting.ready(1)
    casting.ended(1)
    casting.finish()
    assert published.entries == []
