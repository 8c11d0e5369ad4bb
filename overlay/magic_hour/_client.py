"""`Client` (blocking) and `AsyncClient` (asyncio): the same settings and resources, each
with its driver. The httpx clients they make for themselves when given none are plain
httpx clients, used through httpx's public API: over `transport=` when one is given, else
over httpx's own transport (`Client`) or the SDK's `AsyncioTransport` (`AsyncClient`;
httpx's own when the environment names a proxy, which httpx then routes through)."""

from __future__ import annotations

import urllib.request
from typing import Self

import httpx

from ._async_resources import AsyncV1
from ._base_client import AnyTransport, BaseClient
from ._drivers import AsyncDriver, SyncDriver
from ._resources import V1
from ._transports import AsyncioTransport

__all__ = ["AsyncClient", "Client"]


class Client(BaseClient[httpx.Client]):
    """The Magic Hour API, blocking: `client.v1.face_detection.generate(...)`.

    Use it as a context manager, or call `close()`, to release its connections.
    """

    v1: V1
    """The v1 API: `face_detection` and `files`."""

    def _new_http(self, transport: AnyTransport | None) -> httpx.Client:
        if transport is not None and not isinstance(transport, httpx.BaseTransport):
            raise TypeError("Client(transport=...) takes an httpx.BaseTransport")
        return httpx.Client(transport=transport)

    def _attach(self) -> None:
        self._driver = SyncDriver(self._http)
        self.v1 = V1(self._driver, self._context)

    def close(self) -> None:
        """Close the connections (not those of an `httpx_client` passed in)."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """The Magic Hour API for asyncio: `await client.v1.face_detection.generate(...)`.

    Use it as an async context manager, or `await client.close()`.
    """

    v1: AsyncV1
    """The v1 API: `face_detection` and `files`."""

    def _new_http(self, transport: AnyTransport | None) -> httpx.AsyncClient:
        if transport is not None and not isinstance(transport, httpx.AsyncBaseTransport):
            raise TypeError("AsyncClient(transport=...) takes an httpx.AsyncBaseTransport")
        if transport is None and not _proxy_in_environment():
            transport = AsyncioTransport()
        return httpx.AsyncClient(transport=transport)

    def _attach(self) -> None:
        self._driver = AsyncDriver(self._http)
        self.v1 = AsyncV1(self._driver, self._context)

    async def close(self) -> None:
        """Close the connections (not those of an `httpx_client` passed in)."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _proxy_in_environment() -> bool:
    """Whether HTTP_PROXY, HTTPS_PROXY or ALL_PROXY (any case) is set, which httpx's
    default transport honours and a transport given to httpx would bypass."""
    return any(scheme in ("http", "https", "all") for scheme in urllib.request.getproxies())
