"""The cluster under chaos: clients running generate() while its parts fail.

    python -m tests.faults.chaos [--clients 20] [--duration 60]    (or `make soak`)

A real PostgreSQL (the tests' own), two API processes behind one address (a balancer
that skips a process refusing connections), two worker processes, one shared directory.
For `--duration` seconds clients loop on generate() while, on a schedule: a worker is
SIGKILLed and started again every ~10 s; the database is stopped in immediate mode
(a crash) and started again about 3 s later, twice; one API process is stopped and
started again. Then every task the clients created is checked. Exit 1 when a task was
lost, a face duplicated, a task exists that no client knows of, or an error reached a
caller.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.cluster.postgres import Postgres, postgres_server
from tests.cluster.worker import Worker
from tests.faults._process import ServerProcess, free_port
from tests.faults._proxy import FaultProxy
from tests.faults.soak import TOKEN, SoakReport, run_clients
from tests.server.images import astronaut, encode


class Chaos:
    """The failure schedule, run in a thread of its own; what happened, with times."""

    def __init__(
        self,
        postgres: Postgres,
        apis: list[ServerProcess],
        workers: list[Worker],
        restart_worker: Callable[[int], Worker],
        duration: float,
    ) -> None:
        self.postgres, self.apis, self.workers = postgres, apis, workers
        self.restart_worker = restart_worker
        self.duration = duration
        self.events: list[str] = []
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def note(self, text: str) -> None:
        self.events.append(f"{time.monotonic() - self.started:5.1f} s  {text}")

    def _at(self, seconds: float) -> bool:
        """Sleep until `seconds` after the start; False when the run is over by then."""
        delay = self.started + seconds - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        return seconds < self.duration

    def _run(self) -> None:
        plan: list[tuple[float, str]] = []
        plan += [(t, "kill-worker") for t in range(8, int(self.duration), 10)]
        plan += [(self.duration * 0.3, "crash-database"), (self.duration * 0.7, "crash-database")]
        plan += [(self.duration * 0.5, "restart-api")]
        for number, (when, what) in enumerate(sorted(plan)):
            if not self._at(when):
                return
            if what == "kill-worker":
                index = number % len(self.workers)
                self.workers[index].kill()
                self.note(f"worker {index} SIGKILLed")
                self.workers[index] = self.restart_worker(index)
                self.note(f"worker {index} started again")
            elif what == "crash-database":
                self.postgres.crash()
                self.note("database stopped (immediate mode)")
                time.sleep(3.0)
                self.postgres.start()
                self.note("database started again")
            else:
                self.apis[0].stop()
                self.note("API process 0 stopped")
                time.sleep(1.0)
                self.apis[0].start()
                self.note("API process 0 started again")


def _faces_and_tasks(database: str) -> tuple[set[str], int]:
    """The tasks in the database, and how many faces beyond one per task (the photo has
    one face: a second is a retried run's duplicate)."""
    with psycopg.connect(database) as connection:
        tasks = {row[0] for row in connection.execute("SELECT id FROM tasks")}
        (duplicated,) = connection.execute(
            "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM faces"
            " GROUP BY task_id) AS counted WHERE n > 1"
        ).fetchone()  # type: ignore[misc]
    return tasks, int(duplicated)


def chaos(
    clients: int = 20, duration: float = 60.0, logs: Path | None = None
) -> tuple[SoakReport, list[str], int]:
    """Run the load and the failures; the figures, the events, duplicated faces."""
    report = SoakReport(clients=clients, duration=duration)
    with (
        tempfile.TemporaryDirectory(prefix="magic-hour-chaos-") as temp,
        postgres_server() as postgres,
        FaultProxy() as balancer,
    ):
        work = Path(temp)
        photo = work / "astronaut.png"
        photo.write_bytes(encode(astronaut()))
        database, shared = postgres.new_database(), work / "shared"
        # A load generator: it measures what the cluster carries, not the per-key quota.
        arguments = ["--role", "api", "--database", database, "--public-url", balancer.url]
        arguments += ["--quota-per-minute", "0"]
        apis = [
            ServerProcess.serve(shared, free_port(), [TOKEN], work / f"api-{n}.log", *arguments)
            for n in range(2)
        ]
        for api in apis:
            api.start()
        balancer.upstreams = [("127.0.0.1", api.port) for api in apis]

        starts = [0, 0]

        def start_worker(number: int) -> Worker:
            starts[number] += 1  # a log per start: each is awaited by its own "started" line
            log = work / f"worker-{number}-{starts[number]}.log"
            return Worker(database, shared, log, "--lease-seconds", "5")

        workers = [start_worker(n) for n in range(2)]
        schedule = Chaos(postgres, apis, workers, start_worker, duration)
        try:
            schedule.thread.start()
            started = time.monotonic()
            created = asyncio.run(run_clients(balancer.url, photo, work / "out", report))
            report.elapsed = time.monotonic() - started
            schedule.thread.join()
            report.created = len(created)
            stored, duplicated = _faces_and_tasks(database)
            report.unexpected = len(stored - created)
            report.lost = len(created - stored)
            report.lost += _unfinished(balancer.url, created)
            text = "".join(p.read_text("utf-8", "replace") for p in work.glob("*.log"))
            if TOKEN in text:
                report.errors["the token appeared in a server log"] += 1
        finally:
            for worker in schedule.workers:
                worker.stop()
            for api in apis:
                api.stop()
            if logs is not None:
                logs.mkdir(parents=True, exist_ok=True)
                for log in work.glob("*.log"):
                    (logs / log.name).write_bytes(log.read_bytes())
    return report, schedule.events, duplicated


def _unfinished(url: str, created: set[str]) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {TOKEN}"}
    unfinished = 0
    with httpx.Client(base_url=url, headers=headers, timeout=60) as api:
        for task_id in sorted(created):
            reply = api.get(f"/v1/face-detection/{task_id}")
            if reply.status_code != 200 or reply.json()["status"] not in ("complete", "error"):
                unfinished += 1
    return unfinished


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.chaos", description=__doc__)
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (20)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (60)")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this directory")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0:
        parser.error("--clients must be >= 1 and --duration > 0")
    report, events, duplicated = chaos(args.clients, args.duration, args.logs)
    print("\n".join(events))
    print(report.table())
    raised = sum(report.errors.values())  # failed tasks included
    print(f"| duplicated faces | {duplicated} |\n| errors raised to callers | {raised} |")
    ok = report.lost == 0 and report.unexpected == 0 and duplicated == 0 and raised == 0
    print("OK: nothing lost or duplicated, no error reached a caller" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
