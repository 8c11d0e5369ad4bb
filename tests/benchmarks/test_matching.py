"""The accuracy arithmetic of the benchmarks, on boxes small enough to check by hand."""

from __future__ import annotations

import math

import pytest

from benchmarks._matching import (
    HeightRange,
    ImageResult,
    Scored,
    average_precision,
    evaluate,
    iou,
    match_image,
)


def test_iou_of_identical_disjoint_and_half_shifted_boxes() -> None:
    assert iou((0, 0, 10, 10), (0, 0, 10, 10)) == 1.0
    assert iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0
    assert iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0  # touching edges
    assert iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert iou((0, 0, 0, 10), (0, 0, 0, 10)) == 0.0  # empty boxes


def test_average_precision_interpolates_over_all_points() -> None:
    assert average_precision([True, True], 2) == pytest.approx(1.0)
    assert average_precision([True], 2) == pytest.approx(0.5)
    # recall .5 at precision 1, then a miss, then recall 1 at precision 2/3:
    # the envelope keeps 1 up to recall .5 and 2/3 from there.
    assert average_precision([True, False, True], 2) == pytest.approx(0.5 + 0.5 * 2 / 3)
    # a false positive ranked first lowers the whole curve.
    assert average_precision([False, True, True], 2) == pytest.approx(2 / 3)
    assert average_precision([], 3) == 0.0
    assert math.isnan(average_precision([False], 0))


def test_a_duplicate_detection_is_a_false_positive() -> None:
    image = ImageResult(
        truth=[(0, 0, 10, 10)],
        detections=[Scored((0, 0, 10, 10), 0.9), Scored((0, 0, 10, 9), 0.8)],
    )
    assert match_image(image) == (1, [(0.9, True), (0.8, False)])


def test_the_best_scored_detection_takes_the_box_even_with_less_overlap() -> None:
    image = ImageResult(
        truth=[(0, 0, 10, 10)],
        detections=[Scored((0, 0, 10, 6), 0.6), Scored((0, 0, 10, 10), 0.9)],
    )
    # 0.9 matches (IoU 1); 0.6 (IoU 0.6) finds the box taken.
    assert match_image(image) == (1, [(0.9, True), (0.6, False)])
    weaker = ImageResult(truth=image.truth, detections=[Scored((0, 0, 10, 4), 0.9)])
    assert match_image(weaker) == (1, [(0.9, False)])  # IoU 0.4 < 0.5


def test_each_detection_picks_its_most_overlapping_free_box() -> None:
    image = ImageResult(
        truth=[(0, 0, 10, 10), (4, 0, 14, 10)],
        detections=[Scored((4, 0, 14, 10), 0.9), Scored((0, 0, 10, 10), 0.8)],
    )
    assert match_image(image) == (2, [(0.9, True), (0.8, True)])


def test_size_ranges_ignore_other_boxes_and_count_only_detections_in_range() -> None:
    small_face, large_face = (0, 0, 20, 20), (100, 100, 200, 200)
    image = ImageResult(
        truth=[small_face, large_face],
        detections=[
            Scored(small_face, 0.9),  # matches an ignored box: neither hit nor miss
            Scored(large_face, 0.8),
            Scored((300, 300, 310, 310), 0.7),  # a small false positive: outside the range
            Scored((300, 0, 400, 100), 0.6),  # a large false positive
        ],
    )
    large = HeightRange(96, float("inf"), low_open=True)
    assert match_image(image, sizes=large) == (1, [(0.8, True), (0.6, False)])
    small = HeightRange(0, 32, high_open=True)
    assert match_image(image, sizes=small) == (1, [(0.9, True), (0.7, False)])


def test_marked_ignored_boxes_are_not_counted() -> None:
    image = ImageResult(
        truth=[(0, 0, 10, 10)], detections=[Scored((0, 0, 10, 10), 0.9)], ignored=[True]
    )
    assert match_image(image) == (0, [])


def test_evaluate_ranks_across_images_and_reports_recall_and_precision() -> None:
    images = [
        ImageResult(truth=[(0, 0, 10, 10)], detections=[Scored((0, 0, 10, 10), 0.4)]),
        ImageResult(
            truth=[(0, 0, 10, 10), (50, 50, 60, 60)],
            detections=[Scored((0, 0, 10, 10), 0.9), Scored((20, 20, 30, 30), 0.7)],
        ),
    ]
    result = evaluate(images)
    assert result.truth_count == 3
    assert result.ranked == [(0.9, True), (0.7, False), (0.4, True)]
    assert result.at(0.5) == (1, 1)
    assert result.recall(0.5) == pytest.approx(1 / 3)
    assert result.precision(0.5) == pytest.approx(0.5)
    assert result.recall(0.0) == pytest.approx(2 / 3)
    # recall 1/3 at precision 1, then 2/3 at precision 2/3.
    assert result.average_precision() == pytest.approx(1 / 3 + 1 / 3 * 2 / 3)


def test_height_range_ends() -> None:
    medium = HeightRange(32, 96)
    assert 32 in medium and 96 in medium and 31.9 not in medium and 96.1 not in medium
    assert 32 not in HeightRange(0, 32, high_open=True)
    assert 96 not in HeightRange(96, low_open=True)
