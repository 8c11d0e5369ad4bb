"""Same-person and different-person embedding distances on the labelled clips.

    .venv/bin/python scripts/people_distances.py [--shared ../shared/data/videos]

For every labelled clip (the built ones of tests/video/people_clips.json, and the real
clips of benchmarks/labels/ found under --shared), runs the server's video pass and takes
each confirmed track's mean face embedding (faces at least 40 px tall, detector score 0.6,
usable), names the track by its labels (the person most of its faces show), and prints the
cosine distances between tracks of the same person and of different people, and how many
pairs of each fall on either side of the merge threshold. Tracks that share a frame are
never merged; their distances are listed apart.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.detection._people import MAX_DISTANCE, distance
    from magic_hour_server.video._video import process_video

    from tests.video.people import HandLabels, IgnoringSink, built_clips

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT / ".." / "shared" / "data" / "videos")
    args = parser.parse_args()
    detector = default_detector()
    work = Path(tempfile.mkdtemp(prefix="people-distances-"))
    clips: list[tuple[str, Path, Any]] = [
        (c.name, c.write(work / f"{c.name}.mp4"), c) for c in built_clips()
    ]
    for file in sorted((ROOT / "benchmarks" / "labels").glob("*.json")):
        labels = HandLabels.load(file)
        if (args.shared / labels.clip).is_file():
            clips.append((labels.clip, args.shared / labels.clip, labels))
    same: list[float] = []
    different: list[float] = []
    for name, path, labels in clips:
        found = process_video(path, detector, 0.5, IgnoringSink())
        votes: dict[int, Counter[str]] = defaultdict(Counter)
        spans: dict[int, tuple[int, int]] = {}
        for seen in found.observations:
            who = labels.who(seen.frame, seen.box)
            if who is not None:
                votes[seen.track][who] += 1
            first, last = spans.get(seen.track, (seen.frame, seen.frame))
            spans[seen.track] = (min(first, seen.frame), max(last, seen.frame))
        tracks = [
            (t, votes[t].most_common(1)[0][0], v)
            for t, v in found.track_identities.items()
            if votes[t]
        ]
        print(f"\n{name}: {len(tracks)} tracks with embeddings")
        for i, (a, who_a, va) in enumerate(tracks):
            for b, who_b, vb in tracks[i + 1 :]:
                d = distance(va, vb)
                (a1, a2), (b1, b2) = spans[a], spans[b]
                overlap = a1 <= b2 and b1 <= a2
                kind = "same" if who_a == who_b else "different"
                note = " (share frames: never merged)" if overlap else ""
                print(f"  {kind:9} {d:.3f}  {who_a} / {who_b}{note}")
                if not overlap:
                    (same if kind == "same" else different).append(d)
    print(f"\nmerge threshold {MAX_DISTANCE}; pairs of tracks that do not share a frame:")
    for kind, values in (("same person", same), ("different people", different)):
        if values:
            below = sum(v <= MAX_DISTANCE for v in values)
            print(
                f"  {kind}: {len(values)} pairs, min {min(values):.3f}, max {max(values):.3f}, "
                f"<= threshold {below}"
            )
        else:
            print(f"  {kind}: no pairs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
