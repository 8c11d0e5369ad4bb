"""SIGKILL the server while tasks are queued and rendering; start it again on the same
data directory and port. Every task completes exactly once, and a client that was
polling through the outage gets its result."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from magic_hour import Client, FaceDetectionResult, ProgressEvent, TaskCreated
from PIL import Image

from tests.faults._process import ServerProcess, free_port
from tests.server.images import astronaut, encode, three_faces

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TOKEN = "restart-test-token-7f3a"
QUEUED_TASKS = 8


def _statuses(data_dir: Path) -> dict[str, str]:
    uri = f"file:{data_dir / 'tasks.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
        return dict(db.execute("SELECT id, status FROM tasks").fetchall())


def _faces(data_dir: Path, task_id: str) -> list[tuple[int, int]]:
    uri = f"file:{data_dir / 'tasks.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
        rows = db.execute(
            "SELECT frame, idx FROM faces WHERE task_id = ? ORDER BY frame, idx", (task_id,)
        )
        return [(int(frame), int(idx)) for frame, idx in rows]


def _upload(api: httpx.Client, data: bytes) -> str:
    reply = api.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
    )
    reply.raise_for_status()
    item = reply.json()["items"][0]
    httpx.put(item["upload_url"], content=data, timeout=30).raise_for_status()
    return str(item["file_path"])


def _wait_for_rendering_and_queued(data_dir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        statuses = set(_statuses(data_dir).values())
        if {"rendering", "queued"} <= statuses:
            return
        time.sleep(0.005)
    raise AssertionError("never saw a task rendering while others were queued")


def test_sigkill_while_rendering_loses_and_repeats_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="magic_hour")
    data_dir, out = tmp_path / "data", tmp_path / "out"
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(encode(astronaut()))
    server = ServerProcess.serve(
        data_dir, free_port(), [TOKEN], tmp_path / "server.log", "--workers", "1"
    )
    results: list[FaceDetectionResult | BaseException] = []
    created = threading.Event()

    def on_progress(event: ProgressEvent) -> None:
        if isinstance(event, TaskCreated):
            created.set()

    def poll_through_the_outage() -> None:
        try:
            with Client(token=TOKEN, base_url=server.url, max_retries=8) as client:
                results.append(
                    client.v1.face_detection.generate(
                        assets={"target_file_path": photo},
                        download_directory=out,
                        poll_timeout=180,
                        on_progress=on_progress,
                    )
                )
        except BaseException as err:
            results.append(err)

    expected: dict[str, int] = {}
    waiter = threading.Thread(target=poll_through_the_outage, daemon=True)
    try:
        server.start()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
            inputs = [(_upload(api, encode(astronaut())), 1)]
            inputs.append((_upload(api, encode(three_faces().pixels)), 3))
            for number in range(QUEUED_TASKS):
                path, faces = inputs[number % 2]
                reply = api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
                reply.raise_for_status()
                expected[reply.json()["id"]] = faces
        waiter.start()
        assert created.wait(60), "generate() did not create its task"
        _wait_for_rendering_and_queued(data_dir)
        # A request held by `Prefer: wait` on a queued task when the server dies.
        queued = next(t for t, s in _statuses(data_dir).items() if s == "queued")
        held: list[httpx.Response | httpx.HTTPError] = []

        def hold() -> None:
            try:
                with httpx.Client(base_url=server.url, headers=headers, timeout=60) as api:
                    held.append(
                        api.get(f"/v1/face-detection/{queued}", headers={"Prefer": "wait=30"})
                    )
            except httpx.HTTPError as err:
                held.append(err)

        holder = threading.Thread(target=hold, daemon=True)
        holder.start()
        time.sleep(0.2)
        server.kill()
        holder.join(10)
        assert not holder.is_alive(), "a held request outlived the server"
        assert held and (isinstance(held[0], httpx.HTTPError) or held[0].status_code == 200)
        at_kill = _statuses(data_dir)
        assert "rendering" in at_kill.values() and "queued" in at_kill.values()
        assert not results, "generate() returned while its task was still queued"
        time.sleep(1.0)  # the client keeps polling against a closed port
        server.start()
        waiter.join(timeout=180)
    finally:
        server.stop()

    assert not waiter.is_alive()
    (result,) = results
    assert isinstance(result, FaceDetectionResult), result
    assert result.status == "complete"
    assert len(result.faces) == 1
    (saved,) = result.downloaded_paths
    with Image.open(saved) as crop:
        assert crop.format == "PNG"
    retried = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retrying GET")]
    assert any("ConnectError" in message for message in retried), retried
    expected[result.id] = 1

    # Nothing lost, nothing added, nothing stuck, no face stored twice.
    final = _statuses(data_dir)
    assert set(final) == set(expected)
    assert set(final.values()) == {"complete"}
    for task_id, faces in expected.items():
        assert _faces(data_dir, task_id) == [(0, index) for index in range(faces)]
        stored = sorted(p.name for p in (data_dir / "files" / task_id).iterdir())
        assert stored == [f"0-{index}.png" for index in range(faces)]
    assert list((data_dir / "tmp").iterdir()) == []
    assert TOKEN not in server.log()
