"""The detector's graph as prepared at load: same outputs as shipped, int8, multi-scale,
and what happens when preparing fails."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from magic_hour_server.detection import _detector_model
from magic_hour_server.detection._detector import FaceDetector
from magic_hour_server.detection._detector_model import (
    INPUT,
    OUTPUTS,
    fp32_model,
    model_bytes,
    shipped_model,
)
from magic_hour_server.detection._preprocess import network_input
from PIL import Image
from skimage import data

from tests.server.images import ASTRONAUT_FACE, astronaut, iou, three_faces


def _session(model: bytes) -> Any:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _photos() -> list[np.ndarray[Any, Any]]:
    camera = data.camera()  # type: ignore[no-untyped-call]
    return [astronaut(), three_faces().pixels, np.stack([camera] * 3, axis=-1)]


def test_the_prepared_graph_gives_the_shipped_graphs_outputs() -> None:
    shipped, prepared = _session(shipped_model()), _session(fp32_model())
    assert [i.name for i in prepared.get_inputs()] == [INPUT]  # the weights are not inputs
    for photo in _photos():
        blob, _ = network_input(photo, 1.0)
        for ours, theirs in zip(
            prepared.run(OUTPUTS, {INPUT: blob}), shipped.run(OUTPUTS, {INPUT: blob}), strict=True
        ):
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-3, atol=1e-4)


def _box(d: Any) -> tuple[float, float, float, float]:
    return (d.x1, d.y1, d.x2, d.y2)


def test_the_int8_detector_finds_the_same_faces_from_a_graph_made_once(tmp_path: Path) -> None:
    # One test, as each graph made costs seconds of calibration: found, cached, remade.
    int8 = FaceDetector(precision="int8", cache_dir=tmp_path)
    (face,) = int8.detect(astronaut())
    assert iou(_box(face), ASTRONAUT_FACE) > 0.7
    scene = three_faces()
    found = int8.detect(scene.pixels)
    assert len(found) == 3
    assert all(iou(_box(d), f) > 0.6 for d, f in zip(found, scene.faces, strict=True))
    (cached,) = tmp_path.glob("centerface-int8-*.onnx")
    assert not list(tmp_path.glob("*.tmp"))  # written whole, then renamed
    first, stamp = cached.read_bytes(), cached.stat().st_mtime_ns
    assert model_bytes("int8", tmp_path) == first
    assert cached.stat().st_mtime_ns == stamp  # read, not made again
    cached.write_bytes(first[: len(first) // 2])  # damaged: made again
    assert model_bytes("int8", tmp_path) == first
    assert cached.read_bytes() == first


def test_a_failed_preparation_falls_back_to_the_shipped_graph(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(model: Any) -> Any:
        raise RuntimeError("no luck")

    monkeypatch.setattr(_detector_model, "without_weight_inputs", broken)
    with caplog.at_level(logging.WARNING):
        model = fp32_model()
    assert model == shipped_model()
    assert "using the shipped graph" in caplog.text
    (face,) = FaceDetector(model).detect(astronaut())
    assert iou(_box(face), ASTRONAUT_FACE) > 0.7


def test_a_failed_quantization_falls_back_to_fp32(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    def broken(model: bytes) -> bytes:
        raise RuntimeError("no calibration today")

    monkeypatch.setattr(_detector_model, "_quantize", broken)
    with caplog.at_level(logging.WARNING):
        model = model_bytes("int8", tmp_path)
    assert model == fp32_model()
    assert "could not quantize" in caplog.text


def test_multi_scale_finds_faces_too_small_for_one_pass() -> None:
    canvas = Image.new("RGB", (1920, 1080), (90, 90, 90))
    # The astronaut's face is about a quarter of her photo: about 18 px tall here, 9 px at
    # the single pass's 960 px.
    small = Image.fromarray(astronaut()).resize((72, 72))
    for k in range(6):
        canvas.paste(small, (100 + k * 300, 400))
    pixels = np.asarray(canvas)
    detector = FaceDetector()

    single = detector.detect(pixels)
    multi = detector.detect(pixels, multi_scale=True)

    assert len(single) == 0
    assert len(multi) == 6
    assert [round(d.x1) // 300 for d in multi] == list(range(6))
    # A large face is found once either way.
    assert len(detector.detect(astronaut(), multi_scale=True)) == 1


def test_detections_side_by_side_equal_detections_alone() -> None:
    from concurrent.futures import ThreadPoolExecutor

    detector = FaceDetector()
    photos = _photos()
    alone = [detector.detect(photo) for photo in photos]
    with ThreadPoolExecutor(max_workers=3) as pool:
        # Side by side, some run on the one-thread session: the same graph, the same boxes.
        together = list(pool.map(detector.detect, photos * 3))
    for found, expected in zip(together, alone * 3, strict=True):
        assert len(found) == len(expected)
        for a, b in zip(found, expected, strict=True):
            assert _box(a) == pytest.approx(_box(b), abs=1e-3)
