"""The whole server on PostgreSQL, one process: detection, long polls, restart recovery."""

from __future__ import annotations

from pathlib import Path

import pytest
from magic_hour import Client
from magic_hour_server import LocalServer

from tests.cluster.postgres import Postgres
from tests.server.images import astronaut, encode, three_faces

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_detection_on_postgresql(postgres: Postgres, tmp_path: Path) -> None:
    photo, group = tmp_path / "astronaut.png", tmp_path / "three.png"
    photo.write_bytes(encode(astronaut()))
    group.write_bytes(encode(three_faces().pixels))
    with (
        LocalServer(database=postgres.new_database()) as server,
        Client(token=server.token, base_url=server.url) as client,
    ):
        one = client.v1.face_detection.generate(
            assets={"target_file_path": photo}, download_directory=tmp_path / "one"
        )
        three = client.v1.face_detection.generate(
            assets={"target_file_path": group}, download_directory=tmp_path / "three"
        )
    assert (one.status, len(one.faces), len(one.downloaded_paths)) == ("complete", 1, 1)
    assert (three.status, len(three.faces)) == ("complete", 3)


def test_a_data_directory_of_another_cluster_is_refused(postgres: Postgres, tmp_path: Path) -> None:
    from magic_hour_server.tasks._database import DatabaseError

    with LocalServer(data_dir=tmp_path, database=postgres.new_database()):
        pass
    server = LocalServer(data_dir=tmp_path, database=postgres.new_database())
    with pytest.raises(DatabaseError, match="belongs to the cluster on postgresql:"):
        server.start()


def test_readiness_follows_the_database_and_requests_wait_out_a_short_crash(
    postgres: Postgres, tmp_path: Path
) -> None:
    """/healthz is liveness (the process answers), /readyz readiness (the database
    answers at our schema). A request that meets a crashed database waits for it, up to
    database_wait_seconds, instead of answering 503 at once."""
    import threading
    import time

    import httpx

    # A wait long enough for the restart on a machine busy with other tests: what is
    # tested is that the request waits instead of answering 503 at once.
    with LocalServer(database=postgres.new_database(), database_wait_seconds=25) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        assert httpx.get(f"{server.url}/readyz").json() == {"status": "ready"}
        postgres.crash()
        try:
            down = httpx.get(f"{server.url}/readyz", timeout=30)
            assert down.status_code == 503 and down.headers["Retry-After"] == "1"
            assert down.json()["reason"] == "the task database cannot be reached"
            assert httpx.get(f"{server.url}/healthz").status_code == 200
            answers: list[int] = []
            reader = threading.Thread(target=lambda: answers.append(httpx.get(
                f"{server.url}/v1/face-detection/nope", headers=headers, timeout=30
            ).status_code))  # fmt: skip
            reader.start()
            time.sleep(1.5)
        finally:
            postgres.start()
        reader.join(30)
        assert answers == [404]  # answered once the database was back, not 503
        assert httpx.get(f"{server.url}/readyz").status_code == 200


def test_the_test_database_server_is_stopped_after_a_crash_and_start() -> None:
    # `postgres_server()` stops the server with `Postgres.stop()` at the end: the postmaster
    # started again after a crash is not the one its library knows, and was left running.
    from tests.cluster.postgres import postgres_server

    with postgres_server() as postgres:
        postgres.crash()
        postgres.start()
        pid = postgres.postmaster_pid()
        assert pid is not None and _alive(pid)
        postgres.stop()
        assert postgres.postmaster_pid() is None
        assert _gone_within(pid, 5.0)
        postgres.stop()  # stopping a stopped server is not an error


def _gone_within(pid: int, seconds: float) -> bool:
    import time

    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    """Whether `pid` runs: not gone, and not a zombie waiting to be reaped."""
    import os

    try:
        os.kill(pid, 0)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (ProcessLookupError, FileNotFoundError):
        return False
