"""Benchmark video face detection: speed as a multiple of real time, and peak memory.

    .venv/bin/python scripts/bench_video.py            # 10 s 720p 30 fps, two faces
    .venv/bin/python scripts/bench_video.py --memory   # also: peak RSS, short vs long 1080p

The speed figure is the clip's duration divided by the wall time of `process_video` (the
clip is made first, outside the timing). The memory check runs each clip in a fresh process
and compares peak RSS: streaming means a clip four times longer needs no more memory.
The real clip in ../shared/data/videos is timed too when it is there.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.video.clips import MovingFace, astronaut_face, cameraman_face, write_clip  # noqa: E402

SHARED_CLIP = ROOT.parent / "shared" / "data" / "videos" / "short_hamilton_clip.mp4"


def two_faces(seconds: float, width: int, height: int) -> list[MovingFace]:
    """Two faces a quarter of the frame high, crossing the frame on different paths."""
    size = height // 4
    w, h = width, height
    return [
        MovingFace(astronaut_face(), size, 0.0, seconds, (w * 0.05, h * 0.15), (w * 0.5, h * 0.4)),
        MovingFace(cameraman_face(), size, 0.0, seconds, (w * 0.8, h * 0.55), (w * 0.3, h * 0.1)),
    ]


def make_clip(path: Path, seconds: float, width: int, height: int, fps: int) -> None:
    write_clip(
        path,
        two_faces(seconds, width, height),
        width=width,
        height=height,
        fps=fps,
        seconds=seconds,
        options={"preset": "veryfast"},
    )


def run_once(path: Path, sample_fps: float, repeat: int = 1) -> dict[str, float]:
    """Process one clip `repeat` times in this process: best wall time, faces, peak RSS.

    The best of a few runs is the figure least disturbed by whatever else the machine does.
    """
    from magic_hour_server.detection._detector import default_detector
    from magic_hour_server.video._video import process_video

    from tests.video.conftest import RecordingSink

    detector = default_detector()
    detector.detect(astronaut_face(), 0.5)  # load and warm the model outside the timing
    best, cpu, faces = float("inf"), 0.0, 0
    for _ in range(repeat):
        sink = RecordingSink()
        started, started_cpu = time.perf_counter(), time.process_time()
        process_video(path, detector, 0.5, sink, sample_fps=sample_fps)
        elapsed = time.perf_counter() - started
        if elapsed < best:
            best, cpu, faces = elapsed, time.process_time() - started_cpu, len(sink.faces)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": best, "cpu_seconds": cpu, "faces": faces, "peak_rss_mib": peak_kib / 1024}


def in_fresh_process(path: Path, sample_fps: float, repeat: int = 1) -> dict[str, float]:
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]);"
        "from scripts.bench_video import run_once;"
        "print(json.dumps(run_once(__import__('pathlib').Path(sys.argv[2]),"
        " float(sys.argv[3]), int(sys.argv[4]))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(path), str(sample_fps), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def duration_of(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return (container.duration or 0) / av.time_base


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sample-fps", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs per clip; the best counts")
    parser.add_argument("--memory", action="store_true", help="also compare peak RSS")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        clip = Path(folder) / "720p.mp4"
        make_clip(clip, 10.0, 1280, 720, 30)
        result = in_fresh_process(clip, args.sample_fps, args.repeat)
        speed = 10.0 / result["seconds"]
        print(
            f"720p 30 fps, 10 s, two faces: {result['seconds']:.2f} s "
            f"(CPU {result['cpu_seconds']:.2f} s), {speed:.1f}x real time, "
            f"{result['faces']:.0f} faces, peak RSS {result['peak_rss_mib']:.0f} MiB"
        )
        if SHARED_CLIP.exists():
            real = in_fresh_process(SHARED_CLIP, args.sample_fps, args.repeat)
            seconds = duration_of(SHARED_CLIP)
            print(
                f"{SHARED_CLIP.name} ({seconds:.0f} s, 640x360): {real['seconds']:.2f} s, "
                f"{seconds / real['seconds']:.1f}x real time, {real['faces']:.0f} faces"
            )
        if args.memory:
            for seconds in (5.0, 20.0):
                long_clip = Path(folder) / f"1080p-{seconds:.0f}.mp4"
                make_clip(long_clip, seconds, 1920, 1080, 30)
                peak = in_fresh_process(long_clip, args.sample_fps)
                print(
                    f"1080p 30 fps, {seconds:.0f} s: peak RSS {peak['peak_rss_mib']:.0f} MiB, "
                    f"{seconds / peak['seconds']:.1f}x real time"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
