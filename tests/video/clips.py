"""Build small test videos from real face photographs, with known face tracks.

The faces come from photographs scikit-image ships: the astronaut (Eileen Collins) and the
cameraman. Each is cut out with some margin and pasted onto a plain background at positions
that move linearly over time, so every clip's ground truth is known exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import skimage.data
from numpy.typing import NDArray
from PIL import Image

RGB = NDArray[np.uint8]


def astronaut_face() -> RGB:
    """The astronaut's face with hair and chin, about 150x180 pixels."""
    image: RGB = skimage.data.astronaut()  # type: ignore[no-untyped-call]
    return np.ascontiguousarray(image[30:210, 145:305])


def cameraman_face() -> RGB:
    """The cameraman's face (a grey photograph, made RGB), about 120x140 pixels."""
    grey: NDArray[np.uint8] = skimage.data.camera()  # type: ignore[no-untyped-call]
    crop = grey[85:235, 165:295]
    return np.ascontiguousarray(np.stack([crop, crop, crop], axis=-1))


@dataclass(frozen=True)
class MovingFace:
    """A face visible from `start` to `end` seconds, moving linearly between two places.

    Positions are the top-left corner of the pasted face, in pixels; `height` is the pasted
    face's height (the width follows the photograph's aspect ratio).
    """

    face: RGB
    height: int
    start: float
    end: float
    origin: tuple[float, float]
    destination: tuple[float, float]

    def position(self, time: float) -> tuple[int, int] | None:
        if not self.start <= time < self.end:
            return None
        span = self.end - self.start
        progress = (time - self.start) / span if span > 0 else 0.0
        x = self.origin[0] + (self.destination[0] - self.origin[0]) * progress
        y = self.origin[1] + (self.destination[1] - self.origin[1]) * progress
        return round(x), round(y)

    def scaled(self) -> RGB:
        width = round(self.face.shape[1] * self.height / self.face.shape[0])
        image = Image.fromarray(self.face).resize((width, self.height), Image.Resampling.LANCZOS)
        return np.asarray(image)


def _background(width: int, height: int) -> RGB:
    # A soft gradient rather than flat grey, so the encoder has some real work to do.
    xs = np.linspace(60, 140, width, dtype=np.float32)[None, :]
    ys = np.linspace(0, 50, height, dtype=np.float32)[:, None]
    plane = xs + ys
    return np.stack([plane, plane * 0.9 + 10, plane * 0.8 + 20], axis=-1).astype(np.uint8)


def render_frame(background: RGB, faces: Sequence[tuple[MovingFace, RGB]], time: float) -> RGB:
    frame = background.copy()
    for moving, pixels in faces:
        place = moving.position(time)
        if place is None:
            continue
        x, y = place
        h, w = pixels.shape[:2]
        # Clip to the frame so faces may enter or leave through an edge.
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, frame.shape[1]), min(y + h, frame.shape[0])
        if x1 > x0 and y1 > y0:
            frame[y0:y1, x0:x1] = pixels[y0 - y : y1 - y, x0 - x : x1 - x]
    return frame


def write_clip(
    path: Path,
    faces: Sequence[MovingFace],
    *,
    width: int = 320,
    height: int = 240,
    fps: int = 25,
    seconds: float = 3.0,
    codec: str = "libx264",
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    rotate: bool = False,
    pix_fmt: str = "yuv420p",
) -> int:
    """Encode a clip of `seconds` at `fps` to `path`; returns the number of frames written.

    With `rotate`, frames are stored turned a quarter clockwise, with a display matrix
    saying to turn them back: a player shows `width` x `height` upright.
    """
    background = _background(width, height)
    prepared = [(face, face.scaled()) for face in faces]
    frame_count = math.ceil(seconds * fps)
    frames = (render_frame(background, prepared, number / fps) for number in range(frame_count))
    return encode_frames(
        path,
        frames,
        fps=fps,
        codec=codec,
        options=options,
        container_options=container_options,
        rotate=rotate,
        pix_fmt=pix_fmt,
    )


def encode_frames(
    path: Path,
    frames: Iterable[RGB],
    *,
    fps: int = 25,
    codec: str = "libx264",
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    rotate: bool = False,
    pix_fmt: str = "yuv420p",
) -> int:
    """Encode RGB `frames` (all one size) at `fps` to `path`; returns how many were written.

    With `rotate`, frames are stored turned a quarter clockwise, with a display matrix
    saying to turn them back.
    """
    count = 0
    with av.open(str(path), mode="w", options=container_options or {}) as container:
        stream = container.add_stream(codec, rate=fps)
        assert isinstance(stream, av.VideoStream)
        if rotate:
            stream.set_display_rotation(90)
        stream.pix_fmt = pix_fmt
        stream.time_base = Fraction(1, fps)
        if options:
            stream.options = dict(options)
        for pixels in frames:
            if rotate:
                pixels = np.ascontiguousarray(np.rot90(pixels, -1))
            if count == 0:
                stream.height, stream.width = pixels.shape[:2]
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts = count
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode(None):
            container.mux(packet)
    return count


def face_box(face: MovingFace, time: float) -> tuple[int, int, int, int] | None:
    """The pasted face's rectangle (x, y, width, height) at `time`, or None when absent."""
    place = face.position(time)
    if place is None:
        return None
    width = round(face.face.shape[1] * face.height / face.face.shape[0])
    return place[0], place[1], width, face.height
