"""The detector on its own: decoding, NMS, thresholds, sizes."""

from __future__ import annotations

import numpy as np
import pytest
from magic_hour_server.detection._detector import Detection, FaceDetector, _nms, default_detector
from magic_hour_server.detection._processing import crop_face, crop_face_pixels, pixel_box
from PIL import Image

from tests.server.images import ASTRONAUT_FACE, astronaut, iou, three_faces


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return default_detector()


def _box(d: Detection) -> tuple[float, float, float, float]:
    return (d.x1, d.y1, d.x2, d.y2)


def test_finds_the_astronaut(detector: FaceDetector) -> None:
    found = detector.detect(astronaut())
    assert len(found) == 1
    assert iou(_box(found[0]), ASTRONAUT_FACE) > 0.7
    assert 0.5 <= found[0].score <= 1


def test_faces_come_left_to_right(detector: FaceDetector) -> None:
    scene = three_faces()
    found = detector.detect(scene.pixels)
    assert [round(iou(_box(d), f), 1) > 0.6 for d, f in zip(found, scene.faces, strict=True)] == [
        True
    ] * 3
    assert [d.x1 for d in found] == sorted(d.x1 for d in found)


def test_large_images_are_scaled_back_to_input_pixels(detector: FaceDetector) -> None:
    big = np.asarray(Image.fromarray(astronaut()).resize((2048, 2048)))
    found = detector.detect(big)
    assert len(found) == 1
    expected = tuple(v * 4 for v in ASTRONAUT_FACE)
    assert iou(_box(found[0]), expected) > 0.7  # type: ignore[arg-type]


def test_a_higher_threshold_keeps_fewer(detector: FaceDetector) -> None:
    pixels = three_faces().pixels
    assert len(detector.detect(pixels, 0.95)) < len(detector.detect(pixels, 0.5))
    assert all(d.score >= 0.3 for d in detector.detect(pixels, 0.3))


def test_no_faces_in_a_plain_image(detector: FaceDetector) -> None:
    assert detector.detect(np.full((300, 400, 3), 128, dtype=np.uint8)) == []


def test_odd_sizes_and_a_zero_threshold_work(detector: FaceDetector) -> None:
    pixels = astronaut()[:333, :201]
    found = detector.detect(pixels, 0.0)
    assert all(0 <= d.x1 < d.x2 <= 201 and 0 <= d.y1 < d.y2 <= 333 for d in found)


def test_rejects_non_rgb_arrays(detector: FaceDetector) -> None:
    with pytest.raises(ValueError, match="RGB"):
        detector.detect(np.zeros((10, 10), dtype=np.uint8))


def test_nms_keeps_the_best_of_overlapping_boxes() -> None:
    boxes = np.array(
        [[0, 0, 10, 10, 0.8], [1, 1, 11, 11, 0.9], [50, 50, 60, 60, 0.7], [0, 0, 10, 10, 0.1]],
        dtype=np.float64,
    )
    assert list(_nms(boxes, 0.3)) == [1, 2]


def test_crops_add_a_margin_and_stay_inside_the_image() -> None:
    image = Image.new("RGB", (100, 80))
    box = pixel_box(Detection(-5.5, 10.2, 40.1, 90.0, 0.9), 100, 80)
    assert box == (0, 10, 41, 70)
    crop = crop_face(image, box)
    assert crop.size == (49, 80)


@pytest.mark.parametrize(
    "box", [(0, 10, 41, 70), (30, 20, 12, 16), (90, 70, 10, 10), (99, 79, 0, 0), (0, 0, 100, 80)]
)
def test_a_crop_of_the_pixels_is_the_crop_of_the_picture(box: tuple[int, int, int, int]) -> None:
    pixels = np.random.default_rng(7).integers(0, 256, (80, 100, 3), dtype=np.uint8)
    from_pixels = crop_face_pixels(pixels, box)
    assert from_pixels.mode == "RGB"
    assert np.array_equal(
        np.asarray(from_pixels), np.asarray(crop_face(Image.fromarray(pixels), box))
    )
    pixels[:] = 0  # the crop is a copy
    assert np.asarray(from_pixels).any()
