"""`python -m benchmarks [--quick] [--only PART]...`: run the benchmarks, print, save JSON."""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from . import (
    _accuracy,
    _cluster,
    _detection,
    _latency,
    _memory,
    _overhead,
    _people,
    _photo_latency,
    _photos,
    _report,
    _throughput,
    _waiters,
)
from ._common import MIB, Figure, Settings
from ._server import BenchServer

_photos.keep_pillow_heif_out()

# Parts that need the local server, in the order they run.
SERVER_PARTS: dict[str, Callable[[BenchServer, Settings, Path], list[Figure]]] = {
    "overhead": _overhead.run,
    "latency": _latency.run,
    "photo-latency": _photo_latency.run,
    "memory": _memory.run,
    "throughput": _throughput.run,
}
PARTS = [*SERVER_PARTS, "waiters", "cluster", "detection", "photos", "people", "accuracy"]
IGNORING_PREFER_PARTS = ("overhead", "latency", "throughput")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run: fewer runs, smaller files"
    )
    parser.add_argument(
        "--only", action="append", choices=PARTS, metavar="PART",
        help=f"run only this part (repeatable): {', '.join(PARTS)}",
    )  # fmt: skip
    parser.add_argument(
        "--output", type=Path, default=Path("bench-results.json"), help="where to write JSON"
    )
    parser.add_argument(
        "--face-eval", type=Path, action="append", metavar="DIR",
        help="a labelled face set (repeatable; default: ../shared/data/face-eval and"
        " face-eval-wider-sample beside it, where present)",
    )  # fmt: skip
    parser.add_argument(
        "--profile", type=Path, metavar="DIR",
        help="profile this process during each part (pyinstrument); text reports in DIR",
    )  # fmt: skip
    return parser.parse_args(argv)


def profiled(part: str, action: Callable[[], list[Figure]], folder: Path) -> list[Figure]:
    """`action()` under pyinstrument; the report goes to `folder/<part>.txt`."""
    from pyinstrument import Profiler

    folder.mkdir(parents=True, exist_ok=True)
    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        return action()
    finally:
        profiler.stop()
        report = profiler.output_text(unicode=True, show_all=False)
        (folder / f"{part}.txt").write_text(report, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings.quick_run() if args.quick else Settings()
    parts = args.only or PARTS
    # The first default set always (it says "skipped" when ../shared is absent); the
    # others where present.
    face_sets = args.face_eval or [
        path for n, path in enumerate(_accuracy.DEFAULT_SETS) if n == 0 or path.is_dir()
    ]
    started, machine = datetime.now(UTC), _report.machine()
    figures: list[Figure] = []
    skipped: list[str] = []
    errors: list[str] = []

    def attempt(part: str, action: Callable[[], list[Figure]]) -> None:
        print(f"-- {part} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            found = profiled(part, action, args.profile) if args.profile else action()
        except Exception as exc:
            traceback.print_exc()
            errors.append(f"{part}: {type(exc).__name__}: {exc}")
            return
        if not found:
            skipped.append(part)
        figures.extend(found)
        print(f"   {part} took {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="magic-hour-bench-work-") as tmp:
        workdir = Path(tmp)
        server_parts = [part for part in SERVER_PARTS if part in parts]
        if server_parts:
            # The upload limit must let the big upload through.
            with BenchServer(max_upload_bytes=settings.upload_bytes + 16 * MIB) as server:
                for part in server_parts:
                    run = SERVER_PARTS[part]
                    attempt(part, lambda: run(server, settings, workdir))  # noqa: B023 -- called at once
            # The same against a server that ignores `Prefer: wait`, as the hosted API does:
            # the SDK's figures there must be no worse than before it asked.
            plain_parts = [p for p in server_parts if p in IGNORING_PREFER_PARTS]
            if plain_parts:
                with BenchServer(max_wait_seconds=0) as server:
                    for part in plain_parts:
                        run = SERVER_PARTS[part]
                        before = len(figures)
                        label = f"{part} (server ignoring Prefer)"
                        attempt(label, lambda: run(server, settings, workdir))  # noqa: B023
                        for figure in figures[before:]:
                            figure.section += " - server ignoring Prefer: wait"
        if "waiters" in parts:
            attempt("waiters", lambda: _waiters.run(settings, workdir))
        if "cluster" in parts:
            attempt("cluster", lambda: _cluster.run(settings, workdir))
        if "detection" in parts:
            attempt("detection", lambda: _detection.run(settings, workdir))
        if "photos" in parts:
            attempt("photos", lambda: _photos.run(settings, workdir))
        if "people" in parts:
            attempt("people", lambda: _people.run(settings, workdir))
        if "accuracy" in parts:
            attempt(
                "accuracy",
                lambda: _accuracy.run_sets(face_sets, limit=settings.accuracy_images),
            )

    print()
    print(_report.table(figures))
    for problem in errors:
        print(f"ERROR {problem}")
    command = shlex.join(["scripts/bench", *(argv if argv is not None else sys.argv[1:])])
    _report.write_json(
        args.output,
        figures,
        command=command,
        quick=args.quick,
        skipped=skipped,
        errors=errors,
        started=started,
        machine_before=machine,
    )
    print(f"\nwrote {args.output}  ({command}; load average at start {machine['load_average']})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
