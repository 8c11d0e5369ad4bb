"""From an input file to stored faces: the seam between decoding, detection and storage."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt

from magic_hour_server._media import load_photo

if TYPE_CHECKING:
    from PIL import Image

    from magic_hour_server.detection._detector import Detection, FaceDetector

# Each side of a face crop gets this share of the box's size as margin: enough to show
# the hair and chin that the detector's tight boxes cut off.
CROP_MARGIN = 0.2


class FaceSink(Protocol):
    """Where faces go as they are found (the task store, in the server)."""

    def add_face(
        self,
        *,
        frame: int,
        index: int,
        crop: Image.Image,
        box: tuple[int, int, int, int],
        score: float,
        frame_time: float | None = None,
    ) -> None:
        """Store `<frame>-<index>.png` and make the face visible at once.

        `box` is x, y, width, height in input pixels, before any margin.
        """

    def set_progress(self, fraction: float) -> None:
        """Record how much of the input (0..1) has been processed."""


def pixel_box(detection: Detection, width: int, height: int) -> tuple[int, int, int, int]:
    """`detection` as whole pixels (x, y, width, height), inside a width x height image."""
    x1 = max(0, math.floor(detection.x1))
    y1 = max(0, math.floor(detection.y1))
    x2 = min(width, math.ceil(detection.x2))
    y2 = min(height, math.ceil(detection.y2))
    return x1, y1, max(0, x2 - x1), max(0, y2 - y1)


def crop_region(
    width: int, height: int, box: tuple[int, int, int, int], margin: float = CROP_MARGIN
) -> tuple[int, int, int, int]:
    """The face at `box` (x, y, width, height) with a margin, clipped to a width x height
    picture: left, top, right, bottom, never empty."""
    x, y, w, h = box
    dx, dy = round(w * margin), round(h * margin)
    left, top = max(0, x - dx), max(0, y - dy)
    right, bottom = min(width, x + w + dx), min(height, y + h + dy)
    return left, top, max(right, left + 1), max(bottom, top + 1)


def crop_face(
    image: Image.Image, box: tuple[int, int, int, int], margin: float = CROP_MARGIN
) -> Image.Image:
    """The face at `box` (x, y, width, height) with a margin, clipped to the image."""
    return image.crop(crop_region(image.width, image.height, box, margin))


def crop_face_pixels(
    pixels: npt.NDArray[np.uint8], box: tuple[int, int, int, int], margin: float = CROP_MARGIN
) -> Image.Image:
    """`crop_face` of an RGB array: only the region is copied, not the whole picture."""
    from PIL import Image

    left, top, right, bottom = crop_region(pixels.shape[1], pixels.shape[0], box, margin)
    return Image.fromarray(np.ascontiguousarray(pixels[top:bottom, left:right]))


def process_image(path: Path, detector: FaceDetector, threshold: float, sink: FaceSink) -> None:
    """Detect the faces in the image at `path` and hand each one to `sink`, left to right.

    Raises MediaError when the file cannot be read as an image. A photo is one step: it
    reports no progress of its own. A JPEG too large to decode whole is decoded reduced
    (`load_photo`): its faces are cropped from that picture, their boxes given in the
    input's pixels.
    """
    photo = load_photo(Path(path))
    image = photo.image
    detections = detector.detect(np.asarray(image), threshold)
    for index, detection in enumerate(detections):
        box = pixel_box(detection, image.width, image.height)
        sink.add_face(
            frame=0,
            index=index,
            crop=crop_face(image, box),
            box=input_box(box, photo.scale),
            score=min(1.0, max(0.0, detection.score)),
        )


def input_box(
    box: tuple[int, int, int, int], scale: tuple[float, float]
) -> tuple[int, int, int, int]:
    """`box` (x, y, width, height) in a picture decoded at a fraction of the input's size,
    in the input's own pixels: `scale` is input pixels per decoded pixel, across and down."""
    if scale == (1.0, 1.0):
        return box
    across, down = scale
    x, y, width, height = box
    left, top = math.floor(x * across), math.floor(y * down)
    # Less a rounding error: a box reaching the decoded picture's edge reaches the input's.
    right = math.ceil((x + width) * across - 1e-9)
    bottom = math.ceil((y + height) * down - 1e-9)
    return left, top, right - left, bottom - top
