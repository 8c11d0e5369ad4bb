"""A JPEG whose header claims more pixels than its data can hold (`_jpeg`)."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from magic_hour_server._jpeg import jpeg_shortfall
from magic_hour_server._media import MediaError, load_image
from PIL import Image

from tests.server.images import astronaut, encode, jpeg_claiming


def _write(tmp_path: Path, data: bytes, name: str = "photo.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("progressive", [False, True])
def test_a_header_claiming_far_more_pixels_than_the_data_holds_is_refused(
    tmp_path: Path, progressive: bool
) -> None:
    path = _write(tmp_path, jpeg_claiming(8000, 6000, progressive=progressive))

    reason = jpeg_shortfall(path)

    assert reason is not None and "8000 x 6000" in reason
    with pytest.raises(MediaError, match="its header says 8000 x 6000 pixels"):
        load_image(path)


@pytest.mark.parametrize(
    ("mode", "subsampling", "progressive"),
    [
        ("RGB", 2, False),  # 4:2:0, what cameras write
        ("RGB", 2, True),
        ("RGB", 0, False),  # 4:4:4
        ("L", None, True),
    ],
)
def test_the_most_compact_honest_jpegs_pass(
    tmp_path: Path, mode: str, subsampling: int | None, progressive: bool
) -> None:
    # One flat colour with optimised tables: about two bits per block, the least a
    # Huffman-coded JPEG needs; the check refuses only below one.
    image = Image.new(mode, (4000, 3000), "white")
    buffer = io.BytesIO()
    options: dict[str, object] = {"quality": 95, "optimize": True, "progressive": progressive}
    if subsampling is not None:
        options["subsampling"] = subsampling
    image.save(buffer, "JPEG", **options)
    path = _write(tmp_path, buffer.getvalue())

    assert jpeg_shortfall(path) is None
    assert load_image(path).size == (4000, 3000)


def test_a_small_lie_is_not_judged(tmp_path: Path) -> None:
    # Twice the real size still fits the data: decoded (garbled), not refused.
    path = _write(tmp_path, jpeg_claiming(1024, 1024))

    assert jpeg_shortfall(path) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff\xd8",  # the start of an image and nothing more
        b"\xff\xd8\xff\xe1\x00",  # a segment cut inside its length
        b"\xff\xd8\xff\xc0\x00\x05\x08\x00",  # a frame header cut short
        b"\xff\xd8\xff\xc0\x00\x0b\x08\x00\x00\x10\x00\x01\x01\x11\x00",  # height 0 (DNL)
        encode(astronaut(), "PNG"),
    ],
)
def test_headers_it_cannot_judge_are_left_to_the_decoder(tmp_path: Path, data: bytes) -> None:
    assert jpeg_shortfall(_write(tmp_path, data)) is None


def test_segments_before_the_frame_header_are_skipped(tmp_path: Path) -> None:
    # A phone photo carries EXIF and other segments before its frame header.
    exif = Image.Exif()
    exif[0x010F] = "Phone" * 4000  # Make: a long text makes a large APP1 segment
    data = encode(astronaut(), "JPEG", exif=exif.tobytes())
    at = data.index(b"\xff\xc0") + 5
    lying = data[:at] + struct.pack(">HH", 6000, 8000) + data[at + 4 :]

    assert jpeg_shortfall(_write(tmp_path, data)) is None
    assert jpeg_shortfall(_write(tmp_path, lying, "lying.jpg")) is not None
