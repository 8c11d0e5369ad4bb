"""One real server per session (loopback, SQLite on disk, the real model), and helpers."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from magic_hour_server import LocalServer

OTHER_TOKEN = "other-token-for-isolation-tests"


@pytest.fixture(scope="session")
def server() -> Iterator[LocalServer]:
    with LocalServer(tokens=["main-token-for-server-tests", OTHER_TOKEN]) as running:
        yield running


@pytest.fixture
def api(server: LocalServer) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
    ) as client:
        yield client


def wait_until_serving(
    url: str, process: subprocess.Popen[str], path: str = "/healthz", timeout: float = 60
) -> None:
    """Return once the server `process` started answers `path` with 200; fail if it exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{url}{path}").status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and process.poll() is None, "the server is not up"
        time.sleep(0.1)


def upload(client: httpx.Client, data: bytes, extension: str = "png") -> str:
    """Upload `data` through a signed URL; returns its `file_path`."""
    reply = client.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": extension}]}
    )
    assert reply.status_code == 200, reply.text
    item = reply.json()["items"][0]
    put = httpx.put(item["upload_url"], content=data, timeout=30)
    assert put.status_code == 200, put.text
    return str(item["file_path"])


def start(client: httpx.Client, target: str, confidence: float | None = None) -> str:
    body: dict[str, Any] = {"assets": {"target_file_path": target}}
    if confidence is not None:
        body["confidence_score"] = confidence
    reply = client.post("/v1/face-detection", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.json()["credits_charged"] == 0
    return str(reply.json()["id"])


def wait(client: httpx.Client, task_id: str, timeout: float = 60) -> dict[str, Any]:
    """The task once it is `complete` or `error`."""
    deadline = time.monotonic() + timeout
    while True:
        reply = client.get(f"/v1/face-detection/{task_id}")
        assert reply.status_code == 200, reply.text
        task: dict[str, Any] = reply.json()
        if task["status"] in {"complete", "error"}:
            return task
        assert time.monotonic() < deadline, f"task still {task['status']} after {timeout} s"
        time.sleep(0.1)


def detect(client: httpx.Client, data: bytes, extension: str = "png", **kw: Any) -> dict[str, Any]:
    return wait(client, start(client, upload(client, data, extension), **kw))
