"""Whether two samples of a video lie on either side of a cut, from their grey thumbnails.

Each thumbnail is measured in units of its own spread around its own mean, so a darker or
flatter copy of a video changes as much from sample to sample as the original does. At a
sample that may follow a cut every face worth it is embedded, so that the tracker can tell
another person standing where the last one stood.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

CUT_CHANGE = 0.4
"""`picture_change` between two samples from which the second may follow a cut. On real
footage cuts measured 0.66-0.92, at full exposure and at half alike; steady shots 0.05-0.16,
a moving close-up 0.2-0.6 (taking it for a cut only costs embeddings, not accuracy)."""
MIN_SPREAD = 8.0
"""A thumbnail's spread is taken as at least this (grey levels, 0..255), so that the noise
of a nearly uniform picture (a fade to black) is not magnified into a cut."""


def cut_thumbnail(picture: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """The 32 x 18 grey thumbnail of `picture` in units of its spread around its mean."""
    grey = Image.fromarray(picture).convert("L").resize((32, 18), Image.Resampling.BOX)
    thumbnail = np.asarray(grey, dtype=np.float32)
    spread = max(float(thumbnail.std()), MIN_SPREAD)
    normalised: npt.NDArray[np.float32] = (thumbnail - thumbnail.mean()) / spread
    return normalised


def picture_change(before: npt.NDArray[np.float32], after: npt.NDArray[np.float32]) -> float:
    """How much two `cut_thumbnail`s differ: 0 the same, about 1.1 unrelated pictures."""
    return float(np.abs(after - before).mean())
