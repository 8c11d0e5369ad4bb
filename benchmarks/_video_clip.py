"""The test clips of the video benchmarks: two real faces crossing a plain background.

The frames are drawn by `tests/video/clips.py` (faces cut from scikit-image's astronaut
and cameraman photographs), the builder the video tests use; the faces and their paths are
those of `scripts/bench_video.py`, so the figures of the two agree.
"""

from __future__ import annotations

from pathlib import Path


def two_face_clip(path: Path, width: int, height: int, *, seconds: float, fps: int = 30) -> Path:
    """Encode a `seconds`-long H.264 clip with two faces a quarter of the frame high."""
    try:
        from tests.video.clips import MovingFace, astronaut_face, cameraman_face, write_clip
    except ImportError as exc:
        raise RuntimeError(
            f"the video clip builder is missing ({exc}); run from the repository root"
        ) from exc
    size, w, h = height // 4, width, height
    faces = [
        MovingFace(astronaut_face(), size, 0.0, seconds, (w * 0.05, h * 0.15), (w * 0.5, h * 0.4)),
        MovingFace(cameraman_face(), size, 0.0, seconds, (w * 0.8, h * 0.55), (w * 0.3, h * 0.1)),
    ]
    write_clip(
        path,
        faces,
        width=width,
        height=height,
        fps=fps,
        seconds=seconds,
        options={"preset": "veryfast"},
    )
    return path
