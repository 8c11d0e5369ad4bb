"""The cluster's metrics: a worker's on `--metrics-port`, the queue from every API
process alike, a SIGKILLed worker's task counted once as a reclaimed lease, a scrape
that answers while the database is down, and JSON log lines with no secret in them."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.cluster.postgres import Postgres
from tests.cluster.test_cluster import (
    TOKEN,
    _client,
    _upload,
    _video_task_and_its_worker,
    _wait_done,
    eight_second_clip,
)
from tests.cluster.worker import Worker
from tests.faults._process import ServerProcess, free_port, magic_hour_command
from tests.server.images import astronaut, encode
from tests.server.test_metrics import scrape, total

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]


def api_process(database: str, tmp_path: Path, *extra: str) -> ServerProcess:
    """An API process on `database`, its shared directory and log under `tmp_path`."""
    return ServerProcess.serve(
        tmp_path / "shared", free_port(), [TOKEN], tmp_path / "api.log",
        "--role", "api", "--database", database, *extra,
    )  # fmt: skip


def test_a_killed_worker_s_task_is_a_reclaimed_lease_counted_once(
    postgres: Postgres, tmp_path: Path
) -> None:
    clip = eight_second_clip(tmp_path / "clip.mp4")
    database, shared = postgres.new_database(), tmp_path / "shared"
    with api_process(database, tmp_path, "--log-format", "json") as api:
        workers = [
            Worker(database, shared, tmp_path / f"worker-{n}.log", "--lease-seconds", "3",
                   "--log-format", "json", metrics_port=free_port())
            for n in range(2)
        ]  # fmt: skip
        try:
            photo = _upload(api, encode(astronaut()), "image", "png")
            with _client(api) as http:
                for _ in range(4):
                    http.post("/v1/face-detection", json={"assets": {"target_file_path": photo}})
            _wait_done(database, 4)
            task_id, victim = _video_task_and_its_worker(database, api, workers, clip)
            victim.kill()
            (survivor,) = [w for w in workers if w is not victim]
            rows = _wait_done(database, 5, timeout=120)
            assert survivor.metrics_url is not None
            on_survivor = scrape(survivor.metrics_url)
            on_api = scrape(api.url)
        finally:
            for worker in workers:
                worker.stop()
    assert {row[1] for row in rows} == {"complete"}
    assert total(on_survivor, "magic_hour_leases_reclaimed_total") == 1
    assert total(on_survivor, "magic_hour_tasks_finished_total", kind="video") == 1
    assert total(on_survivor, "magic_hour_worker_slots") == 1
    assert total(on_api, "magic_hour_tasks_created_total") == 5
    assert total(on_api, "magic_hour_queue_depth") == 0
    assert total(on_api, "magic_hour_tasks_finished_total") == 0  # an API process runs none
    # The worker's endpoint is its metrics alone: no queue figures (the API's to report).
    assert total(on_survivor, "magic_hour_queue_depth") == 0
    assert not any(key.startswith("magic_hour_queue_depth") for key in on_survivor)
    # JSON log lines, every one of them, with no secret.
    for log in [tmp_path / "api.log", *(w.log for w in workers)]:
        lines = log.read_text().splitlines()
        assert lines, log
        for line in lines:
            entry = json.loads(line)
            assert {"time", "level", "logger", "message"} <= entry.keys()
            assert TOKEN not in line and "password" not in line
    access = [json.loads(line) for line in (tmp_path / "api.log").read_text().splitlines()
              if '"operation": "create"' in line]  # fmt: skip
    assert len(access) == 5 and all(a["status"] == 200 and "task_id" in a for a in access)
    assert task_id in {a["task_id"] for a in access}


def test_a_scrape_during_a_database_outage_answers_with_the_store_marked_down(
    postgres: Postgres, tmp_path: Path
) -> None:
    with api_process(postgres.new_database(), tmp_path, "--database-wait", "0.5") as api:
        assert total(scrape(api.url), "magic_hour_store_up") == 1
        postgres.stop()
        try:
            with _client(api) as http:
                refused = http.post(
                    "/v1/face-detection", json={"assets": {"target_file_path": "https://a/b.png"}}
                )
            during = scrape(api.url)
        finally:
            postgres.start()
        deadline = time.monotonic() + 30
        while total(scrape(api.url), "magic_hour_store_up") != 1:
            assert time.monotonic() < deadline, "the store did not come back"
            time.sleep(0.2)
    assert refused.status_code == 503
    assert total(during, "magic_hour_store_up") == 0
    assert not any(key.startswith("magic_hour_queue_depth") for key in during)
    assert total(during, "magic_hour_database_unavailable_responses_total") == 1
    assert total(during, "magic_hour_database_waits_total") >= 1
    assert total(during, "magic_hour_http_requests_total", operation="create", status="503") == 1


def test_a_busy_metrics_port_is_a_startup_error(postgres: Postgres, tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        run = subprocess.run(
            [*magic_hour_command(), "serve", "--role", "worker", "--database",
             postgres.new_database(), "--data-dir", str(tmp_path), "--metrics-port", str(port)],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert f"cannot serve metrics on 127.0.0.1 port {port}" in run.stderr
    assert "Traceback" not in run.stderr


def test_metrics_port_is_for_workers_only(tmp_path: Path) -> None:
    run = subprocess.run(
        [*magic_hour_command(), "serve", "--data-dir", str(tmp_path), "--metrics-port", "9"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 2 and "--metrics-port is for --role worker" in run.stderr
