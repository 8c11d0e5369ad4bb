"""How good a face is for a face swap: measures on the aligned face, a score, and a verdict.

Every measure is read off the aligned 112 x 112 face (`_alignment`), so faces of any size
compare alike:

- `detail`: the mean absolute difference between neighbouring grey levels over the face's
  central part (eyes to chin). Blur and darkness both take it towards 0: a sharp, well-lit
  face gives 5 to 8, a recognisable but soft one about 2.
- `brightness`: the 90th percentile of the same part's grey levels, 0..255. A face in the
  dark has nothing bright in it.
- `frontal`: 1 when the nose tip sits midway between the eyes, 0 in full profile.
- `height`: the face box's height in the picture's pixels; `score` the detector's.

`FaceQuality.value` ranks views of one person (the best view is the one with the highest);
`unusable_reason` says why a face cannot be used at all, or None. The limits come from real
footage: see docs/video-people.md for the crops they were measured on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from magic_hour_server.detection._alignment import TEMPLATE, Point, aligned_points

MIN_HEIGHT = 40.0
"""Faces less tall than this (pixels of the video) are too small to swap or to recognise."""
MIN_DETAIL = 1.4
"""Below this `detail` a face is a blur: on real footage the dim, out-of-focus audience
faces measured 0.1 to 1.2, and the softest face a person could still recognise 1.7."""
MIN_BRIGHTNESS = 30.0
"""Below this `brightness` a face is too dark to use (0..255)."""

_EYE_MID_X = float((TEMPLATE[0, 0] + TEMPLATE[1, 0]) / 2)
_HALF_EYES = float((TEMPLATE[1, 0] - TEMPLATE[0, 0]) / 2)


@dataclass(frozen=True)
class UsableLimits:
    """Where a face stops being usable; `keep_all` keeps every face whatever it measures."""

    min_height: float = MIN_HEIGHT
    min_detail: float = MIN_DETAIL
    min_brightness: float = MIN_BRIGHTNESS
    keep_all: bool = False


@dataclass(frozen=True)
class FaceQuality:
    height: float
    score: float
    detail: float
    brightness: float
    frontal: float
    at_edge: bool = False

    @property
    def value(self) -> float:
        """Higher is better: size up to 160 px, detail up to 5, exposure, frontalness, score."""
        size = min(self.height, 160.0) / 160.0
        detail = min(self.detail, 5.0) / 5.0
        exposure = min(self.brightness, 120.0) / 120.0
        frontal = 0.4 + 0.6 * self.frontal
        value = self.score * size * detail * exposure * frontal
        return value * 0.5 if self.at_edge else value

    def unusable_reason(self, limits: UsableLimits) -> str | None:
        """Why this face cannot be used (too small, too dark, too blurred), or None."""
        if limits.keep_all:
            return None
        if self.height < limits.min_height:
            return "too small"
        if self.brightness < limits.min_brightness:
            return "too dark"
        if self.detail < limits.min_detail:
            return "too blurred"
        return None


def measure(
    aligned: npt.NDArray[np.uint8],
    landmarks: Sequence[Point],
    *,
    height: float,
    score: float,
    at_edge: bool = False,
) -> FaceQuality:
    """The quality of a face from its aligned picture (112 x 112 RGB) and its landmarks."""
    grey = aligned.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    centre = grey[24:100, 16:96]
    detail = (
        float(np.abs(np.diff(centre, axis=1)).mean())
        + float(np.abs(np.diff(centre, axis=0)).mean())
    ) / 2
    return FaceQuality(
        height=height,
        score=score,
        detail=detail,
        brightness=float(np.percentile(centre, 90)),
        frontal=frontalness(landmarks),
        at_edge=at_edge,
    )


def frontalness(landmarks: Sequence[Point]) -> float:
    """1 when the nose tip is midway between the eyes, falling to 0 in full profile."""
    points = aligned_points(landmarks)
    offset = abs(float(points[2, 0]) - _EYE_MID_X)
    return max(0.0, 1.0 - offset / _HALF_EYES)
