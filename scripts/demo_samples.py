"""Make the demo's sample inputs from real photos that scikit-image ships.

    python scripts/demo_samples.py outputs/samples

writes `astronaut.png` (one face), `group.jpg` (five real faces pasted onto one
canvas) and `two-people.mp4` (two faces crossing the frame for three seconds).
Nothing is downloaded: the photos are files inside the installed scikit-image.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import av
import numpy as np
import skimage.data
from PIL import Image, ImageFilter

# (left, top, right, bottom) around each face in scikit-image's photos, with room
# around it: the detector needs some context, not a tight crop.
ASTRONAUT_HEAD = (120, 10, 330, 250)
CAMERAMAN_HEAD = (150, 60, 310, 250)
# Faces 0..99 of lfw_subset are faces (the rest are not); these look at the camera.
LFW_FACES = (1, 18, 11)


def astronaut() -> Image.Image:
    """The astronaut photo: Eileen Collins, one face."""
    return Image.fromarray(skimage.data.astronaut())  # type: ignore[no-untyped-call]


def _cameraman_head() -> Image.Image:
    camera = skimage.data.camera()  # type: ignore[no-untyped-call]
    return Image.fromarray(camera).convert("RGB").crop(CAMERAMAN_HEAD)


def _lfw_face(index: int, size: int) -> Image.Image:
    """A 25x25 Labeled Faces in the Wild crop, scaled up and padded with its own edge."""
    faces = skimage.data.lfw_subset()  # type: ignore[no-untyped-call]
    pixels = (faces[index] * 255).astype(np.uint8)
    padded = np.pad(pixels, 4, mode="edge")
    return Image.fromarray(padded).convert("RGB").resize((size, size), Image.Resampling.BICUBIC)


def _background(width: int, height: int) -> Image.Image:
    """A soft, blurred backdrop taken from another scikit-image photo."""
    photo = skimage.data.coffee()  # type: ignore[no-untyped-call]
    coffee = Image.fromarray(photo).resize((width, height))
    return coffee.filter(ImageFilter.GaussianBlur(12))


def group_photo() -> Image.Image:
    """Five real faces on one 960x540 canvas, left to right, at different scales."""
    canvas = _background(960, 540)
    canvas.paste(astronaut().crop(ASTRONAUT_HEAD).resize((180, 206)), (30, 150))
    canvas.paste(_lfw_face(LFW_FACES[0], 150), (240, 60))
    canvas.paste(_cameraman_head().resize((150, 178)), (420, 260))
    canvas.paste(_lfw_face(LFW_FACES[1], 130), (600, 100))
    canvas.paste(_lfw_face(LFW_FACES[2], 160), (770, 300))
    return canvas


def write_video(path: Path, *, seconds: float = 3.0, fps: int = 12) -> None:
    """Two real faces crossing a 480x270 frame in opposite directions (H.264 mp4)."""
    width, height = 480, 270
    background = _background(width, height)
    first = astronaut().crop(ASTRONAUT_HEAD).resize((105, 120))
    second = _cameraman_head().resize((100, 119))
    frames = round(seconds * fps)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        for n in range(frames):
            t = n / max(frames - 1, 1)
            frame = background.copy()
            frame.paste(first, (int(10 + t * 150), 40))
            frame.paste(second, (int(370 - t * 150), 120))
            picture = av.VideoFrame.from_image(frame)  # type: ignore[no-untyped-call]
            for packet in stream.encode(picture):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("directory", type=Path, help="where to write the samples")
    parser.add_argument("--no-video", action="store_true", help="make the images only")
    args = parser.parse_args(argv)
    directory: Path = args.directory
    directory.mkdir(parents=True, exist_ok=True)
    astronaut().save(directory / "astronaut.png")
    group_photo().save(directory / "group.jpg", quality=92)
    written = ["astronaut.png", "group.jpg"]
    if not args.no_video:
        write_video(directory / "two-people.mp4")
        written.append("two-people.mp4")
    print(f"samples in {directory}: {', '.join(written)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
