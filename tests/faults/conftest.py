"""A real server behind the fault-injecting proxy, shared by the SDK fault tests."""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from magic_hour_server import LocalServer

from tests.faults._proxy import FaultProxy, Rule
from tests.server.images import astronaut, encode


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def proxied() -> Iterator[tuple[LocalServer, FaultProxy]]:
    """A server whose API and storage URLs all go through one proxy."""
    with FaultProxy() as proxy:
        server = LocalServer(tokens=["faults-token"], public_url=proxy.url, workers=1)
        with server:
            proxy.upstream = ("127.0.0.1", server.port)
            yield server, proxy


@pytest.fixture
def proxy(proxied: tuple[LocalServer, FaultProxy]) -> Iterator[FaultProxy]:
    proxied[1].clear()
    yield proxied[1]
    proxied[1].clear()


@pytest.fixture
def server(proxied: tuple[LocalServer, FaultProxy]) -> LocalServer:
    return proxied[0]


@pytest.fixture(scope="session")
def face_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real photo with one face."""
    path = tmp_path_factory.mktemp("inputs") / "astronaut.png"
    path.write_bytes(encode(astronaut()))
    return path


def task_count(data_dir: Path) -> int:
    """How many tasks the server has stored (read from its SQLite file)."""
    uri = f"file:{data_dir / 'tasks.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        row = db.execute("SELECT count(*) FROM tasks").fetchone()
    return int(row[0])


async def creates_sent_to_a_closed_port(caplog: pytest.LogCaptureFixture, **client: Any) -> int:
    """How many times an `AsyncClient(**client)` sends a create to a port nothing listens
    on before raising APIConnectionError (the SDK's debug log counts the attempts)."""
    from magic_hour import APIConnectionError, AsyncClient

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    caplog.set_level(logging.DEBUG, logger="magic_hour")
    async with AsyncClient(token="t", base_url=closed, **client) as sdk:
        with pytest.raises(APIConnectionError):
            await sdk.v1.face_detection.create(assets={"target_file_path": "api-assets/x"})
    return sum(r.getMessage().startswith("request: POST") for r in caplog.records)


async def creates_after_a_reset_once_forwarded(
    proxy: FaultProxy, server: LocalServer, photo: Path, **client: Any
) -> tuple[int, int]:
    """A create the server got, whose connection the proxy then resets, through
    `AsyncClient(**client)`: the creates that reached the proxy and the tasks made."""
    from magic_hour import APIConnectionError, AsyncClient

    async with AsyncClient(token=server.token, base_url=proxy.url) as sdk:
        path = await sdk.v1.files.upload_file(photo)
    before = task_count(server.data_dir)
    proxy.add(Rule("POST", "/v1/face-detection", "reset-after-forward"))
    async with AsyncClient(token=server.token, base_url=proxy.url, **client) as sdk:
        with pytest.raises(APIConnectionError):
            await sdk.v1.face_detection.create(assets={"target_file_path": path})
    return proxy.count("POST", "/v1/face-detection"), task_count(server.data_dir) - before
