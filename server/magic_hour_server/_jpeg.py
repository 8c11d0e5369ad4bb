"""A JPEG whose header claims more pixels than its data can hold.

libjpeg decodes such a file without an error: when the compressed data runs out early (the
end-of-image marker comes before the last block), it warns, which Pillow does not pass on,
and fills the rest of the picture with one flat colour. A photo whose header was made to
say 8000 x 6000 over a 640 x 480 picture decodes as 48 megapixels of grey with a garbled
strip at the top: a task that completes, with nothing in it.

Every 8 x 8 block of every component costs at least one bit in a Huffman-coded JPEG (its DC
difference has a code of at least one bit, in the baseline scan or in a progressive
JPEG's first DC scan), so the file must be at least as many bytes as its blocks / 8. The
most compact JPEG Pillow makes (one flat colour, optimised tables, baseline or
progressive, any subsampling) has twice that. Arithmetic-coded, lossless and hierarchical
JPEGs code differently and are not checked; a lie of less than that margin is not caught
either (the picture is then garbled, not refused).
"""

from __future__ import annotations

import math
import struct
from pathlib import Path
from typing import BinaryIO

__all__ = ["jpeg_shortfall"]

_HUFFMAN_FRAMES = {0xC0, 0xC1, 0xC2}  # baseline, extended sequential, progressive
_OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM and RSTn have no length
_MAX_SEGMENTS = 4096


def jpeg_shortfall(path: Path) -> str | None:
    """Why the JPEG at `path` cannot hold the picture its header declares, or None when it
    can (or when it is not a Huffman-coded JPEG this can judge)."""
    with path.open("rb") as file:
        frame = _frame_header(file)
        if frame is None:
            return None
        size = file.seek(0, 2)
    width, height, blocks = frame
    if size * 8 >= blocks:
        return None
    return (
        f"the JPEG is corrupt: its header says {width} x {height} pixels, more than its"
        f" {size:,} bytes of data can hold"
    )


def _frame_header(file: BinaryIO) -> tuple[int, int, int] | None:
    """Width, height and 8 x 8 blocks of a Huffman-coded JPEG's frame; None otherwise."""
    if file.read(2) != b"\xff\xd8":
        return None
    for _ in range(_MAX_SEGMENTS):
        head = file.read(2)
        while head[:1] == b"\xff" and head[1:2] == b"\xff":  # fill bytes before a marker
            head = head[1:] + file.read(1)
        if len(head) < 2 or head[0] != 0xFF:
            return None
        marker = head[1]
        if marker in _STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # end of image, or a scan before any frame header
            return None
        raw = file.read(2)
        if len(raw) < 2:
            return None
        (length,) = struct.unpack(">H", raw)
        if length < 2:
            return None
        if marker in _OTHER_FRAMES:
            return None
        if marker in _HUFFMAN_FRAMES:
            return _blocks(file.read(length - 2))
        file.seek(length - 2, 1)
    return None


def _blocks(frame: bytes) -> tuple[int, int, int] | None:
    if len(frame) < 6:
        return None
    _precision, height, width, count = struct.unpack(">BHHB", frame[:6])
    components = [frame[6 + 3 * i : 9 + 3 * i] for i in range(count)]
    if height == 0 or width == 0 or count == 0 or any(len(c) < 3 for c in components):
        return None  # the height comes later (a DNL marker), or the header is cut short
    factors = [(c[1] >> 4, c[1] & 0x0F) for c in components]
    if any(h == 0 or v == 0 for h, v in factors):
        return None
    h_max, v_max = max(h for h, _ in factors), max(v for _, v in factors)
    blocks = sum(
        math.ceil(math.ceil(width * h / h_max) / 8) * math.ceil(math.ceil(height * v / v_max) / 8)
        for h, v in factors
    )
    return width, height, blocks
