"""Photos past the pixel limit: a JPEG is decoded at 1/2, 1/4 or 1/8 of its size, the
largest that fits (phones take 50, 108 and 200 MP photos); other formats are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from magic_hour_server._media import MediaError, kind_of, load_photo
from magic_hour_server.detection._detector import FaceDetector, default_detector
from magic_hour_server.detection._processing import input_box, process_image
from PIL import Image

from tests.server.images import astronaut, encode


def _jpeg(tmp_path: Path, image: Image.Image, name: str = "photo.jpg", **options: object) -> Path:
    path = tmp_path / name
    path.write_bytes(encode(image, "JPEG", **options))
    return path


@pytest.mark.parametrize(
    ("max_pixels", "size"),
    [
        (2_000_000, (1600, 1200)),  # fits: decoded whole
        (1_000_000, (800, 600)),
        (400_000, (400, 300)),  # 1/2 would still be 480,000 pixels
        (30_000, (200, 150)),
    ],
)
def test_a_jpeg_past_the_limit_is_decoded_at_the_largest_reduction_that_fits(
    tmp_path: Path, max_pixels: int, size: tuple[int, int]
) -> None:
    path = _jpeg(tmp_path, Image.fromarray(astronaut()).resize((1600, 1200)))

    photo = load_photo(path, max_pixels)

    assert photo.image.size == size
    assert photo.image.mode == "RGB"
    assert photo.scale == (1600 / size[0], 1200 / size[1])


def test_a_jpeg_too_large_even_at_an_eighth_is_refused(tmp_path: Path) -> None:
    path = _jpeg(tmp_path, Image.fromarray(astronaut()).resize((1600, 1200)))

    with pytest.raises(MediaError, match="too large: 1600 x 1200 pixels"):
        load_photo(path, 29_999)


def test_other_formats_past_the_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    Image.fromarray(astronaut()).resize((1600, 1200)).save(path)

    with pytest.raises(MediaError, match="too large: 1600 x 1200 pixels"):
        load_photo(path, 1_000_000)


def test_a_turned_photo_gives_its_scale_upright(tmp_path: Path) -> None:
    # Stored 1601 x 1203 with EXIF orientation 6 (turn a quarter clockwise), as a phone
    # held upright saves it; decoded at half size, 801 x 602, shown 602 x 801.
    exif = Image.Exif()
    exif[0x0112] = 6
    image = Image.fromarray(astronaut()).resize((1601, 1203))
    path = _jpeg(tmp_path, image, exif=exif.tobytes())

    photo = load_photo(path, 500_000)

    assert photo.image.size == (602, 801)
    assert photo.scale == (1203 / 602, 1601 / 801)


def test_a_jpeg_past_pillows_own_limit_is_read_reduced(tmp_path: Path) -> None:
    # Pillow refuses pictures past about 179 MP when it opens them; 16384 x 11000 is 180 MP.
    path = _jpeg(tmp_path, Image.new("L", (16384, 11000), 128), quality=50)

    assert kind_of(path, "jpg") == "image"
    photo = load_photo(path, 3_000_000)
    assert photo.image.size == (2048, 1375)


def test_boxes_from_a_reduced_picture_are_given_in_the_input_pixels() -> None:
    assert input_box((10, 20, 30, 40), (1.0, 1.0)) == (10, 20, 30, 40)
    assert input_box((10, 20, 30, 40), (2.0, 2.0)) == (20, 40, 60, 80)
    # A box that reaches the decoded picture's edge reaches the input's, and no further:
    # 8160 x 6120 decoded from 16320 x 12240; 801 x 602 from 1601 x 1203.
    assert input_box((8000, 6000, 160, 120), (2.0, 2.0)) == (16000, 12000, 320, 240)
    x, y, w, h = input_box((700, 500, 101, 102), (1601 / 801, 1203 / 602))
    assert (x + w, y + h) == (1601, 1203)


class _Faces:
    def __init__(self) -> None:
        self.boxes: list[tuple[int, int, int, int]] = []
        self.crops: list[tuple[int, int]] = []

    def add_face(self, *, box: tuple[int, int, int, int], crop: Image.Image, **_: object) -> None:
        self.boxes.append(box)
        self.crops.append(crop.size)

    def set_progress(self, fraction: float) -> None:
        pass


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


@pytest.fixture(scope="module")
def detector() -> FaceDetector:
    return default_detector()


def test_a_50_megapixel_phone_photo_gives_its_face_in_the_input_pixels(
    tmp_path: Path, detector: FaceDetector
) -> None:
    # 8160 x 6144, a Pixel's 50 MP photo: 50,135,040 pixels, just past the limit. Before,
    # it was refused as too large.
    small = Image.fromarray(astronaut())
    whole, reduced = _Faces(), _Faces()
    process_image(_jpeg(tmp_path, small, "small.jpg", quality=95), detector, 0.5, whole)
    big = _jpeg(tmp_path, small.resize((8160, 6144), Image.Resampling.BICUBIC), quality=90)

    process_image(big, detector, 0.5, reduced)

    assert len(reduced.boxes) == len(whole.boxes) == 1
    across, down = 8160 / small.width, 6144 / small.height
    x, y, w, h = whole.boxes[0]
    expected = (round(x * across), round(y * down), round(w * across), round(h * down))
    assert _iou(reduced.boxes[0], expected) > 0.8, (reduced.boxes, expected)
    # The crop comes from the picture decoded at half size: about half the box, with margins.
    assert np.isclose(reduced.crops[0][0], reduced.boxes[0][2] / 2 * 1.4, rtol=0.1)
