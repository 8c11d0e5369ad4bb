"""Accuracy of the server's detector on the labelled face set (FDDB subset) in ../shared.

The detector runs once per image at the lowest confidence, 0.05, to get the whole
precision/recall curve. Figures at the default confidence_score 0.5 come from the same
run: the detector keeps a box on its own score (non-maximum suppression only lets a box
remove lower-scored ones), so the boxes scoring >= 0.5 are the ones a 0.5 run returns.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._common import Figure
from ._matching import ALL_SIZES, Evaluation, HeightRange, ImageResult, Scored, evaluate

SECTION = "6. Accuracy"
DEFAULT_DATA = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "face-eval"
LOWEST_CONFIDENCE = 0.05
DEFAULT_CONFIDENCE = 0.5
IOU = 0.5

SIZES: dict[str, HeightRange] = {
    "all": ALL_SIZES,
    "h < 32 px": HeightRange(0, 32, high_open=True),
    "h 32-96 px": HeightRange(32, 96),
    "h > 96 px": HeightRange(96, low_open=True),
}


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    truth: list[tuple[float, float, float, float]]
    ignored: list[bool]


def load_annotations(root: Path) -> list[LabelledImage]:
    """`annotations.json` of the face-eval set: boxes as x1, y1, x2, y2."""
    entries = json.loads((root / "annotations.json").read_text("utf-8"))
    images = []
    for entry in entries:
        faces = entry["faces"]
        images.append(
            LabelledImage(
                path=root / entry["file"],
                truth=[(f["x"], f["y"], f["x"] + f["w"], f["y"] + f["h"]) for f in faces],
                ignored=[bool(f.get("ignore", False)) for f in faces],
            )
        )
    return images


def detect_all(images: list[LabelledImage]) -> tuple[list[ImageResult], float]:
    """The detector's boxes at the lowest confidence for every image; and seconds spent."""
    from magic_hour_server._detector import default_detector
    from magic_hour_server._media import load_image

    detector = default_detector()
    results = []
    start = time.perf_counter()
    for image in images:
        # The server's own loader: EXIF orientation, grey and CMYK photos made RGB.
        pixels = np.asarray(load_image(image.path))
        found = detector.detect(pixels, LOWEST_CONFIDENCE)
        results.append(
            ImageResult(
                truth=image.truth,
                detections=[Scored((d.x1, d.y1, d.x2, d.y2), d.score) for d in found],
                ignored=image.ignored,
            )
        )
    return results, time.perf_counter() - start


def run(root: Path = DEFAULT_DATA, *, limit: int | None = None) -> list[Figure]:
    """AP at IoU 0.5 and recall/precision at confidence 0.5, overall and by face height."""
    if not (root / "annotations.json").is_file():
        print(f"accuracy: skipped, no labelled set at {root} (../shared is absent)")
        return []
    images = load_annotations(root)[:limit]
    results, seconds = detect_all(images)
    figures = []
    for label, sizes in SIZES.items():
        evaluation = evaluate(results, IOU, sizes)
        figures.extend(_figures(label, evaluation, len(images), seconds))
    return figures


def _figures(label: str, result: Evaluation, image_count: int, seconds: float) -> list[Figure]:
    tp, fp = result.at(DEFAULT_CONFIDENCE)
    counts = {
        "images": image_count,
        "faces": result.truth_count,
        "detections_at_0.05": len(result.ranked),
        "true_positives_at_0.5": tp,
        "false_positives_at_0.5": fp,
    }
    context = (
        f"{result.truth_count} faces in {image_count} images; at 0.5: {tp} TP, {fp} FP;"
        f" {len(result.ranked)} detections at {LOWEST_CONFIDENCE}"
    )
    if label == "all":
        context += f"; {seconds / max(1, image_count) * 1000:.0f} ms/image"
    ap = result.average_precision()
    return [
        Figure(SECTION, f"AP@IoU0.5, {label}", ap, details=counts, context=context),
        Figure(SECTION, f"recall at confidence 0.5, {label}", result.recall(DEFAULT_CONFIDENCE)),
        Figure(
            SECTION, f"precision at confidence 0.5, {label}", result.precision(DEFAULT_CONFIDENCE)
        ),
    ]


def height_counts(images: list[LabelledImage]) -> dict[str, int]:
    """Ground-truth faces per height range (to check against the set's README)."""
    return {
        label: sum(1 for image in images for box in image.truth if box[3] - box[1] in sizes)
        for label, sizes in SIZES.items()
    }


__all__ = ["DEFAULT_DATA", "SECTION", "height_counts", "load_annotations", "run"]
