"""Embedding distances between faces of different photos: where strangers start to merge.

    .venv/bin/python scripts/photo_pair_distances.py [--photos ../shared/data/face-eval]
        [--sheet FILE --band LOW HIGH]

Every face of the photo set at least 40 px tall with detector score 0.6 (what may vote on
a video track's identity) is aligned and embedded alone, as the video pass does, and
paired with every face of every other photo. Prints how many pairs fall at or under each
distance. Such sets have no identities, so a pair under the line may be one person
photographed twice: `--sheet` draws the aligned faces of the pairs within `--band` side by
side with their distance, to be looked at.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LINES = (0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65)


def main() -> int:
    from magic_hour_server._media import load_image
    from magic_hour_server.detection._alignment import align
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._embedder import default_embedder
    from magic_hour_server.detection._people import MAX_DISTANCE
    from PIL import Image, ImageDraw

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--photos", type=Path, default=ROOT / ".." / "shared" / "data" / "face-eval"
    )
    parser.add_argument("--sheet", type=Path, help="write the pairs within --band here (PNG)")
    parser.add_argument(
        "--band", type=float, nargs=2, default=(0.45, 0.55), metavar=("LOW", "HIGH")
    )
    args = parser.parse_args()
    if not (args.photos / "annotations.json").is_file():
        print(f"no annotations.json under {args.photos}", file=sys.stderr)
        return 2
    detector, embedder = default_detector(), default_embedder()
    faces: list[np.ndarray] = []
    photo_of: list[int] = []
    entries = json.loads((args.photos / "annotations.json").read_text("utf-8"))
    for number, entry in enumerate(entries):
        picture = np.asarray(load_image(args.photos / entry["file"]))
        for face in detector.detect(picture, 0.6):
            if face.height >= 40:
                faces.append(align(picture, face.landmarks))
                photo_of.append(number)
    vectors = embedder.embed(faces)
    distances = 1.0 - vectors @ vectors.T
    first, second = np.triu_indices(len(faces), 1)
    apart = np.asarray(photo_of)[first] != np.asarray(photo_of)[second]
    first, second = first[apart], second[apart]
    values = distances[first, second]
    print(f"{len(faces)} faces, {len(values)} pairs across photos; merge line {MAX_DISTANCE}")
    for line in LINES:
        print(f"  <= {line:.2f}: {int((values <= line).sum())} pairs")
    if args.sheet:
        low, high = args.band
        chosen = sorted(
            (float(v), int(a), int(b))
            for v, a, b in zip(values, first, second, strict=True)
            if low < v <= high
        )
        rows = max(1, (len(chosen) + 3) // 4)
        sheet = Image.new("RGB", (4 * 240, rows * 120), "white")
        draw = ImageDraw.Draw(sheet)
        for index, (value, a, b) in enumerate(chosen):
            x, y = index % 4 * 240, index // 4 * 120
            sheet.paste(Image.fromarray(faces[a]), (x, y))
            sheet.paste(Image.fromarray(faces[b]), (x + 112, y))
            draw.text((x + 2, y + 100), f"{value:.3f}", fill="yellow")
        sheet.save(args.sheet)
        print(f"{len(chosen)} pairs in ({low}, {high}] drawn in {args.sheet}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
