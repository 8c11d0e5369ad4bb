"""Unit tests of the tracker on synthetic detections with known identities."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest
from magic_hour_server.video._tracking import Box, Seen, Tracker, Update, iou, look_of

STEP = 0.25  # seconds between samples (4 per second)


def square(cx: float, cy: float, side: float = 60.0) -> Box:
    half = side / 2
    return cx - half, cy - half, cx + half, cy + half


class Run:
    """Feeds samples to a tracker and records, for each sample, the track of each box."""

    def __init__(self, tracker: Tracker) -> None:
        self.tracker = tracker
        self.assigned: list[list[int]] = []
        self.published: list[int] = []
        self.ended: list[int] = []

    def feed(self, samples: Sequence[Sequence[Box]]) -> None:
        for number, boxes in enumerate(samples):
            self._record(self.tracker.update(number * STEP, boxes))
        self._record(self.tracker.finish())

    def _record(self, update: Update) -> None:
        if update.assigned:
            self.assigned.append(update.assigned)
        assert not set(update.ready) & set(self.published), "a track was published twice"
        self.published.extend(update.ready)
        self.ended.extend(update.ended)


def people(count: int, place: Callable[[int, int], Box | None]) -> list[list[Box]]:
    """Samples where person p is at place(sample, p), left to right, absent when None."""
    samples = []
    for number in range(count):
        boxes = [box for p in range(2) if (box := place(number, p)) is not None]
        samples.append(sorted(boxes))
    return samples


def test_iou_of_identical_disjoint_and_half_overlapping_boxes() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == pytest.approx(1.0)
    assert iou((0, 0, 10, 10), (20, 0, 30, 10)) == 0.0
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)


def test_a_face_moving_steadily_is_one_track() -> None:
    run = Run(Tracker())
    run.feed([[square(40 + 25 * n, 100)] for n in range(12)])
    assert len({ids[0] for ids in run.assigned}) == 1
    assert len(run.published) == 1


def test_two_people_side_by_side_stay_apart() -> None:
    run = Run(Tracker())
    # Faces 70 px apart (a little more than one face width), both swaying slightly.
    run.feed(people(16, lambda n, p: square(100 + 70 * p + (n % 3) * 4, 120)))
    assert all(len(ids) == 2 for ids in run.assigned)
    left = {ids[0] for ids in run.assigned}
    right = {ids[1] for ids in run.assigned}
    assert len(left) == 1 and len(right) == 1 and left != right
    assert sorted(run.published) == sorted(left | right)


def test_crossing_paths_keep_identities_by_motion() -> None:
    # Two faces walk towards each other along the same line and pass; at the crossing the
    # detector sees only one of them for a sample (the other is hidden behind it).
    def place(n: int, p: int) -> Box | None:
        x = 40 + 30 * n if p == 0 else 520 - 30 * n
        if n == 8 and p == 1:
            return None
        return square(x, 200 + 10 * p)

    run = Run(Tracker())
    samples = people(17, place)
    run.feed(samples)
    tracks_of_walker: dict[int, set[int]] = {0: set(), 1: set()}
    for n, (boxes, ids) in enumerate(zip(samples, run.assigned, strict=True)):
        for box, track_id in zip(boxes, ids, strict=True):
            # Whichever walker is at this x: walker 0 moves right, walker 1 moves left.
            walker = 0 if abs((box[0] + box[2]) / 2 - (40 + 30 * n)) < 1 else 1
            tracks_of_walker[walker].add(track_id)
    assert tracks_of_walker[0] == {run.assigned[0][0]}
    assert tracks_of_walker[1] == {run.assigned[0][1]}
    assert len(run.published) == 2


def test_a_brief_miss_does_not_start_a_new_track() -> None:
    samples: list[list[Box]] = [[square(100 + 20 * n, 100)] for n in range(12)]
    samples[5] = []
    samples[6] = []
    run = Run(Tracker(max_missed=3))
    run.feed(samples)
    assert len({ids[0] for ids in run.assigned}) == 1
    assert len(run.published) == 1


def test_a_long_absence_starts_a_new_track() -> None:
    samples: list[list[Box]] = [[square(100, 100)] for _ in range(12)]
    for n in range(4, 9):
        samples[n] = []
    run = Run(Tracker(max_missed=3))
    run.feed(samples)
    assert len({ids[0] for ids in run.assigned}) == 2


def test_a_single_sample_false_positive_is_not_published() -> None:
    samples: list[list[Box]] = [[square(100, 100)] for _ in range(8)]
    samples[3] = [square(100, 100), square(400, 300)]
    run = Run(Tracker(min_hits=2))
    run.feed(samples)
    flash = run.assigned[3][1]
    assert flash not in run.published
    assert flash in run.ended
    assert run.published == [run.assigned[0][0]]


def test_a_one_sample_video_still_publishes_its_face() -> None:
    run = Run(Tracker(min_hits=2))
    run.feed([[square(100, 100)]])
    assert run.published == [run.assigned[0][0]]


def test_a_long_track_is_published_after_publish_after_hits_not_at_its_end() -> None:
    tracker = Tracker(min_hits=2, publish_after=5)
    updates = [tracker.update(n * STEP, [square(100 + 5 * n, 100)]) for n in range(10)]
    ready_at = [n for n, update in enumerate(updates) if update.ready]
    assert ready_at == [4]  # the fifth hit
    assert tracker.finish().ready == []


def test_a_much_bigger_box_at_the_same_place_is_another_face() -> None:
    tracker = Tracker(max_scale=1.8)
    first = tracker.update(0.0, [square(200, 200, 40)])
    second = tracker.update(STEP, [square(200, 200, 120)])
    assert first.assigned != second.assigned


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="min_hits"):
        Tracker(min_hits=3, publish_after=2)


def test_faint_detections_near_a_face_do_not_take_its_track() -> None:
    # What a detector gives at confidence 0: the face, plus faint boxes all around it.
    def faint(n: int) -> list[Box]:
        return [square(80 + 20 * n + dx, 100 + dy, 70) for dx, dy in ((-25, -15), (20, 20))]

    tracker = Tracker()
    face_tracks = set()
    for n in range(10):
        boxes = [square(80 + 20 * n, 100), *faint(n)]
        seen = [Seen(box, score) for box, score in zip(boxes, [0.9, 0.02, 0.01], strict=True)]
        face_tracks.add(tracker.update(n * STEP, seen).assigned[0])
    assert len(face_tracks) == 1


def test_a_different_look_in_the_same_place_is_another_track() -> None:
    red, grey = np.zeros(64), np.zeros(64)
    red[48], grey[21] = 1.0, 1.0
    tracker = Tracker(min_likeness=0.5)
    first = [tracker.update(n * STEP, [Seen(square(100, 100), 0.9, red)]) for n in range(4)]
    then = [tracker.update((n + 4) * STEP, [Seen(square(100, 100), 0.9, grey)]) for n in range(4)]
    assert len({u.assigned[0] for u in first}) == 1
    assert len({u.assigned[0] for u in then}) == 1
    assert first[0].assigned != then[0].assigned
    # Without the look, the same boxes are one track.
    plain = Tracker()
    assert len({plain.update(n * STEP, [square(100, 100)]).assigned[0] for n in range(8)}) == 1


def test_look_of_is_a_unit_vector_that_tells_colours_apart() -> None:
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    image[:, :100] = (200, 40, 40)
    image[:, 100:] = (90, 90, 90)
    left, right = look_of(image, (10, 10, 90, 90)), look_of(image, (110, 10, 190, 90))
    assert float(left @ left) == pytest.approx(1.0)
    assert float(left @ right) == pytest.approx(0.0)
    assert float(left @ look_of(image, (20, 20, 80, 80))) == pytest.approx(1.0)
