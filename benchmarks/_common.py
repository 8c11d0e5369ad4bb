"""What every benchmark shares: the figures it reports, the inputs it makes, small stats."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

RGB = NDArray[np.uint8]
MIB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A bound a figure should meet, e.g. `Target("<=", 1.10)`."""

    op: Literal["<=", ">="]
    bound: float

    def met_by(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g}"


@dataclass
class Figure:
    """One measured figure: a ratio or a count, with its target and what it came from."""

    section: str
    name: str
    value: float
    unit: str = ""
    target: Target | None = None
    context: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def met(self) -> bool | None:
        if self.target is None or math.isnan(self.value):
            return None
        return self.target.met_by(self.value)

    def miss(self) -> str:
        """How far the figure is from its target, in words; empty when met or untargeted."""
        if self.met is not False or self.target is None:
            return ""
        bound = self.target.bound
        if bound == 0:
            return f"missed by {abs(self.value - bound):.3g}{self.unit}"
        return f"missed by {abs(self.value - bound) / abs(bound):.0%}"


@dataclass(frozen=True)
class Settings:
    """How big each benchmark is; `quick()` shrinks everything for a smoke run."""

    overhead_runs: int = 25
    latency_runs: int = 10
    photo_latency_runs: int = 25
    upload_bytes: int = 1024 * MIB
    throughput_images: int = 200
    throughput_rounds: int = 5
    concurrency: int = 16
    detection_runs: int = 40
    video_seconds: float = 10.0
    video_runs: int = 7
    accuracy_images: int | None = None  # None: the whole labelled set
    quick: bool = False

    @classmethod
    def quick_run(cls) -> Settings:
        return cls(
            overhead_runs=5,
            latency_runs=3,
            photo_latency_runs=5,
            upload_bytes=64 * MIB,
            throughput_images=32,
            throughput_rounds=1,
            concurrency=16,
            detection_runs=8,
            video_seconds=2.0,
            video_runs=1,
            accuracy_images=40,
            quick=True,
        )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    """The 25th and 75th percentiles (the spread printed beside a median)."""
    if len(values) < 2:
        value = values[0] if values else math.nan
        return value, value
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def timed(action: Callable[[], object]) -> float:
    """Seconds `action()` took (monotonic clock)."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def astronaut_640x480() -> RGB:
    """The astronaut photograph (one real face) scaled and cropped to 640x480."""
    return photo_variant(0, jitter=False)


def photo_variant(seed: int, *, jitter: bool = True) -> RGB:
    """A 640x480 view of the astronaut photograph; `seed` picks a crop, scale and flip.

    Each variant shows the one face at a different place and size, so a batch of them is
    real work for the detector rather than the same bytes again.
    """
    import skimage.data
    from PIL import Image

    photo: RGB = skimage.data.astronaut()  # type: ignore[no-untyped-call]  # 512x512
    rng = np.random.default_rng(seed)
    side = int(rng.integers(400, 513)) if jitter else 512
    top = int(rng.integers(0, 512 - side + 1)) if jitter else 0
    left = int(rng.integers(0, 512 - side + 1)) if jitter else 0
    crop = photo[top : top + side, left : left + side]
    if jitter and rng.random() < 0.5:
        crop = crop[:, ::-1]
    # 4:3 from a square: scale to 640 wide, keep the upper 480 rows (the face is there).
    square = Image.fromarray(np.ascontiguousarray(crop))
    square = square.resize((640, 640), Image.Resampling.BILINEAR)
    return np.asarray(square)[:480]


def save_jpeg(image: RGB, path: Path, quality: int = 90) -> Path:
    from PIL import Image

    Image.fromarray(image).save(path, format="JPEG", quality=quality)
    return path
