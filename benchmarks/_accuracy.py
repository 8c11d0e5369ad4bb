"""Accuracy of the server's detector on the labelled face sets in ../shared.

Each set is reported on its own: face-eval (FDDB news photos, faces mostly 30-200 px) and,
when present, face-eval-wider-sample (WIDER FACE crowds, faces mostly under 32 px).

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
from typing import Any

import numpy as np

from ._common import Figure
from ._matching import ALL_SIZES, Evaluation, HeightRange, ImageResult, Scored, evaluate

SECTION = "6. Accuracy"
SHARED_DATA = Path(__file__).resolve().parent.parent / ".." / "shared" / "data"
DEFAULT_DATA = SHARED_DATA / "face-eval"
DEFAULT_SETS = (DEFAULT_DATA, SHARED_DATA / "face-eval-wider-sample")
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


def detect_all(
    images: list[LabelledImage], detector: Any = None, shrink: int = 1
) -> tuple[list[ImageResult], float]:
    """The detector's boxes at the lowest confidence for every image; and seconds spent.

    With `shrink`, each photo and its boxes are first scaled down by that factor: the same
    people as smaller faces.
    """
    from magic_hour_server._media import load_image
    from magic_hour_server.detection._detector import default_detector
    from PIL import Image

    detector = detector or default_detector()
    results = []
    start = time.perf_counter()
    for image in images:
        # The server's own loader: EXIF orientation, grey and CMYK photos made RGB.
        picture = load_image(image.path)
        truth = image.truth
        if shrink > 1:
            size = (max(1, picture.width // shrink), max(1, picture.height // shrink))
            picture = picture.resize(size, Image.Resampling.BILINEAR)
            truth = [tuple(v / shrink for v in box) for box in truth]  # type: ignore[misc]
        found = detector.detect(np.asarray(picture), LOWEST_CONFIDENCE)
        results.append(
            ImageResult(
                truth=truth,
                detections=[Scored((d.x1, d.y1, d.x2, d.y2), d.score) for d in found],
                ignored=image.ignored,
            )
        )
    return results, time.perf_counter() - start


VARIANTS = {
    "int8": {"precision": "int8"},
    "multi-scale": {"multi_scale": True},
}
SHRINK = 4


def run_sets(roots: list[Path], *, limit: int | None = None) -> list[Figure]:
    """`run` on each set; the first keeps the plain section name, the others add theirs."""
    figures = []
    for number, root in enumerate(roots):
        found = run(root, limit=limit)
        if number > 0:
            for figure in found:
                figure.section += f" - {root.name}"
        figures.extend(found)
    return figures


def run(root: Path = DEFAULT_DATA, *, limit: int | None = None) -> list[Figure]:
    """AP at IoU 0.5 and recall/precision at confidence 0.5, overall and by face height.

    The server's detector (fp32, one scale) on the set as it is; then, beside it in the
    same run, the int8 detector and multi-scale detection; then all three on the set
    shrunk by 4, where most faces are under 32 px. A set whose faces are mostly under
    32 px already is not shrunk: its faces would be a few pixels high.
    """
    from magic_hour_server.detection._detector import FaceDetector, default_detector

    if not (root / "annotations.json").is_file():
        print(f"accuracy: skipped, no labelled set at {root} (../shared is absent)")
        return []
    images = load_annotations(root)[:limit]
    counts = height_counts(images)
    shrinks = (1, SHRINK) if counts["h < 32 px"] * 2 < counts["all"] else (1,)
    detectors = {"fp32": default_detector()}
    detectors.update({name: FaceDetector(**kw) for name, kw in VARIANTS.items()})  # type: ignore[arg-type]
    figures = []
    evaluations: dict[tuple[str, int], dict[str, Evaluation]] = {}
    for shrink in shrinks:
        for name, detector in detectors.items():
            results, seconds = detect_all(images, detector, shrink)
            by_size = {label: evaluate(results, IOU, sizes) for label, sizes in SIZES.items()}
            evaluations[(name, shrink)] = by_size
            if name == "fp32" and shrink == 1:
                for label, evaluation in by_size.items():
                    figures.extend(_figures(label, evaluation, len(images), seconds))
                continue
            figures.extend(_variant_figures(name, shrink, by_size, len(images), seconds))
    figures.append(_int8_verdict(evaluations))
    return figures


def _variant_figures(
    name: str, shrink: int, by_size: dict[str, Evaluation], image_count: int, seconds: float
) -> list[Figure]:
    where = f"{name}, photos shrunk {shrink}x" if shrink > 1 else name
    figures = []
    for label, result in by_size.items():
        context = f"{result.truth_count} faces"
        if label == "all":
            context += f"; {seconds / max(1, image_count) * 1000:.0f} ms/image"
        figures.append(
            Figure(SECTION, f"{where}: AP@IoU0.5, {label}", result.average_precision(),
                   context=context)
        )  # fmt: skip
        figures.append(
            Figure(SECTION, f"{where}: recall at 0.5, {label}", result.recall(DEFAULT_CONFIDENCE))
        )
    return figures


def _int8_verdict(evaluations: dict[tuple[str, int], dict[str, Evaluation]]) -> Figure:
    """Whether int8 may be the default: AP down by less than 0.005, recall under 96 px kept."""
    fp32, int8 = evaluations[("fp32", 1)], evaluations[("int8", 1)]
    ap_drop = fp32["all"].average_precision() - int8["all"].average_precision()
    recall_drops = {
        label: fp32[label].recall(DEFAULT_CONFIDENCE) - int8[label].recall(DEFAULT_CONFIDENCE)
        for label in ("h < 32 px", "h 32-96 px")
    }
    ok = ap_drop < 0.005 and all(drop <= 0 for drop in recall_drops.values())
    context = (
        f"AP drop {ap_drop:+.4f} (must be < 0.005); recall drop under 32 px "
        f"{recall_drops['h < 32 px']:+.3f}, 32-96 px {recall_drops['h 32-96 px']:+.3f} "
        f"(must be <= 0): int8 {'may be' if ok else 'stays opt-in, not'} the default"
    )
    return Figure(SECTION, "int8 AP drop against fp32", ap_drop, "", None, context)


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


__all__ = [
    "DEFAULT_DATA",
    "DEFAULT_SETS",
    "SECTION",
    "height_counts",
    "load_annotations",
    "run",
    "run_sets",
]
