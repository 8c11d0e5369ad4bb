"""The detector's input: an RGB image resized and padded the way CenterFace needs it.
Shared by the detector and the int8 calibration (`_detector_model`), which must feed the
network exactly what the detector will."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["PAD", "network_input"]

PAD = 32  # the network needs sides that are multiples of 32


def network_input(
    image: npt.NDArray[np.uint8], scale: float
) -> tuple[npt.NDArray[Any], tuple[int, int]]:
    """The network input: resized by `scale`, zero-padded to multiples of 32, NCHW float."""
    from PIL import Image

    height, width = image.shape[:2]
    new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
    if (new_w, new_h) != (width, height):
        image = np.asarray(Image.fromarray(image).resize((new_w, new_h), Image.Resampling.BILINEAR))
    pad_h, pad_w = -(-new_h // PAD) * PAD, -(-new_w // PAD) * PAD
    blob = np.zeros((1, 3, pad_h, pad_w), dtype=np.float32)
    blob[0, :, :new_h, :new_w] = image.transpose(2, 0, 1)
    return blob, (new_h, new_w)
