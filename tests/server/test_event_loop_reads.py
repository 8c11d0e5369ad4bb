"""Task and upload reads made by the event loop itself (SQLite), and their way back to a
worker thread when such a read cannot answer at once."""

from __future__ import annotations

import httpx
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.tasks._snapshots import Busy, SnapshotReader

from tests.server.conftest import detect, start, upload, wait
from tests.server.images import astronaut, encode

pytestmark = pytest.mark.timeout(60)


def test_reads_are_made_on_the_event_loop_when_sqlite_can_answer_at_once(
    api: httpx.Client, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    task_read, asset_read = SnapshotReader.task, SnapshotReader.asset

    def task(self: SnapshotReader, task_id: str) -> object:
        made.append("task")
        return task_read(self, task_id)

    def asset(self: SnapshotReader, asset_id: str, name: str) -> object:
        made.append("asset")
        return asset_read(self, asset_id, name)

    monkeypatch.setattr(SnapshotReader, "task", task)
    monkeypatch.setattr(SnapshotReader, "asset", asset)
    assert server.state.store.reads_never_wait
    result = detect(api, encode(astronaut(), "png"))
    assert result["status"] == "complete" and len(result["faces"]) == 1
    assert "asset" in made and "task" in made


def test_a_read_that_would_wait_is_made_in_a_thread_instead(
    api: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused: list[str] = []

    def busy(self: SnapshotReader, *args: object) -> object:
        refused.append(str(args[0]))
        raise Busy("database is locked")

    monkeypatch.setattr(SnapshotReader, "task", busy)
    monkeypatch.setattr(SnapshotReader, "asset", busy)
    file_path = upload(api, encode(astronaut(), "png"))  # the upload's check falls back too
    result = wait(api, start(api, file_path))
    assert result["status"] == "complete" and len(result["faces"]) == 1
    assert result["id"] in refused and file_path.split("/")[1] in refused
    missing = api.get("/v1/face-detection/nosuchtask")
    assert missing.status_code == 404
