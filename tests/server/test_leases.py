"""A worker keeps its task while it runs longer than a lease: its heartbeat renews it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from magic_hour import Client
from magic_hour_server import LocalServer

from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


def test_a_task_longer_than_its_lease_is_run_once(tmp_path: Path) -> None:
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(encode(astronaut()))
    data = tmp_path / "data"
    # Two workers: without a heartbeat, the idle one would take the task over as soon as
    # its 0.4 s lease ran out, and run it a second time.
    with LocalServer(data_dir=data, workers=2, lease_seconds=0.4) as server:
        server.outcomes.slow_next_task(2.0)
        with Client(token=server.token, base_url=server.url) as client:
            slow = client.v1.face_detection.generate(
                assets={"target_file_path": photo}, download_outputs=False
            )
            quick = client.v1.face_detection.generate(  # the next one: a new lease
                assets={"target_file_path": photo}, download_outputs=False
            )
    assert slow.status == quick.status == "complete"
    assert len(slow.faces) == len(quick.faces) == 1
    with sqlite3.connect(data / "tasks.sqlite3") as db:
        attempts = dict(db.execute("SELECT id, attempts FROM tasks").fetchall())
    assert attempts == {slow.id: 1, quick.id: 1}
