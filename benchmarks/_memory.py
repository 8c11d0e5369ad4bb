"""3. Upload memory: peak resident memory of a process uploading a large file, over its baseline.

A fresh process (this module run as a script) imports the SDK, uploads a small file first
so that every code path is loaded, reads its resident memory (the baseline), resets the
kernel's high-water mark (`/proc/self/clear_refs`), uploads the big file with
`client.v1.files.upload_file`, and reads the high-water mark again. The big file is sparse
(made with truncate): reading it costs no disk, but every byte still crosses the socket, and
the parent checks that the server stored all of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ._common import MIB, Figure, Settings, Target
from ._server import BenchServer

SECTION = "3. Upload memory"
TARGET = Target("<=", 64.0)
_TIMEOUT = 1800.0


def run(server: BenchServer, settings: Settings, workdir: Path) -> list[Figure]:
    big = workdir / "upload.mp4"
    with big.open("wb") as file:
        file.truncate(settings.upload_bytes)
    try:
        report = _measure(server, big)
    finally:
        big.unlink(missing_ok=True)
    stored = server.stored_size(report["file_path"])
    server.remove_upload(report["file_path"])
    if stored != settings.upload_bytes:
        raise RuntimeError(f"the server stored {stored} bytes of {settings.upload_bytes}")
    growth = (report["peak_kib"] - report["baseline_kib"]) / 1024
    seconds = report["seconds"]
    context = (
        f"{settings.upload_bytes / MIB:.0f} MiB sent in {seconds:.1f} s"
        f" ({settings.upload_bytes / MIB / seconds:.0f} MiB/s), all stored by the server;"
        f" baseline RSS {report['baseline_kib'] / 1024:.0f} MiB"
        + ("" if report["hwm_reset"] else "; high-water mark not resettable here")
    )
    figure = Figure(SECTION, "peak RSS growth during upload_file", growth, " MiB", TARGET)
    figure.context, figure.details = context, {**report, "stored_bytes": stored}
    return [figure]


def _measure(server: BenchServer, big: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    command = [sys.executable, "-m", "benchmarks._memory", server.url, str(big)]
    done = subprocess.run(
        command,
        input=server.token,  # not on the command line, where `ps` would show it
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the upload process failed:\n{done.stderr[-2000:]}")
    report: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_high_water_mark() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _child(url: str, path: Path) -> dict[str, Any]:
    from magic_hour import Client

    token = sys.stdin.read().strip()
    warmup = path.with_name("warmup.mp4")
    warmup.write_bytes(bytes(MIB))
    with Client(token=token, base_url=url) as client:
        client.v1.files.upload_file(warmup)
        warmup.unlink()
        baseline = _status_kib("VmRSS")
        reset = _reset_high_water_mark()
        start = time.perf_counter()
        file_path = client.v1.files.upload_file(path)
        seconds = time.perf_counter() - start
        peak = _status_kib("VmHWM")
    return {
        "file_path": file_path,
        "baseline_kib": baseline,
        "peak_kib": peak,
        "hwm_reset": reset,
        "seconds": seconds,
    }


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], Path(sys.argv[2]))))
