"""uvicorn's server, told to answer waiting requests when it starts shutting down.

uvicorn waits for requests in flight before it sends the app the lifespan shutdown event;
a request held by `Prefer: wait` would hold the shutdown with it. This server wakes them
first, so they answer at once with the task as it is.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn

from magic_hour_server._config import Settings
from magic_hour_server.api._guard import ConnectionLimits, GuardedConfig
from magic_hour_server.api._waiters import TaskWaiters


class Server(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, waiters: TaskWaiters) -> None:
        super().__init__(config)
        self._waiters = waiters

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._waiters.close()
        await super().shutdown(sockets)


def config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration, its HTTP protocol wrapped in the connection limits."""
    limits = ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        header_timeout=settings.header_timeout,
        min_body_rate=settings.min_body_rate,
        body_grace=settings.body_timeout,
        max_connections=settings.max_connections,
    )
    # No X-Forwarded-* rewriting: nothing here reads the client's address or scheme (URLs
    # are made from the configured public URL), and the layer costs every request.
    return GuardedConfig(
        app,
        limits,
        timeout_keep_alive=settings.keep_alive_timeout,
        log_level="warning",
        access_log=False,
        lifespan="on",
        proxy_headers=False,
        **options,
    )
