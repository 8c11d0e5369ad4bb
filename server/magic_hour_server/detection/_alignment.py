"""Five-point face alignment: the similarity transform onto the standard 112 x 112 template.

A face's five landmarks (eyes, nose tip, mouth corners; `_detector.Detection.landmarks`) are
mapped by the least-squares similarity transform (scale, rotation, translation) onto where an
aligned face has them, and the picture is warped by that transform. The embedding model and
the quality measures both read the aligned face, so faces of any size and tilt compare alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Point = tuple[float, float]
SIZE = 112

TEMPLATE = np.array(
    [
        [38.2946, 51.6963],  # the eye on the image's left
        [73.5318, 51.5014],  # the other eye
        [56.0252, 71.7366],  # nose tip
        [41.5493, 92.3655],  # mouth corner on the image's left
        [70.7299, 92.2041],  # the other mouth corner
    ]
)
"""Where the five landmarks of an aligned 112 x 112 face lie (the ArcFace template)."""


def similarity_transform(points: npt.ArrayLike, target: npt.ArrayLike = TEMPLATE) -> Any:
    """The 2 x 3 matrix of the similarity transform that maps `points` closest to `target`.

    Least squares over scale, rotation and translation (Umeyama's method, no reflection).
    """
    src = np.asarray(points, dtype=np.float64)
    dst = np.asarray(target, dtype=np.float64)
    src_mean, dst_mean = src.mean(axis=0), dst.mean(axis=0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    variance = (src_c**2).sum() / len(src)
    covariance = dst_c.T @ src_c / len(src)
    u, singular, vt = np.linalg.svd(covariance)
    sign = np.eye(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[1, 1] = -1
    rotation = u @ sign @ vt
    scale = (singular * np.diag(sign)).sum() / variance if variance > 0 else 1.0
    translation = dst_mean - scale * rotation @ src_mean
    return np.hstack([scale * rotation, translation[:, None]])


def aligned_points(landmarks: Sequence[Point]) -> Any:
    """Where `landmarks` land in the aligned 112 x 112 face (5 x 2)."""
    matrix = similarity_transform(landmarks)
    points = np.asarray(landmarks, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def _shrink(matrix: Any) -> float:
    """How many picture pixels one aligned pixel spans (1 / the transform's scale)."""
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))
    return 1.0 / scale if scale > 0 else 1.0


def align(image: npt.NDArray[np.uint8], landmarks: Sequence[Point]) -> npt.NDArray[np.uint8]:
    """The 112 x 112 RGB face of `image` (H x W x 3) whose five landmarks are `landmarks`."""
    from PIL import Image

    matrix = similarity_transform(landmarks)
    # PIL wants the map from output to input pixels: the inverse of `matrix`.
    inverse = np.linalg.inv(np.vstack([matrix, [0.0, 0.0, 1.0]]))[:2]
    # The bilinear warp reads 2 x 2 pixels per output pixel: shrinking a face more than
    # twice that way skips pixels, and the aliasing changes the face's measured detail and
    # its embedding. A large face (a close-up in 1080p or 4K) is first reduced by box
    # averaging, `factor` x `factor` pixels to one, to at most twice the aligned size.
    factor = max(1, int(_shrink(matrix)))
    # Only the part of the image the face is taken from becomes a PIL image (a whole 4K
    # frame would be copied for each face): the output's corners mapped back, plus a margin
    # for the filters, its corner on the reduction's grid. Edges inside the image never
    # reach the samples taken, so the result is the same as from the whole image.
    corners = np.array([[0, 0, 1], [SIZE, 0, 1], [0, SIZE, 1], [SIZE, SIZE, 1]], dtype=np.float64)
    footprint = corners @ inverse.T
    height, width = image.shape[:2]
    margin = 2 * factor + 2
    left, top = (
        max(0, (int(np.floor(v)) - margin) // factor * factor) for v in footprint.min(axis=0)
    )
    right = min(width, int(np.ceil(footprint[:, 0].max())) + margin)
    bottom = min(height, int(np.ceil(footprint[:, 1].max())) + margin)
    if right <= left or bottom <= top:
        return np.zeros((SIZE, SIZE, 3), dtype=np.uint8)
    inverse[:, 2] -= (left, top)
    region = Image.fromarray(image[top:bottom, left:right])
    if factor > 1:
        region = region.reduce(factor)
        inverse /= factor  # a reduced pixel's coordinates are the original's / factor
    warped = region.transform(
        (SIZE, SIZE),
        Image.Transform.AFFINE,
        tuple(float(v) for v in inverse.ravel()),
        resample=Image.Resampling.BILINEAR,
    )
    return np.asarray(warped)
