"""Cut detection between samples, on real photographs, at any exposure."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
from magic_hour_server.video._cuts import CUT_CHANGE, cut_thumbnail, picture_change
from PIL import Image


def _frame(photo: np.ndarray, left: int = 0) -> np.ndarray:
    """A 416 x 234 frame cut from `photo` (made RGB), starting `left` pixels in."""
    rgb = photo if photo.ndim == 3 else np.stack([photo] * 3, axis=-1)
    picture = Image.fromarray(np.ascontiguousarray(rgb)).resize((512, 512))
    return np.asarray(picture)[100:334, left : left + 416]


def _change(before: np.ndarray, after: np.ndarray) -> float:
    return picture_change(cut_thumbnail(before), cut_thumbnail(after))


@pytest.mark.parametrize("exposure", [1.0, 0.5, 0.15])
def test_a_cut_is_told_from_a_pan_at_any_exposure(exposure: float) -> None:
    def exposed(frame: np.ndarray) -> np.ndarray:
        return (frame.astype(np.float32) * exposure).astype(np.uint8)

    # The other shot: the same scene seen from the other side, in the same light. In plain
    # grey levels this cut changes by 59 at full exposure and by 9 at the dimmest, where a
    # moving close-up in ordinary footage reads up to 22: no grey-level threshold fits both.
    astronaut = _frame(skimage.data.astronaut())  # type: ignore[no-untyped-call]
    panned = _frame(skimage.data.astronaut(), left=3)  # type: ignore[no-untyped-call]
    other_side = np.ascontiguousarray(astronaut[:, ::-1])

    assert _change(exposed(astronaut), exposed(other_side)) >= CUT_CHANGE
    assert _change(exposed(astronaut), exposed(panned)) < CUT_CHANGE


def test_the_noise_of_a_black_frame_is_not_a_cut() -> None:
    noise = np.random.default_rng(7)
    black = [noise.integers(0, 6, size=(234, 416, 3), dtype=np.uint8) for _ in range(2)]
    assert _change(black[0], black[1]) < CUT_CHANGE
