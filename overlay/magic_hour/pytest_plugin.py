"""pytest fixtures for testing code that uses the Magic Hour API against a real local
server (registered as the `magic_hour` pytest plugin; nothing starts unless a test asks).

- `magic_hour_server`: one `LocalServer` for the session, with real detection.
- `magic_hour_client` / `magic_hour_async_client`: a `Client` / `AsyncClient` bound to it.
  Each test gets a fresh one, and the server's scripted outcomes are cleared after it.

Make the server misbehave on purpose with `magic_hour_server.outcomes`:
`fail_next_task(reason)`, `slow_next_task(seconds)`, `throttle_next_requests(n,
retry_after=...)` (see `magic_hour_server.api._outcomes`).

The server needs the `server` extra; without it, a test that asks for it fails with the
command to install it, and tests that do not ask are not affected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from magic_hour_server import LocalServer

    from magic_hour import AsyncClient, Client


@pytest.fixture(scope="session")
def magic_hour_server() -> Iterator[LocalServer]:
    """A local Magic Hour server on a free loopback port, for the whole session."""
    try:
        from magic_hour_server import LocalServer
    except ImportError as err:
        pytest.fail(
            f"the magic_hour_server fixture needs the server extra ({err.name} is missing): "
            "pip install 'magic-hour-face-detection[server]'",
            pytrace=False,
        )

    with LocalServer() as server:
        yield server


@pytest.fixture
def magic_hour_client(magic_hour_server: LocalServer) -> Iterator[Client]:
    """A `magic_hour.Client` for `magic_hour_server`."""
    from magic_hour import Client

    with Client(token=magic_hour_server.token, base_url=magic_hour_server.url) as client:
        yield client
    magic_hour_server.outcomes.clear()


@pytest.fixture
async def magic_hour_async_client(magic_hour_server: LocalServer) -> AsyncIterator[AsyncClient]:
    """A `magic_hour.AsyncClient` for `magic_hour_server` (needs an async test runner,
    such as anyio's pytest plugin or pytest-asyncio)."""
    from magic_hour import AsyncClient

    async with AsyncClient(token=magic_hour_server.token, base_url=magic_hour_server.url) as client:
        yield client
    magic_hour_server.outcomes.clear()
