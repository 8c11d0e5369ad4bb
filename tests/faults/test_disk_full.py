"""The data directory's disk fills up: uploads fail with a clear error, the server
stays up, what was stored before is intact, and it works again once there is room.

The disk is a real 8 MiB tmpfs mounted on the data directory, which needs root and a
kernel that allows the mount; where that is not possible the test says so and skips.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.faults._process import ServerProcess, free_port
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

TOKEN = "disk-full-test-token-51c9"
FILLER = 3 * 1024 * 1024


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """An 8 MiB tmpfs mounted on a fresh directory, unmounted afterwards."""
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _upload_url(api: httpx.Client) -> tuple[str, str]:
    reply = api.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
    )
    assert reply.status_code == 200, reply.text
    item = reply.json()["items"][0]
    return str(item["upload_url"]), str(item["file_path"])


def _detect(api: httpx.Client, data: bytes) -> dict[str, object]:
    url, path = _upload_url(api)
    assert httpx.put(url, content=data, timeout=30).status_code == 200
    reply = api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
    assert reply.status_code == 200, reply.text
    return _wait(api, reply.json()["id"])


def _wait(api: httpx.Client, task_id: str) -> dict[str, object]:
    for _ in range(600):
        task: dict[str, object] = api.get(f"/v1/face-detection/{task_id}").json()
        if task["status"] in ("complete", "error"):
            return task
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def test_a_full_disk_refuses_uploads_clearly_and_keeps_what_was_stored(
    small_disk: Path, tmp_path: Path
) -> None:
    server = ServerProcess.launcher(small_disk, free_port(), [TOKEN], tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with server, httpx.Client(base_url=server.url, headers=headers, timeout=30) as api:
        before = _detect(api, encode(astronaut()))
        assert before["status"] == "complete"
        face_url = before["faces"][0]["url"]  # type: ignore[index]
        face = httpx.get(face_url, timeout=10).content

        refusals = []
        size = FILLER
        item = {"type": "image", "extension": "png"}
        while size >= 4096:  # fill the disk to its last few KiB, halving the size
            asked = api.post("/v1/files/upload-urls", json={"items": [item]})
            if asked.status_code == 507:  # not even room for the upload's record
                assert "space" in asked.json()["message"]
                break
            url, path = (
                asked.json()["items"][0]["upload_url"],
                asked.json()["items"][0]["file_path"],
            )
            reply = httpx.put(url, content=os.urandom(size), timeout=30)
            assert reply.status_code != 500, reply.text
            if reply.status_code != 200:
                refusals.append((reply, path))
                size //= 2
        assert refusals, "the disk never filled up"
        for reply, path in refusals:
            assert reply.status_code == 507
            assert "space" in reply.json()["message"]
            # The refused upload was not kept: it cannot be used.
            create = api.post("/v1/face-detection", json={"assets": {"target_file_path": path}})
            assert create.status_code in (422, 507), create.text
        assert list((small_disk / "tmp").iterdir()) == []

        # A detection that cannot store its faces ends in `error`, and says why.
        reply = api.post(
            "/v1/face-detection",
            json={"assets": {"target_file_path": before["faces"][0]["path"]}},  # type: ignore[index]
        )
        if reply.status_code == 200:
            failed = _wait(api, reply.json()["id"])
            assert failed["status"] == "error", failed
            assert "space" in str(failed["error_message"])
        else:
            assert reply.status_code == 507, reply.text

        # While full: never a 500, and the server answers.
        assert api.post("/v1/files/upload-urls", json={"items": [item]}).status_code in (200, 507)
        assert api.get(f"/v1/face-detection/{before['id']}").status_code == 200
        assert server.healthy()

        # What was stored before is intact.
        again = api.get(f"/v1/face-detection/{before['id']}").json()
        assert again["status"] == "complete"
        assert again["faces"][0]["path"] == before["faces"][0]["path"]  # type: ignore[index]
        assert httpx.get(face_url, timeout=10).content == face
        uri = f"file:{small_disk / 'tasks.sqlite3'}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)

        # Room again: the same running server works.
        subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], check=True)
        assert _detect(api, encode(astronaut()))["status"] == "complete"
    assert TOKEN not in server.log()
