"""5. Detection speed: the server's detector against bare onnxruntime, and video speed.

Image: `FaceDetector.detect` (pre-processing, inference, heat-map decoding, NMS) on the
640x480 astronaut photo, against a bare `InferenceSession.run` of the same model bytes, with
the same thread count, on the same input tensor. The two alternate run by run.

Video: `process_video` (decode, sample at the server's default rate, detect, track, crop)
on a 10 s 1280x720 30 fps clip with two faces, with a sink that encodes each face as PNG
like the server does.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from ._common import Figure, Settings, Target, astronaut_640x480, median, quartiles
from ._video_clip import two_face_clip

SECTION = "5. Detection speed"
IMAGE_TARGET = Target("<=", 1.2)
VIDEO_TARGET = Target(">=", 5.0)
WARMUP_RUNS = 3


def run(settings: Settings, workdir: Path) -> list[Figure]:
    return [_image(settings), *_video(settings, workdir)]


def _image(settings: Settings) -> Figure:
    import onnxruntime
    from magic_hour_server._detector import FaceDetector, _dynamic_model, model_path

    image = astronaut_640x480()
    threads = os.cpu_count() or 1  # what FaceDetector uses by default
    detector = FaceDetector(threads=threads)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session: Any = onnxruntime.InferenceSession(
        _dynamic_model(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )
    # 640x480 needs no resizing or padding (both sides are multiples of 32).
    tensor = np.ascontiguousarray(image.transpose(2, 0, 1)[None].astype(np.float32))
    input_name = session.get_inputs()[0].name

    def server_side() -> float:
        start = time.perf_counter()
        found = detector.detect(image, 0.5)
        elapsed = time.perf_counter() - start
        if len(found) != 1:
            raise RuntimeError(f"expected one face in the astronaut photo, found {len(found)}")
        return elapsed

    def bare() -> float:
        start = time.perf_counter()
        session.run(None, {input_name: tensor})
        return time.perf_counter() - start

    for _ in range(WARMUP_RUNS):
        server_side()
        bare()
    pairs = []
    for number in range(settings.detection_runs):
        if number % 2 == 0:
            first = server_side()
            pairs.append((first, bare()))
        else:
            second = bare()
            pairs.append((server_side(), second))
    ratios = [ours / theirs for ours, theirs in pairs]
    low, high = quartiles(ratios)
    ours_ms = median([ours for ours, _ in pairs]) * 1000
    bare_ms = median([theirs for _, theirs in pairs]) * 1000
    figure = Figure(SECTION, "detector / bare onnxruntime, 640x480", median(ratios), "x")
    figure.target = IMAGE_TARGET
    figure.context = (
        f"{ours_ms:.1f} vs {bare_ms:.1f} ms per image (median of {len(pairs)};"
        f" ratio IQR {low:.2f}-{high:.2f}); {threads} threads"
    )
    figure.details = {"detector_ms": ours_ms, "bare_ms": bare_ms, "ratios": ratios}
    return figure


class _PngSink:
    """Encodes each face the way the server stores it, and counts them."""

    def __init__(self) -> None:
        self.faces = 0

    def add_face(self, *, crop: Any, **_: Any) -> None:
        crop.save(io.BytesIO(), format="PNG")
        self.faces += 1

    def set_progress(self, fraction: float) -> None:
        pass


def _video(settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour_server._detector import default_detector
    from magic_hour_server._video import process_video

    fps, seconds = 30, settings.video_seconds
    clip = two_face_clip(workdir / "video-720p.mp4", 1280, 720, seconds=seconds, fps=fps)
    detector = default_detector()
    detector.detect(astronaut_640x480(), 0.5)  # the model loads outside the timing
    times, faces = [], []
    for _ in range(settings.video_runs):
        sink = _PngSink()
        start = time.perf_counter()
        process_video(clip, detector, 0.5, sink)
        times.append(time.perf_counter() - start)
        faces.append(sink.faces)
    elapsed = median(times)
    frames = round(seconds * fps)
    context = (
        f"{seconds:g} s 1280x720 {fps} fps clip ({frames} frames) in {elapsed:.2f} s"
        f" (median of {len(times)}, best {min(times):.2f} s);"
        f" face entries for the 2 people: {faces}"
    )
    speed = Figure(SECTION, "video, multiple of real time", seconds / elapsed, "x", VIDEO_TARGET)
    speed.context = context
    speed.details = {"seconds": times, "frames": frames, "faces": faces}
    rate = Figure(SECTION, "video, frames per second", frames / elapsed, " fps")
    return [speed, rate]
