"""Reading inputs: what kind of file it is, and an image as RGB pixels, with clear errors."""

from __future__ import annotations

import functools
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from magic_hour_server._jpeg import jpeg_shortfall

if TYPE_CHECKING:
    from PIL import Image

# The largest picture decoded, in pixels (about 8K x 6K). Past it a tiny file can still
# claim a huge size (an image bomb): it is refused before any pixel is decoded. A JPEG
# past it (phones take 50, 108 and 200 MP photos) is decoded at 1/2, 1/4 or 1/8 of its
# size instead, the largest that fits (`load_photo`).
MAX_IMAGE_PIXELS = 50_000_000
_JPEG_REDUCTIONS = (2, 4, 8)  # the scales libjpeg decodes at directly (`Image.draft`)
_ORIENTATION = 0x0112  # EXIF
_QUARTER_TURNS = {5, 6, 7, 8}  # orientations that swap width and height

# Which Pillow formats each image extension may hold.
IMAGE_FORMATS: dict[str, set[str]] = {
    "png": {"PNG"},
    "jpg": {"JPEG", "MPO"},
    "jpeg": {"JPEG", "MPO"},
    "jfif": {"JPEG"},
    "webp": {"WEBP"},
    "bmp": {"BMP", "DIB"},
    "tif": {"TIFF"},
    "tiff": {"TIFF"},
    "gif": {"GIF"},
    "jp2": {"JPEG2000"},
    "avif": {"AVIF"},
    "heic": {"HEIF"},
    "heif": {"HEIF"},
}
VIDEO_EXTENSIONS = {"mp4", "m4v", "mov", "webm", "mkv", "avi"}
# ISO base media brands that are still images, not video (HEIF, AVIF).
_IMAGE_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis"}


class MediaError(Exception):
    """An input that cannot be used; `str(err)` is the reason shown to the user."""


@dataclass(frozen=True)
class Photo:
    """An input image as upright RGB pixels.

    `scale` is how many input pixels one of `image`'s pixels spans, across and down: 1.0,
    but for a JPEG too large to decode whole, decoded at a fraction of its size.
    """

    image: Image.Image
    scale: tuple[float, float] = (1.0, 1.0)


@functools.cache
def open_heif_too() -> bool:
    """Teach Pillow HEIC and HEIF, the photos phones take (once per process).

    pi-heif is libheif for Pillow, decoding only. It turns a picture upright as it decodes
    it and leaves its EXIF orientation at 1, so nothing is turned twice. Without pi-heif
    (a platform it has no wheel for) such a photo is refused with a clear reason instead.
    Returns whether Pillow reads HEIC now.
    """
    try:
        from pi_heif import register_heif_opener
    except ImportError:
        return False
    # Only the primary picture is used: no thumbnails, depth maps or auxiliary images.
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    return True


def kind_of(path: Path, extension: str = "") -> str:
    """Whether the file at `path` is an "image" or a "video", checked against its `extension`.

    Raises MediaError for an empty file, a file that is neither, or an extension that
    says something else than the content.
    """
    from PIL import Image, UnidentifiedImageError

    reads_heif = open_heif_too()
    extension = extension.lower().lstrip(".")
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(64)
    except OSError as err:
        raise MediaError("the input file cannot be read") from err
    if size == 0:
        raise MediaError("the file is empty")
    if _looks_like_video(head):
        if extension in IMAGE_FORMATS:
            raise MediaError(f"the file is named .{extension} but holds a video")
        return "video"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(path) as image:
                image_format = image.format or "unknown"
    except Image.DecompressionBombError as err:
        raise MediaError(f"the image is too large to decode ({err})") from err
    except UnidentifiedImageError as err:
        brand = head[8:12] if head[4:8] == b"ftyp" else b""
        if brand and (_reads_avif() if brand in {b"avif", b"avis"} else reads_heif):
            # A HEIF or AVIF image by its brand, which a decoder here could not open.
            raise MediaError("the image is truncated or corrupt") from err
        if extension in {"heic", "heif", "avif"}:
            raise MediaError(f".{extension} images cannot be read by this server") from err
        raise MediaError("the file is not an image or video that can be read") from err
    except OSError as err:
        raise MediaError(f"the image cannot be read: {err}") from err
    if extension in VIDEO_EXTENSIONS:
        raise MediaError(f"the file is named .{extension} but holds a {image_format} image")
    allowed = IMAGE_FORMATS.get(extension)
    if allowed is not None and image_format not in allowed:
        raise MediaError(f"the file is named .{extension} but holds a {image_format} image")
    return "image"


def _reads_avif() -> bool:
    from PIL import features

    return bool(features.check("avif"))  # Pillow 11.2 and later, built with libavif


def eight_bit(image: Image.Image) -> Image.Image:
    """`image` itself, or as 8-bit grey when it is 16-bit, 32-bit or floating-point grey.

    Pillow's conversion to RGB clips those at 255, which turns a 16-bit PNG or TIFF nearly
    white. They are scaled instead: 16-bit from its full range, integers and floats from
    their own largest value when it is past 255 (floats up to 1.0 taken as 0..1).
    """
    if image.mode not in {"I", "F"} and not image.mode.startswith("I;16"):
        return image
    wide = image.convert("F")
    high = float(cast("tuple[float, float]", wide.getextrema())[1])
    if image.mode.startswith("I;16"):
        scale = 255 / 65535
    elif image.mode == "F" and 0 < high <= 1:
        scale = 255.0
    else:
        scale = 255 / high if high > 255 else 1.0
    return wide.point(lambda value: value * scale).convert("L")


def _looks_like_video(head: bytes) -> bool:
    if head[4:8] == b"ftyp":
        return head[8:12] not in _IMAGE_BRANDS
    return head.startswith(b"\x1a\x45\xdf\xa3") or (head[:4] == b"RIFF" and head[8:12] == b"AVI ")


def _open(path: Path) -> Image.Image:
    """`Image.open(path)`. Pillow refuses pictures past about 179 MP outright; a JPEG
    that large is opened with Pillow's JPEG reader itself, for `load_photo` to decode it
    reduced or refuse it against its own limit."""
    from PIL import Image, JpegImagePlugin

    try:
        return Image.open(path)
    except Image.DecompressionBombError:
        with path.open("rb") as file:
            if file.read(3) != b"\xff\xd8\xff":
                raise
        return JpegImagePlugin.JpegImageFile(path)


def _reduction(width: int, height: int, max_pixels: int) -> int | None:
    """1 when width x height fits in `max_pixels`, else the least JPEG reduction that
    makes it fit; None when none does."""
    for factor in (1, *_JPEG_REDUCTIONS):
        if math.ceil(width / factor) * math.ceil(height / factor) <= max_pixels:
            return factor
    return None


def load_image(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> Image.Image:
    """The image at `path` as RGB, upright per its EXIF orientation (first frame if several);
    a JPEG past `max_pixels` reduced to fit (see `load_photo`)."""
    return load_photo(path, max_pixels).image


def load_photo(path: Path, max_pixels: int = MAX_IMAGE_PIXELS) -> Photo:
    """The image at `path` as RGB, upright per its EXIF orientation (first frame if several).

    An image past `max_pixels` is refused before decoding, except a JPEG, which libjpeg
    decodes directly at 1/2, 1/4 or 1/8 of its size: the largest that fits. Its faces are
    still found and cropped, at that resolution (a 200 MP photo's at 50 MP).
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    open_heif_too()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with _open(path) as image:
                width, height = image.size
                factor = _reduction(width, height, max_pixels)
                jpeg = image.format in ("JPEG", "MPO")
                too_large = MediaError(
                    f"the image is too large: {width} x {height} pixels "
                    f"(the limit is {max_pixels:,} pixels"
                    + (", or 64 times that for a JPEG)" if jpeg else ")")
                )
                if factor is None or (factor > 1 and not jpeg):
                    raise too_large
                if jpeg and (lie := jpeg_shortfall(path)):
                    raise MediaError(lie)
                if factor > 1:
                    # Pillow picks the reduction from the size asked for, rounding down.
                    image.draft("RGB", (max(1, width // factor), max(1, height // factor)))
                    if image.width * image.height > max_pixels:
                        raise too_large
                across, down = width / image.width, height / image.height
                image.load()
                if factor > 1 and image.getexif().get(_ORIENTATION, 1) in _QUARTER_TURNS:
                    across, down = down, across
                # Turned in place, and converted only when not RGB already: each copy of a
                # 12 MP photo costs about 10 ms.
                ImageOps.exif_transpose(image, in_place=True)
                rgb = image if image.mode == "RGB" else eight_bit(image).convert("RGB")
    except MediaError:
        raise
    except Image.DecompressionBombError as err:
        raise MediaError(f"the image is too large to decode ({err})") from err
    except UnidentifiedImageError as err:
        raise MediaError("the file is not an image that can be read") from err
    except (OSError, ValueError, SyntaxError) as err:
        # Pillow reports truncated and corrupt data as OSError (and a few codecs so).
        raise MediaError(f"the image is truncated or corrupt ({str(err).strip()})") from err
    if rgb.width == 0 or rgb.height == 0:
        raise MediaError("the image has no pixels")
    return Photo(rgb, (across, down))
