"""The real stage clip made over as other videos are, each judged against its hand labels.

    .venv/bin/python scripts/stage_variants.py [--shared ../shared/data/videos] [NAME]...

The clip (`short_hamilton_clip.mp4`, labelled by hand in
`benchmarks/labels/short_hamilton_clip.json`) is re-encoded as it might have reached a
user: played three times over, mirrored, reversed, at 15 fps, at 240p, upscaled to 1080p,
cropped to 4:3, blurred, at half exposure, and at growing H.264 compression. The labels are
moved alike (frames renumbered, regions scaled, mirrored or shifted), and the server's
video pass is judged as in `make bench`: entries per person, people missed or merged,
unusable crops reported. Names pick variants (all by default).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CLIP = "short_hamilton_clip.mp4"
LABELS = ROOT / "benchmarks" / "labels" / "short_hamilton_clip.json"

RGB = NDArray[np.uint8]
Region = tuple[int, int, int, int]
FrameMap = Callable[[int, int], list[tuple[int, int]]]


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    frames: Callable[[list[RGB]], list[RGB]]
    fps: int = 30
    crf: int = 23
    renumber: FrameMap | None = None  # label frame spans in the variant's numbering
    region: Callable[[Region], Region] | None = None  # a label region in the variant


def _resize(frames: list[RGB], size: tuple[int, int], bicubic: bool = False) -> list[RGB]:
    from PIL import Image

    method = Image.Resampling.BICUBIC if bicubic else Image.Resampling.BILINEAR
    return [np.asarray(Image.fromarray(f).resize(size, method)) for f in frames]


def _scaled(factor: float) -> Callable[[Region], Region]:
    def scale(region: Region) -> Region:
        x1, y1, x2, y2 = region
        return round(x1 * factor), round(y1 * factor), round(x2 * factor), round(y2 * factor)

    return scale


def _blurred(frames: list[RGB]) -> list[RGB]:
    from PIL import Image, ImageFilter

    return [np.asarray(Image.fromarray(f).filter(ImageFilter.GaussianBlur(1.0))) for f in frames]


def variants(count: int) -> list[Variant]:
    """The variants of a clip of `count` frames (640 x 360, 30 fps)."""

    def same(frames: list[RGB]) -> list[RGB]:
        return frames

    def compressed(crf: int) -> Variant:
        return Variant(f"crf{crf}", f"H.264 at CRF {crf}", same, crf=crf)

    return [
        Variant("as-is", "re-encoded as it is (CRF 23)", same),
        Variant(
            "three-times",
            "played three times over (30 s)",
            lambda f: f * 3,
            renumber=lambda a, b: [(a + k * count, b + k * count) for k in range(3)],
        ),
        Variant(
            "mirrored",
            "mirrored left to right",
            lambda f: [np.ascontiguousarray(x[:, ::-1]) for x in f],
            region=lambda r: (640 - r[2], r[1], 640 - r[0], r[3]),
        ),
        Variant(
            "reversed",
            "played backwards",
            lambda f: f[::-1],
            renumber=lambda a, b: [(count - 1 - b, count - 1 - a)],
        ),
        Variant(
            "15fps",
            "every other frame, at 15 fps",
            lambda f: f[::2],
            fps=15,
            renumber=lambda a, b: [((a + 1) // 2, b // 2)],
        ),
        Variant(
            "240p",
            "scaled down to 426 x 240",
            lambda f: _resize(f, (426, 240)),
            region=_scaled(426 / 640),
        ),
        Variant(
            "1080p-upscaled",
            "scaled up to 1920 x 1080 (bicubic: no more detail than the original)",
            lambda f: _resize(f, (1920, 1080), bicubic=True),
            region=_scaled(3),
        ),
        Variant(
            "4:3-crop",
            "the middle 480 x 360 scaled to 960 x 720",
            lambda f: _resize([np.ascontiguousarray(x[:, 80:560]) for x in f], (960, 720), True),
            region=lambda r: ((r[0] - 80) * 2, r[1] * 2, (r[2] - 80) * 2, r[3] * 2),
        ),
        Variant("blurred", "Gaussian blur, radius 1 px", _blurred),
        Variant(
            "half-exposure",
            "every pixel at 55 % (underexposed)",
            lambda f: [(x * 0.55).astype(np.uint8) for x in f],
        ),
        compressed(28),
        compressed(32),
        compressed(35),
        compressed(38),
    ]


def _decode(path: Path) -> Iterator[RGB]:
    import av

    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            picture: RGB = np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8)
            yield picture


def _labels(base: Any, variant: Variant) -> Any:
    from tests.video.people import HandLabels

    regions: list[tuple[str, int, int, Region]] = []
    for name, first, last, region in base.regions:
        moved = variant.region(region) if variant.region else region
        spans = variant.renumber(first, last) if variant.renumber else [(first, last)]
        regions.extend((name, a, b, moved) for a, b in spans)
    return HandLabels(base.clip, dict(base.usable), regions)


def main() -> int:
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._embedder import default_embedder
    from magic_hour_server.video._video import process_video

    from tests.video.clips import encode_frames
    from tests.video.people import HandLabels, IgnoringSink, score

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data" / "videos")
    parser.add_argument("names", nargs="*", help="variants to run (all by default)")
    args = parser.parse_args()
    source = args.shared / CLIP
    if not source.is_file():
        print(f"no {CLIP} under {args.shared}", file=sys.stderr)
        return 2
    base = HandLabels.load(LABELS)
    frames = list(_decode(source))
    chosen = [v for v in variants(len(frames)) if not args.names or v.name in args.names]
    detector, embedder = default_detector(), default_embedder()
    print(f"{'variant':16} {'entries per person':40} {'missed':>6} {'merged':>6} {'unusable':>8}")
    with tempfile.TemporaryDirectory(prefix="stage-variants-") as tmp:
        for variant in chosen:
            made = variant.frames(frames)
            path = Path(tmp) / f"{variant.name}.mp4"
            encode_frames(path, made, fps=variant.fps, options={"crf": str(variant.crf)})
            start = time.perf_counter()
            found = process_video(path, detector, 0.5, IgnoringSink(), embedder=embedder)
            seconds = time.perf_counter() - start
            result = score(_labels(base, variant), found)
            entries = " ".join(str(result.entries.get(n, 0)) for n in result.usable_people)
            print(
                f"{variant.name:16} {entries:40} {len(result.missed):6} "
                f"{result.people_merged:6} {result.unusable_reported:8}"
                f"  {len(made) / variant.fps / seconds:5.1f}x real time; {variant.what}",
                flush=True,
            )
    people = [name for name, usable in base.usable.items() if usable]
    print("entries per person, in label order: " + ", ".join(people))
    return 0


if __name__ == "__main__":
    sys.exit(main())
