"""Detection accuracy arithmetic: IoU, greedy matching, VOC average precision. No I/O.

The protocol, PASCAL VOC style:

* Within each image, detections are taken best score first; each is matched to the
  not-yet-matched ground-truth box it overlaps most, if that IoU is at least 0.5 (a true
  positive). A detection with no such box is a false positive (duplicates included).
* Average precision is the area under the precision/recall curve with all-point
  interpolation (VOC 2010 onwards): precision at each recall is the best precision at that
  recall or any higher one.
* A size range (by box height) is evaluated COCO style: ground truth outside the range is
  "ignored" -- a detection matched to it counts neither way -- and an unmatched detection
  counts as a false positive only if its own height is in the range.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

Box = tuple[float, float, float, float]  # x1, y1, x2, y2


@dataclass(frozen=True)
class Scored:
    """A detection: its box and score."""

    box: Box
    score: float


@dataclass(frozen=True)
class ImageResult:
    """One image's ground-truth boxes and detections."""

    truth: Sequence[Box]
    detections: Sequence[Scored]
    ignored: Sequence[bool] = ()  # per truth box; empty means none ignored


@dataclass(frozen=True)
class HeightRange:
    """Box heights in [low, high]; `low_open` / `high_open` exclude the ends."""

    low: float = 0.0
    high: float = float("inf")
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, height: object) -> bool:
        if not isinstance(height, int | float):
            return False
        above = height > self.low if self.low_open else height >= self.low
        below = height < self.high if self.high_open else height <= self.high
        return above and below


ALL_SIZES = HeightRange()


@dataclass
class Evaluation:
    """Counts and curve of one evaluation, at one IoU, over one size range."""

    truth_count: int
    # (score, is_true_positive) of every counted detection, best score first.
    ranked: list[tuple[float, bool]] = field(default_factory=list)

    def at(self, threshold: float) -> tuple[int, int]:
        """True and false positives among detections scoring at least `threshold`."""
        tp = sum(1 for score, hit in self.ranked if score >= threshold and hit)
        fp = sum(1 for score, hit in self.ranked if score >= threshold and not hit)
        return tp, fp

    def recall(self, threshold: float) -> float:
        tp, _ = self.at(threshold)
        return tp / self.truth_count if self.truth_count else float("nan")

    def precision(self, threshold: float) -> float:
        tp, fp = self.at(threshold)
        return tp / (tp + fp) if tp + fp else float("nan")

    def average_precision(self) -> float:
        return average_precision([hit for _, hit in self.ranked], self.truth_count)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes; 0 when either is empty."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def match_image(
    image: ImageResult, iou_threshold: float = 0.5, sizes: HeightRange = ALL_SIZES
) -> tuple[int, list[tuple[float, bool]]]:
    """The number of counted truth boxes in `image`, and (score, hit) per counted detection."""
    ignored = [
        (bool(image.ignored[i]) if image.ignored else False) or (box[3] - box[1]) not in sizes
        for i, box in enumerate(image.truth)
    ]
    taken = [False] * len(image.truth)
    counted: list[tuple[float, bool]] = []
    for det in sorted(image.detections, key=lambda d: -d.score):
        best, best_iou = -1, iou_threshold
        # A counted box wins over an ignored one; among equals, the larger overlap.
        for prefer_ignored in (False, True):
            for i, box in enumerate(image.truth):
                if taken[i] or ignored[i] != prefer_ignored:
                    continue
                overlap = iou(det.box, box)
                if overlap >= best_iou:
                    best, best_iou = i, overlap
            if best >= 0:
                break
        if best >= 0:
            taken[best] = True
            if not ignored[best]:
                counted.append((det.score, True))
        elif (det.box[3] - det.box[1]) in sizes:
            counted.append((det.score, False))
    return ignored.count(False), counted


def evaluate(
    images: Sequence[ImageResult], iou_threshold: float = 0.5, sizes: HeightRange = ALL_SIZES
) -> Evaluation:
    """Match every image and rank all counted detections, best score first."""
    total = 0
    ranked: list[tuple[float, bool]] = []
    for image in images:
        count, counted = match_image(image, iou_threshold, sizes)
        total += count
        ranked.extend(counted)
    ranked.sort(key=lambda item: -item[0])  # stable: ties keep image order
    return Evaluation(total, ranked)


def average_precision(hits: Sequence[bool], truth_count: int) -> float:
    """All-point interpolated AP of detections ranked best first (`hits[i]`: a true positive)."""
    if truth_count <= 0:
        return float("nan")
    recalls: list[float] = []
    precisions: list[float] = []
    tp = 0
    for rank, hit in enumerate(hits, start=1):
        tp += hit
        recalls.append(tp / truth_count)
        precisions.append(tp / rank)
    # The precision envelope: at each point, the best precision at this or a higher recall.
    for i in range(len(precisions) - 2, -1, -1):
        precisions[i] = max(precisions[i], precisions[i + 1])
    area, previous_recall = 0.0, 0.0
    for recall, precision in zip(recalls, precisions, strict=True):
        area += (recall - previous_recall) * precision
        previous_recall = recall
    return area
