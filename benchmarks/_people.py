"""7. People in videos: labelled clips judged as a person would judge them, and costs.

Per labelled clip (`tests/video/people_clips.json`, built from photographs; and the real
stage clip in ../shared/data/videos, labelled by hand in `benchmarks/labels/`): extra
entries (a person listed more than once), people missed, people merged with someone else,
unusable crops reported (targets: 0 each), and the speed as a multiple of real time. Then
the embedding's cost per face, and a crowd (160 faces in 720p) for time and memory.
"""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path
from typing import Any

from ._common import Figure, Settings, Target, median

SECTION = "7. People in videos"
SHARED_VIDEOS = Path(__file__).resolve().parent.parent / ".." / "shared" / "data" / "videos"
LABELS = Path(__file__).resolve().parent / "labels"
ZERO = Target("<=", 0)


def run(settings: Settings, workdir: Path) -> list[Figure]:
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._embedder import default_embedder

    from tests.video.people import HandLabels, built_clips

    detector, embedder = default_detector(), default_embedder()
    clips: list[tuple[str, Path, Any, float]] = []
    for clip in built_clips():
        path = clip.write(workdir / f"{clip.name}.mp4")
        clips.append((clip.name, path, clip, clip.seconds))
    for label_file in sorted(LABELS.glob("*.json")):
        labels = HandLabels.load(label_file)
        video = SHARED_VIDEOS / labels.clip
        if video.is_file():
            clips.append((labels.clip, video, labels, _duration(video)))
    figures: list[Figure] = []
    for name, path, labels, seconds in clips:
        figures.extend(_clip(name, path, labels, seconds, detector, embedder))
    figures.extend(_embedding_cost(detector, embedder))
    figures.extend(_crowd(settings, workdir, detector, embedder))
    return figures


def _duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.duration is not None and stream.time_base is not None
        return float(stream.duration * stream.time_base)


def _clip(
    name: str, path: Path, labels: Any, seconds: float, detector: Any, embedder: Any
) -> list[Figure]:
    from magic_hour_server.video._video import process_video

    from tests.video.people import IgnoringSink, score

    start = time.perf_counter()
    found = process_video(path, detector, 0.5, IgnoringSink(), embedder=embedder)
    elapsed = time.perf_counter() - start
    result = score(labels, found)
    extra = sum(max(0, result.entries.get(n, 0) - 1) for n in result.usable_people)
    context = (
        f"{result.summary()}; {len(found.entries)} entries; "
        f"{found.embeddings} faces embedded; {seconds:.1f} s of video in {elapsed:.2f} s"
    )
    section = f"{SECTION}: {name}"
    details = {
        "entries": result.entries,
        "merged": result.merged,
        "embeddings": found.embeddings,
        "seconds": elapsed,
    }
    return [
        Figure(section, "extra entries (a person listed twice)", extra, "", ZERO, context, details),
        Figure(section, "usable people missed", len(result.missed), "", ZERO),
        Figure(section, "people merged with someone else", result.people_merged, "", ZERO),
        Figure(section, "unusable crops reported", result.unusable_reported, "", ZERO),
        Figure(section, "multiple of real time", seconds / elapsed, "x"),
    ]


def _embedding_cost(detector: Any, embedder: Any) -> list[Figure]:
    import numpy as np
    from magic_hour_server.detection._alignment import align
    from PIL import Image

    from ._common import astronaut_640x480

    picture = astronaut_640x480()
    (face,) = detector.detect(picture, 0.5)
    aligned = align(picture, face.landmarks)
    shipped = _shipped_sface()
    blob = {"data": aligned.astype(np.float32)[None].transpose(0, 3, 1, 2)}
    shipped.run(None, blob)
    single, batch, bare = [], [], []
    for _ in range(20):
        start = time.perf_counter()
        embedder.embed([aligned])
        single.append(time.perf_counter() - start)
        start = time.perf_counter()
        shipped.run(None, blob)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        embedder.embed([aligned] * 8)
        batch.append((time.perf_counter() - start) / 8)
    small = np.asarray(Image.fromarray(picture).resize((416, 312)))
    detections = []
    for _ in range(10):
        start = time.perf_counter()
        detector.detect(small, 0.5)
        detections.append(time.perf_counter() - start)
    one, eight, detect = median(single) * 1000, median(batch) * 1000, median(detections) * 1000
    shipped_ms = median(bare) * 1000
    context = (
        f"alone {one:.1f} ms, in a batch of 8 {eight:.1f} ms per face; one detection "
        f"pass at the video working size (416 px) {detect:.1f} ms (medians)"
    )
    details = {"single_ms": one, "batch8_ms": eight, "detect_416_ms": detect}
    return [
        Figure(SECTION, "embedding, ms per face", one, " ms", None, context, details),
        Figure(
            SECTION,
            "embedding / the shipped SFace graph run bare",
            one / shipped_ms,
            "x",
            None,
            f"{one:.1f} vs {shipped_ms:.1f} ms per face, one thread each, alternating"
            " (medians of 20): the shipped graph's PRelu as onnxruntime runs it",
            {"shipped_ms": shipped_ms},
        ),
    ]


def _shipped_sface() -> Any:
    """SFace as the package ships it (only its weights no longer listed as inputs), in the
    embedder's session options."""
    import onnx
    from magic_hour_server.detection._embedder import model_path, session
    from magic_hour_server.detection._onnx_graph import without_weight_inputs

    model = without_weight_inputs(onnx.load(str(model_path())))
    return session(model.SerializeToString(), 1)


def _crowd(settings: Settings, workdir: Path, detector: Any, embedder: Any) -> list[Figure]:
    from magic_hour_server.video._video import process_video

    from tests.video.clips import MovingFace, astronaut_face, cameraman_face, write_clip
    from tests.video.people import IgnoringSink

    seconds = settings.video_seconds
    # 160 faces about 48 px tall in 16 columns and 10 rows, moving a little. The video's
    # working size (416 px) would not see faces this small: detection runs at full size.
    faces = [
        MovingFace(
            astronaut_face() if (row + col) % 2 else cameraman_face(),
            70,
            0.0,
            seconds,
            (4 + col * 80, 2 + row * 71),
            (8 + col * 80, 4 + row * 71),
        )
        for row in range(10)
        for col in range(16)
    ]
    path = workdir / "crowd.mp4"
    options = {"preset": "veryfast"}
    write_clip(path, faces, width=1280, height=720, fps=30, seconds=seconds, options=options)

    def once() -> Any:
        return process_video(
            path, detector, 0.5, IgnoringSink(), embedder=embedder, detect_max_side=1280
        )

    start = time.perf_counter()
    found = once()
    elapsed = time.perf_counter() - start
    # Memory in a second run: tracing slows Python down, so it stays out of the timing.
    tracemalloc.start()
    once()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    context = (
        f"160 faces for {seconds:g} s of 1280x720 at 30 fps, detected at full size, in "
        f"{elapsed:.2f} s; {len(found.entries)} entries, {found.embeddings} faces embedded "
        f"of {len(found.observations)} seen; peak traced Python/numpy memory {peak / 2**20:.0f} MiB"
    )
    return [
        Figure(
            SECTION, "crowd of 160, multiple of real time", seconds / elapsed, "x", None, context
        ),
        Figure(SECTION, "crowd of 160, peak traced memory", peak / 2**20, " MiB"),
    ]
