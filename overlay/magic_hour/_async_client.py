"""`AsyncClient`: the asyncio client."""

from __future__ import annotations

from typing import Self

import httpx

from ._async_resources import AsyncV1
from ._base_client import BaseClient
from ._drivers import AsyncDriver

__all__ = ["AsyncClient"]


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """The Magic Hour API for asyncio: `await client.v1.face_detection.generate(...)`.

    Use it as an async context manager, or `await client.close()`.
    """

    _http_class = httpx.AsyncClient
    v1: AsyncV1
    """The v1 API: `face_detection` and `files`."""

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
