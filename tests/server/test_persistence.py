"""Tasks outlive the process; old ones are swept away with their files."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.storage._storage import STALE_SECONDS

from tests.server.conftest import start, upload, wait
from tests.server.images import astronaut, encode, three_faces

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]
TOKENS = ["restart-token"]


def _client(server: LocalServer) -> httpx.Client:
    headers = {"Authorization": f"Bearer {server.token}"}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


def test_a_task_queued_before_a_restart_completes_after_it(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, tokens=TOKENS, workers=0) as first, _client(first) as api:
        task_id = start(api, upload(api, encode(three_faces().pixels)))
        assert api.get(f"/v1/face-detection/{task_id}").json()["status"] == "queued"
    with LocalServer(data_dir=tmp_path, tokens=TOKENS, workers=1) as second, _client(second) as api:
        task = wait(api, task_id)
    assert task["status"] == "complete"
    assert len(task["faces"]) == 3


def test_a_task_cut_short_while_rendering_runs_again(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, tokens=TOKENS, workers=0) as first, _client(first) as api:
        task_id = start(api, upload(api, encode(astronaut())))
    # What a process killed mid-detection leaves behind: `rendering`, one face stored.
    with sqlite3.connect(tmp_path / "tasks.sqlite3") as db:
        db.execute("UPDATE tasks SET status = 'rendering', progress = 0.5 WHERE id = ?", (task_id,))
        db.execute(
            "INSERT INTO faces (task_id, frame, idx, x, y, width, height, score)"
            " VALUES (?, 0, 7, 1, 1, 1, 1, 0.9)",
            (task_id,),
        )
    with LocalServer(data_dir=tmp_path, tokens=TOKENS, workers=1) as second, _client(second) as api:
        task = wait(api, task_id)
    assert task["status"] == "complete"
    assert [face["path"].rsplit("/", 1)[1] for face in task["faces"]] == ["0-0.png"]


def test_tasks_past_retention_are_deleted_with_their_files(tmp_path: Path) -> None:
    with (
        LocalServer(data_dir=tmp_path, tokens=TOKENS, sweep_interval=0.2) as server,
        _client(server) as api,
    ):
        old = wait(api, start(api, upload(api, encode(astronaut()))))
        recent = wait(api, start(api, upload(api, encode(astronaut()))))
        assert (tmp_path / "files" / old["id"] / "0-0.png").is_file()
        eight_days_ago = time.time() - 8 * 86400
        with sqlite3.connect(tmp_path / "tasks.sqlite3") as db:
            db.execute("UPDATE tasks SET created_at = ? WHERE id = ?", (eight_days_ago, old["id"]))
        deadline = time.monotonic() + 30
        # The sweep deletes the task, then its files: the task is never left pointing at
        # missing files, and the files follow a moment later.
        while (
            api.get(f"/v1/face-detection/{old['id']}").status_code != 404
            or (tmp_path / "files" / old["id"]).exists()
        ):
            assert time.monotonic() < deadline, "the sweep did not run"
            time.sleep(0.1)
        assert httpx.get(old["faces"][0]["url"]).status_code == 404
        assert api.get(f"/v1/face-detection/{recent['id']}").status_code == 200
        assert (tmp_path / "files" / recent["id"] / "0-0.png").is_file()


def test_uploads_past_retention_are_deleted(tmp_path: Path) -> None:
    with (
        LocalServer(data_dir=tmp_path, tokens=TOKENS, sweep_interval=0.2, workers=0) as server,
        _client(server) as api,
    ):
        path = upload(api, encode(astronaut()))
        asset_id = path.split("/")[1]
        assert (tmp_path / "files" / asset_id).is_dir()
        with sqlite3.connect(tmp_path / "tasks.sqlite3") as db:
            db.execute("UPDATE assets SET created_at = 0 WHERE id = ?", (asset_id,))
        deadline = time.monotonic() + 30
        while (tmp_path / "files" / asset_id).exists():
            assert time.monotonic() < deadline, "the sweep did not run"
            time.sleep(0.1)
        reply = api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
        assert reply.status_code == 422


def test_the_sweep_deletes_old_partial_writes_and_leaves_fresh_ones(tmp_path: Path) -> None:
    with LocalServer(data_dir=tmp_path, tokens=TOKENS, sweep_interval=0.2, workers=0):
        fresh, old = tmp_path / "tmp" / "tmpfresh", tmp_path / "tmp" / "tmpold"
        fresh.write_bytes(b"being written")
        old.write_bytes(b"cut short long ago")
        long_ago = time.time() - STALE_SECONDS - 60
        os.utime(old, (long_ago, long_ago))
        deadline = time.monotonic() + 30
        while old.exists():
            assert time.monotonic() < deadline, "the sweep did not run"
            time.sleep(0.1)
        assert fresh.exists()
