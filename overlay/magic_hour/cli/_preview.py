"""Annotated previews for the command line: boxes on an image, a contact sheet for a video.

Pillow is optional for the SDK (it comes with the `server` extra), so it is imported
only when a preview is drawn; `PreviewUnavailable` says how to get it.
"""

from __future__ import annotations

import functools
import math
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from PIL import Image, ImageDraw, ImageFont

INSTALL_HINT = "previews need Pillow: pip install 'magic-hour-face-detection[server]'"

# Largest side of an image preview; bigger inputs are scaled down (boxes with them).
MAX_PREVIEW_SIDE = 1600
# A JPEG larger than that is decoded at the smallest of 1/2, 1/4 or 1/8 scale that keeps
# this many pixels on its longest side, and drawn at that size when it is no larger than
# MAX_PREVIEW_SIDE. Decoding, scaling and above all encoding the PNG (about 60 ms per
# megapixel) are most of a preview's cost: a 12 MP photo's preview is 1000 x 750, in a
# third of the time of 1600 x 1200.
MIN_JPEG_PREVIEW_SIDE = 1000
BOX_COLOURS = ("#00e676", "#ffea00", "#00b0ff", "#ff4081", "#ff9100", "#d500f9")


class PreviewUnavailable(Exception):
    """A preview cannot be drawn; `str(err)` says why and what to do."""


@dataclass(frozen=True)
class FaceBox:
    """One face to draw: its box in the input's pixels and its score, when known."""

    x: int
    y: int
    width: int
    height: int
    score: float | None = None


@dataclass(frozen=True)
class SheetTile:
    """One face crop on a contact sheet, with a caption such as `0:01.5`."""

    path: Path
    caption: str


def pillow_available() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True


def _require_pillow() -> None:
    if not pillow_available():
        raise PreviewUnavailable(INSTALL_HINT)


@functools.cache
def _open_heif_too() -> None:
    """Let Pillow read HEIC and HEIF photos, where pi-heif (in the `server` extra) is."""
    try:
        from pi_heif import register_heif_opener
    except ImportError:
        return
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


def _stretched(image: Image.Image) -> Image.Image:
    """16-bit, 32-bit and floating-point grey stretched over 8-bit grey, darkest to lightest:
    Pillow's conversion to RGB would clip them at 255, a nearly white picture."""
    if image.mode not in {"I", "F"} and not image.mode.startswith("I;16"):
        return image
    wide = image.convert("F")
    low, high = cast("tuple[float, float]", wide.getextrema())
    scale = 255 / ((high - low) or 1.0)
    return wide.point(lambda value: (value - low) * scale).convert("L")


@functools.cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # Pillow without FreeType
        return ImageFont.load_default()


def _save_atomically(image: Image.Image, destination: Path) -> None:
    """Write a PNG under a temporary name, then rename: never a half-written preview."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    # Opened with "x" rather than mkstemp so the file gets the usual umask permissions.
    temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.tmp")
    try:
        with temporary.open("xb") as stream:
            # Fast zlib level: `optimize=True` took longer than the detection on big photos.
            image.save(stream, format="PNG", compress_level=1)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


Rect = tuple[int, int, int, int]
"""left, top, right, bottom in the preview's pixels."""

MIN_LABEL_FONT = 10
"""The smallest label text drawn: a small face's tag shrinks with it down to this."""


def _overlaps(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _tags(
    draw: ImageDraw.ImageDraw,
    box: Rect,
    text: str,
    font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
    canvas: tuple[int, int],
) -> list[tuple[Rect, tuple[int, int]]]:
    """Places for `text` on a filled tag, best first, each with where the text itself is
    drawn: above `box`, below it, or inside its top edge when the face is at least four
    tags tall (the tag then covers hair and forehead, not the face)."""
    left, top, right, bottom = (round(v) for v in draw.textbbox((0, 0), text, font=font))
    pad = max(1, (bottom - top) // 5)
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    x = max(0, min(box[0], canvas[0] - width))
    rows = []
    if box[1] >= height:
        rows.append(box[1] - height)
    if box[3] + height <= canvas[1]:
        rows.append(box[3])
    if box[3] - box[1] >= 4 * height:
        rows.append(box[1])
    return [((x, y, x + width, y + height), (x + pad - left, y + pad - top)) for y in rows]


def _draw_labels(
    draw: ImageDraw.ImageDraw,
    boxes: list[Rect],
    texts: list[tuple[str, str]],
    colours: list[str],
    largest_font: int,
    canvas: tuple[int, int],
) -> None:
    """A tag for each box where one fits without covering another face or tag.

    Larger faces are labelled first. A tag is scaled to its face (never above
    `largest_font`, never under `MIN_LABEL_FONT`); when the full text ("#3 0.72") would
    cover something, the number alone ("#3") is tried, and in a crowd some faces keep only
    their box: the table's JSON and each folder's magic-hour.json list every face.
    """
    placed: list[Rect] = []
    order = sorted(range(len(boxes)), key=lambda i: -(boxes[i][3] - boxes[i][1]))
    for index in order:
        box = boxes[index]
        size = max(MIN_LABEL_FONT, min(largest_font, round((box[3] - box[1]) * 0.5)))
        font = _font(size)
        # A box's outline is drawn on its right and bottom edges too: one pixel more.
        outlines = ((b[0], b[1], b[2] + 1, b[3] + 1) for i, b in enumerate(boxes) if i != index)
        others = [*placed, *outlines]
        places = [
            (rect, at, text)
            for text in dict.fromkeys(texts[index])
            for rect, at in _tags(draw, box, text, font, canvas)
        ]
        for rect, at, text in places:
            if not any(_overlaps(rect, other) for other in others):
                draw.rectangle((rect[0], rect[1], rect[2] - 1, rect[3] - 1), fill=colours[index])
                draw.text(at, text, fill="black", font=font)
                placed.append(rect)
                break


def _open_image(source: Path) -> Image.Image:
    """`Image.open(source)`; a JPEG past Pillow's cap on pixels (about 179 MP; phones take
    200 MP photos) is opened with Pillow's JPEG reader itself: it is drawn on reduced.
    Unless its header claims more than its data can hold, at least a bit per 8 x 8 block
    (libjpeg would paint the missing rest grey)."""
    from PIL import Image, JpegImagePlugin

    try:
        return Image.open(source)
    except Image.DecompressionBombError:
        with source.open("rb") as file:
            if file.read(3) != b"\xff\xd8\xff":
                raise
        opened = JpegImagePlugin.JpegImageFile(source)
        width, height = opened.size
        size = source.stat().st_size
        if size * 8 * 64 < width * height:
            opened.close()
            raise Image.DecompressionBombError(
                f"its header says {width} x {height} pixels, more than its"
                f" {size:,} bytes of data can hold"
            ) from None
        return opened


def annotate_image(source: Path, faces: Sequence[FaceBox], destination: Path) -> Path:
    """Draw each face's box and score on the input image; write a PNG to `destination`.

    Boxes are in the input's pixels after its EXIF orientation, as the server reports
    them. Raises `PreviewUnavailable` when Pillow is missing or the input cannot be read.
    """
    _require_pillow()
    _open_heif_too()
    from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

    try:
        with _open_image(source) as opened:
            full_side = max(opened.size)
            if opened.format == "JPEG" and full_side > MAX_PREVIEW_SIDE:
                fit = MIN_JPEG_PREVIEW_SIDE / full_side
                opened.draft("RGB", (math.ceil(opened.width * fit), math.ceil(opened.height * fit)))
            image = _stretched(ImageOps.exif_transpose(opened)).convert("RGB")
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as err:
        raise PreviewUnavailable(f"cannot read {source.name} to draw on it: {err}") from err
    if max(image.size) > MAX_PREVIEW_SIDE:
        fit = MAX_PREVIEW_SIDE / max(image.size)
        size = (max(1, round(image.width * fit)), max(1, round(image.height * fit)))
        # Box-reduced by a whole factor first, then filtered: a third of the time of a
        # plain Lanczos pass, which no eye tells apart at this size.
        image = image.resize(size, Image.Resampling.LANCZOS, reducing_gap=2.0)
    # Boxes are in the full image's pixels; the preview may be smaller.
    scale = max(image.size) / full_side
    draw = ImageDraw.Draw(image)
    line = max(2, round(max(image.size) / 300))
    boxes: list[Rect] = [
        (
            round(face.x * scale),
            round(face.y * scale),
            round((face.x + face.width) * scale),
            round((face.y + face.height) * scale),
        )
        for face in faces
    ]
    colours = [BOX_COLOURS[index % len(BOX_COLOURS)] for index in range(len(faces))]
    for box, colour in zip(boxes, colours, strict=True):
        # A small face's outline is thinner, so that it does not hide the face.
        width = max(1, min(line, (box[3] - box[1]) // 12))
        draw.rectangle(box, outline=colour, width=width)
    texts = [
        (f"#{index}", f"#{index}")
        if face.score is None
        else (f"#{index} {face.score:.2f}", f"#{index}")
        for index, face in enumerate(faces)
    ]
    largest_font = max(12, round(max(image.size) / 45))
    _draw_labels(draw, boxes, texts, colours, largest_font, image.size)
    _save_atomically(image, destination)
    return destination


def contact_sheet(
    tiles: Sequence[SheetTile], destination: Path, *, title: str = "", cell: int = 160
) -> Path:
    """Lay face crops out on a grid, each with its caption; write a PNG to `destination`."""
    _require_pillow()
    from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

    columns = max(1, min(6, len(tiles)))
    rows = max(1, -(-len(tiles) // columns))
    font = _font(max(12, cell // 10))
    caption_height = cell // 6
    gap = max(6, cell // 20)
    title_height = cell // 5 if title else 0
    width = columns * (cell + gap) + gap
    height = title_height + rows * (cell + caption_height + gap) + gap
    sheet = Image.new("RGB", (width, height), "#202124")
    draw = ImageDraw.Draw(sheet)
    if title:
        draw.text((gap, gap // 2), title, fill="white", font=font)
    if not tiles:
        draw.text((gap, title_height + gap), "no faces found", fill="#bbbbbb", font=font)
    for index, tile in enumerate(tiles):
        row, column = divmod(index, columns)
        x = gap + column * (cell + gap)
        y = title_height + gap + row * (cell + caption_height + gap)
        try:
            with Image.open(tile.path) as opened:
                face = ImageOps.contain(opened.convert("RGB"), (cell, cell))
        except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as err:
            raise PreviewUnavailable(f"cannot read face crop {tile.path.name}: {err}") from err
        sheet.paste(face, (x + (cell - face.width) // 2, y + (cell - face.height) // 2))
        draw.text((x, y + cell + 2), tile.caption, fill="white", font=font)
    _save_atomically(sheet, destination)
    return destination


def format_frame_time(seconds: float) -> str:
    """`83.25` -> `1:23.2`: short enough for a caption under a face."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:04.1f}"
