"""A worker outlives a failure to record a task's outcome, and the task still ends."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.tasks._tasks import Store

from tests.server.conftest import detect
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_a_failed_finish_ends_the_task_in_error_and_the_worker_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_finish = Store.finish
    calls: list[str] = []

    def finish_failing_once(self: Store, task_id: str, **kwargs: Any) -> None:
        calls.append(task_id)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database or disk is full")
        real_finish(self, task_id, **kwargs)

    monkeypatch.setattr(Store, "finish", finish_failing_once)
    image = encode(astronaut())
    with (
        LocalServer(data_dir=tmp_path / "data", workers=1) as server,
        httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        ) as api,
    ):
        first = detect(api, image)
        second = detect(api, image)  # the same single worker thread takes it
    assert first["status"] == "error"
    assert first["error_message"] == "the server could not store the result"
    assert second["status"] == "complete" and len(second["faces"]) == 1
    assert calls[:2] == [first["id"], first["id"]]
