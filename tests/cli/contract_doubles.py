"""Deliberately broken deployments for `magic-hour contract`: the real server behind an
ASGI layer that breaks one thing, on loopback."""

from __future__ import annotations

import json
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from magic_hour_server._config import Settings
from magic_hour_server.api._app import create_app
from magic_hour_server.api._uvicorn import Server, config

TOKEN = "contract-double-token-5d1e"
Fault = str  # "drop-status", "500", "no-auth"


class Broken:
    def __init__(self, app: Any, fault: Fault) -> None:
        self._app, self._fault = app, fault

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        task_read = scope["method"] == "GET" and scope["path"].startswith("/v1/face-detection/")
        if self._fault == "no-auth":
            headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
            scope = {**scope, "headers": [*headers, (b"authorization", f"Bearer {TOKEN}".encode())]}
        if self._fault == "500" and task_read:
            body = b'{"message": "Internal Server Error"}'
            await send({"type": "http.response.start", "status": 500,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        if self._fault == "drop-status" and task_read:
            await self._app(scope, receive, _dropping_status(send))
            return
        await self._app(scope, receive, send)


def _dropping_status(send: Any) -> Any:
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body"):
            return
        body = b"".join(chunks)
        try:
            data = json.loads(body)
            if isinstance(data, dict) and "status" in data:
                del data["status"]
                body = json.dumps(data).encode()
        except ValueError:
            pass
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return wrapped


@contextmanager
def broken_server(fault: Fault) -> Iterator[str]:
    """The URL of a local server with `fault`, for the `with` block."""
    with tempfile.TemporaryDirectory(prefix="contract-double-") as data:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        settings = Settings(data_dir=Path(data), tokens=[TOKEN], public_url=url, workers=1)
        app, state = create_app(settings)
        server = Server(config(Broken(app, fault), settings), state.waiters)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the double did not start"
                time.sleep(0.05)
        try:
            yield url
        finally:
            server.should_exit = True
            thread.join(30)
            sock.close()
