"""5. Detection speed: the server's detector against bare onnxruntime, and video speed.

Image: `FaceDetector.detect` (pre-processing, inference, heat-map decoding, NMS) on the
640x480 astronaut photo, against a bare `InferenceSession.run` of the best fp32 graph (the
prepared one), with the same thread count, on the same input tensor; beside them the
shipped graph run bare, so the preparation's gain shows, and the int8 detector. The four
take turns within each round.

Video: `process_video` (decode, sample at the server's default rate, detect, track, crop)
on 10 s 30 fps clips with two faces at 720p, 1080p and 2160p (not 2160p in a quick run),
with a sink that encodes each face as PNG like the server does.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ._common import Figure, Settings, Target, astronaut_640x480, median, quartiles
from ._video_clip import two_face_clip

SECTION = "5. Detection speed"
IMAGE_TARGET = Target("<=", 1.1)
DETECT_MS_TARGET = Target("<=", 20.0)
VIDEO_TARGET = Target(">=", 20.0)
WARMUP_RUNS = 3


def run(settings: Settings, workdir: Path) -> list[Figure]:
    return [*_image(settings), *_video(settings, workdir)]


def _bare_session(model: bytes, threads: int) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )


def _image(settings: Settings) -> list[Figure]:
    from magic_hour_server.detection._detector import FaceDetector
    from magic_hour_server.detection._detector_model import fp32_model, shipped_model

    image = astronaut_640x480()
    threads = os.cpu_count() or 1  # what FaceDetector uses by default
    detector = FaceDetector(threads=threads)
    int8 = FaceDetector(threads=threads, precision="int8")
    best = _bare_session(fp32_model(), threads)
    shipped = _bare_session(shipped_model(), threads)
    # 640x480 needs no resizing or padding (both sides are multiples of 32).
    tensor = np.ascontiguousarray(image.transpose(2, 0, 1)[None].astype(np.float32))
    input_name = best.get_inputs()[0].name

    def timed(action: Callable[[], object]) -> float:
        start = time.perf_counter()
        action()
        return time.perf_counter() - start

    def server_side() -> None:
        found = detector.detect(image, 0.5)
        if len(found) != 1:
            raise RuntimeError(f"expected one face in the astronaut photo, found {len(found)}")

    runs: dict[str, Callable[[], object]] = {
        "server": server_side,
        "bare": lambda: best.run(None, {input_name: tensor}),
        "shipped": lambda: shipped.run(None, {input_name: tensor}),
        "int8": lambda: int8.detect(image, 0.5),
    }
    for _ in range(WARMUP_RUNS):
        for action in runs.values():
            action()
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for number in range(settings.detection_runs):
        # Each round runs all four, starting from a different one each time.
        for name in names[number % 4 :] + names[: number % 4]:
            times[name].append(timed(runs[name]))
    ratios = [ours / theirs for ours, theirs in zip(times["server"], times["bare"], strict=True)]
    low, high = quartiles(ratios)
    ms = {name: median(values) * 1000 for name, values in times.items()}
    figure = Figure(SECTION, "detector / best fp32 graph bare, 640x480", median(ratios), "x")
    figure.target = IMAGE_TARGET
    figure.context = (
        f"{ms['server']:.1f} vs {ms['bare']:.1f} ms per image (median of {len(ratios)};"
        f" ratio IQR {low:.2f}-{high:.2f}); {threads} threads; the shipped graph run bare:"
        f" {ms['shipped']:.1f} ms ({ms['shipped'] / ms['bare']:.2f}x the prepared one)"
    )
    figure.details = {"ms": ms, "ratios": ratios}
    return [
        figure,
        Figure(SECTION, "detector, 640x480, median", ms["server"], " ms", DETECT_MS_TARGET),
        Figure(
            SECTION,
            "int8 detector, 640x480, median",
            ms["int8"],
            " ms",
            context=f"{ms['server'] / ms['int8']:.2f}x faster than fp32 (int8 precision)",
        ),
    ]


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
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._embedder import default_embedder
    from magic_hour_server.video._video import process_video

    fps, seconds = 30, settings.video_seconds
    detector, embedder = default_detector(), default_embedder()
    detector.detect(astronaut_640x480(), 0.5)  # the models load outside the timing
    embedder.embed([])
    figures = []
    sizes = [(1280, 720, VIDEO_TARGET), (1920, 1080, None), (3840, 2160, None)]
    for width, height, target in sizes[:2] if settings.quick else sizes:
        clip = two_face_clip(workdir / f"video-{height}p.mp4", width, height, seconds=seconds)
        times, faces = [], []
        for _ in range(settings.video_runs):
            sink = _PngSink()
            start = time.perf_counter()
            process_video(clip, detector, 0.5, sink, embedder=embedder)
            times.append(time.perf_counter() - start)
            faces.append(sink.faces)
        elapsed = median(times)
        frames = round(seconds * fps)
        context = (
            f"{seconds:g} s {width}x{height} {fps} fps clip ({frames} frames) in {elapsed:.2f} s"
            f" (median of {len(times)}, best {min(times):.2f} s);"
            f" face entries for the 2 people: {faces}"
        )
        name = f"video {height}p, multiple of real time"
        speed = Figure(SECTION, name, seconds / elapsed, "x", target, context)
        speed.details = {"seconds": times, "frames": frames, "faces": faces}
        rate = Figure(SECTION, f"video {height}p, frames per second", frames / elapsed, " fps")
        figures += [speed, rate]
    return figures
