"""A real server behind the fault-injecting proxy, shared by the SDK fault tests."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from magic_hour_server import LocalServer

from tests.faults._proxy import FaultProxy
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
