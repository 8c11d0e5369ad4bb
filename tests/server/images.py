"""Real test images from scikit-image's photos, with known face positions."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
from PIL import Image

# The evaluation's own measure (tested in tests/benchmarks), not the server's.
from benchmarks._matching import iou as iou

# HEIC photos as phones write them (pillow-heif, run in a process of its own).
from benchmarks._photos import heic as heic

Box = tuple[float, float, float, float]

# The astronaut's face in skimage.data.astronaut() (512 x 512), x1, y1, x2, y2.
ASTRONAUT_FACE: Box = (180.0, 55.0, 272.0, 180.0)
# The region pasted onto canvases: the face with some hair and neck around it.
_REGION = (140, 20, 310, 215)


@cache
def astronaut() -> npt.NDArray[np.uint8]:
    from skimage import data

    return np.asarray(data.astronaut(), dtype=np.uint8)  # type: ignore[no-untyped-call]


def encode(
    pixels: npt.NDArray[np.uint8] | Image.Image, fmt: str = "PNG", **options: object
) -> bytes:
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def jpeg_claiming(width: int, height: int, **options: object) -> bytes:
    """The astronaut as a real JPEG whose frame header says it is `width` x `height` pixels
    (baseline, or progressive with `progressive=True`)."""
    data = bytearray(encode(astronaut(), "JPEG", **options))
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        if marker in data:
            at = data.index(marker) + 5  # marker, length (2), precision (1): height, width
            data[at : at + 4] = struct.pack(">HH", height, width)
            return bytes(data)
    raise AssertionError("the JPEG has no frame header")


@dataclass(frozen=True)
class Scene:
    """A canvas with faces pasted at known boxes, listed left to right."""

    pixels: npt.NDArray[np.uint8]
    faces: list[Box]


@cache
def three_faces() -> Scene:
    """Three astronaut faces at different scales, left to right, on a plain canvas."""
    canvas = Image.new("RGB", (1000, 420), (128, 120, 110))
    region = Image.fromarray(astronaut()).crop(_REGION)
    faces: list[Box] = []
    for left, top, scale in ((40, 60, 0.8), (380, 20, 1.4), (760, 120, 1.0)):
        size = (round(region.width * scale), round(region.height * scale))
        canvas.paste(region.resize(size, Image.Resampling.LANCZOS), (left, top))
        fx1, fy1, fx2, fy2 = ASTRONAUT_FACE
        rx, ry = _REGION[0], _REGION[1]
        faces.append(
            (
                left + (fx1 - rx) * scale,
                top + (fy1 - ry) * scale,
                left + (fx2 - rx) * scale,
                top + (fy2 - ry) * scale,
            )
        )
    return Scene(np.asarray(canvas), faces)


def looks_like_face_crop(png: bytes, expected_size: tuple[float, float]) -> bool:
    """True when `png` decodes as a PNG about as large as the face it should show."""
    with Image.open(io.BytesIO(png)) as image:
        if image.format != "PNG":
            return False
        width, height = image.size
    ew, eh = expected_size
    return 0.8 * ew <= width <= 2.0 * ew and 0.8 * eh <= height <= 2.0 * eh
