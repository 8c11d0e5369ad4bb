"""Load: many clients running generate() in a loop against one server, for a while.

    python -m tests.faults.soak [--clients 50] [--duration 60]      (or `make soak`)

Starts `magic-hour serve` on a loopback port with a fresh data directory, runs
`--clients` AsyncClients that each call generate() (upload, create, poll, download)
on a real photo until `--duration` seconds have passed, lets the calls in flight
finish, then checks every task the clients created against the server. Prints a
table; exits 1 when a task was lost, the server holds a task no client knows of, or
the server answered 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from magic_hour import AsyncClient, MagicHourError, ProgressEvent, TaskCreated, TaskFailedError

from tests.faults._process import ServerProcess, free_port
from tests.server.images import astronaut, encode

TOKEN = "soak-test-token-0b6e"


@dataclass
class SoakReport:
    clients: int
    duration: float
    requests: int = 0
    polls: int = 0
    held_polls: int = 0
    created: int = 0
    completed: int = 0
    failed: int = 0
    lost: int = 0
    unexpected: int = 0
    server_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.unexpected == 0 and self.server_errors == 0

    def table(self) -> str:
        rows = [
            ("clients", f"{self.clients}"),
            ("duration (s)", f"{self.duration:g} (ran {self.elapsed:.1f})"),
            ("HTTP requests", f"{self.requests}"),
            ("HTTP requests per task", f"{self.requests / max(self.created, 1):.1f}"),
            ("GET polls per task", f"{self.polls / max(self.created, 1):.1f}"),
            ("polls held by the server (Prefer: wait)", f"{self.held_polls}"),
            ("tasks created", f"{self.created}"),
            ("tasks completed", f"{self.completed}"),
            ("tasks failed", f"{self.failed}"),
            ("tasks lost", f"{self.lost}"),
            ("tasks the clients never saw", f"{self.unexpected}"),
            ("5xx responses", f"{self.server_errors}"),
            ("generate() p50 (s)", f"{self.percentile(0.5):.2f}"),
            ("generate() p99 (s)", f"{self.percentile(0.99):.2f}"),
            ("completed per second", f"{self.completed / max(self.elapsed, 1e-9):.2f}"),
        ]
        rows += [(f"error: {name}", f"{count}") for name, count in self.errors.most_common()]
        width = max(len(name) for name, _ in rows)
        lines = [f"| {'measure'.ljust(width)} | value |", f"|{'-' * (width + 2)}|-------|"]
        lines += [f"| {name.ljust(width)} | {value} |" for name, value in rows]
        return "\n".join(lines)


async def run_clients(url: str, photo: Path, work: Path, report: SoakReport) -> set[str]:
    """Run the clients until the deadline; the ids of every task they created."""
    created: set[str] = set()
    deadline = time.monotonic() + report.duration

    async def count(response: httpx.Response) -> None:
        report.requests += 1
        if response.request.method == "GET" and "/v1/face-detection/" in response.url.path:
            report.polls += 1
            report.held_polls += "preference-applied" in response.headers
        if response.status_code >= 500:
            report.server_errors += 1

    def on_progress(event: ProgressEvent) -> None:
        if isinstance(event, TaskCreated):
            created.add(event.id)

    async def client_loop(number: int) -> None:
        out = work / f"client-{number}"
        hooks = {"response": [count]}
        async with (
            httpx.AsyncClient(event_hooks=hooks) as http,
            AsyncClient(token=TOKEN, base_url=url, max_retries=5, httpx_client=http) as client,
        ):
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    await client.v1.face_detection.generate(
                        assets={"target_file_path": photo},
                        download_directory=out,
                        poll_timeout=report.duration + 300,
                        on_progress=on_progress,
                    )
                except TaskFailedError as err:
                    report.failed += 1
                    report.errors[f"task failed: {err.error_message}"] += 1
                except MagicHourError as err:
                    report.errors[type(err).__name__] += 1
                else:
                    report.completed += 1
                    report.latencies.append(time.monotonic() - started)
                shutil.rmtree(out, ignore_errors=True)

    await asyncio.gather(*(client_loop(n) for n in range(report.clients)))
    return created


def _check_tasks(url: str, data_dir: Path, created: set[str], report: SoakReport) -> None:
    """Every created task is finished on the server; the server has no task besides them."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=headers, timeout=30) as api:
        for task_id in sorted(created):
            reply = api.get(f"/v1/face-detection/{task_id}")
            if reply.status_code != 200 or reply.json()["status"] not in ("complete", "error"):
                report.lost += 1
    uri = f"file:{data_dir / 'tasks.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        stored = {row[0] for row in db.execute("SELECT id FROM tasks")}
    report.unexpected = len(stored - created)
    report.lost += len(created - stored)


def soak(clients: int = 50, duration: float = 60.0, workers: int | None = None) -> SoakReport:
    """Run the load against a fresh `magic-hour serve`; the figures."""
    report = SoakReport(clients=clients, duration=duration)
    with tempfile.TemporaryDirectory(prefix="magic-hour-soak-") as temp:
        work = Path(temp)
        photo = work / "astronaut.png"
        photo.write_bytes(encode(astronaut()))
        extra = ["--workers", str(workers)] if workers is not None else []
        extra += ["--quota-per-minute", "0"]  # a load generator: capacity, not the quota
        server = ServerProcess.serve(
            work / "data", free_port(), [TOKEN], work / "server.log", *extra
        )
        with server:
            started = time.monotonic()
            created = asyncio.run(run_clients(server.url, photo, work / "out", report))
            report.elapsed = time.monotonic() - started
            report.created = len(created)
            _check_tasks(server.url, work / "data", created, report)
        if TOKEN in server.log():
            report.errors["the token appeared in the server log"] += 1
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.soak", description=__doc__)
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients (50)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--workers", type=int, default=None, help="server detection workers")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        parser.error("--clients must be >= 1 and --duration > 0")
    report = soak(args.clients, args.duration, args.workers)
    print(report.table())
    print(
        "OK: nothing lost, no 5xx" if report.ok else "FAILED: see lost, unknown tasks or 5xx above"
    )
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
