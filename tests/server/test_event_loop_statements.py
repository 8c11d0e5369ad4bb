"""Task and upload statements made by the event loop itself (SQLite), a worker's claim and
finish made on its own connection, and their way back through the engine (in a thread,
for the event loop) when such a statement cannot be made at once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.tasks._at_once import AtOnce, Busy

from tests.server.conftest import detect, start, upload, wait
from tests.server.images import astronaut, encode

pytestmark = pytest.mark.timeout(60)

STATEMENTS = [
    "task",
    "asset",
    "task_for_key",
    "insert_task",
    "insert_asset",
    "mark_uploaded",
    "claim",
    "finish_held",
]


def _record(
    monkeypatch: pytest.MonkeyPatch, made: list[str], busy: set[str]
) -> dict[str, Callable[..., Any]]:
    """Replace AtOnce's statements with ones that note their name (those in `busy` then
    say Busy, as SQLite does when another connection holds the write lock)."""
    originals = {name: getattr(AtOnce, name) for name in STATEMENTS}
    for name, original in originals.items():

        def statement(
            self: AtOnce, *args: Any, _name: str = name, _call: Any = original, **kwargs: Any
        ) -> Any:
            made.append(_name)
            if _name in busy:
                raise Busy("database is locked")
            return _call(self, *args, **kwargs)

        monkeypatch.setattr(AtOnce, name, statement)
    return originals


def test_the_event_loop_makes_the_statements_sqlite_can_answer_at_once(
    api: httpx.Client, server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    _record(monkeypatch, made, busy=set())
    assert server.state.store.answers_at_once
    result = detect(api, encode(astronaut(), "png"))
    assert result["status"] == "complete" and len(result["faces"]) == 1
    # upload-urls, the upload's check and record, the create's check and insert, the task
    # reads, the worker's claim and finish
    made_at_once = {"insert_asset", "asset", "mark_uploaded", "insert_task", "task"}
    assert made_at_once | {"claim", "finish_held"} <= set(made)
    again = api.post(
        "/v1/face-detection",
        json={"assets": {"target_file_path": upload(api, encode(astronaut(), "png"))}},
        headers={"Idempotency-Key": "same-photo"},
    )
    repeat = api.post(
        "/v1/face-detection",
        json={"assets": {"target_file_path": "api-assets/x/y.png"}},
        headers={"Idempotency-Key": "same-photo"},
    )
    assert "task_for_key" in made
    assert again.status_code == 200 and repeat.status_code in (200, 422)


@pytest.mark.parametrize(
    "busy", [set(STATEMENTS), {"insert_task", "insert_asset", "mark_uploaded"}]
)
def test_a_statement_that_would_wait_is_made_in_a_thread_instead(
    api: httpx.Client, server: LocalServer, monkeypatch: pytest.MonkeyPatch, busy: set[str]
) -> None:
    made: list[str] = []
    _record(monkeypatch, made, busy)
    file_path = upload(api, encode(astronaut(), "png"))  # upload-urls and the upload
    task_id = start(api, file_path)  # the create's check and insert
    result = wait(api, task_id)  # the task reads
    assert result["status"] == "complete" and len(result["faces"]) == 1
    assert {"insert_asset", "asset", "mark_uploaded", "task", "claim", "finish_held"} <= set(made)
    if "asset" not in busy:
        assert "insert_task" in made  # tried, refused, made in a thread
    assert api.get("/v1/face-detection/nosuchtask").status_code == 404
    # Nothing was written twice: one upload and one task for this photo.
    store = server.state.store
    task = store.get_task(task_id)
    assert task is not None and task.target == file_path
    with store._engine.connect() as db:
        tasks = db.exec_driver_sql(
            "SELECT count(*) FROM tasks WHERE target = ?", (file_path,)
        ).scalar()
    assert tasks == 1
