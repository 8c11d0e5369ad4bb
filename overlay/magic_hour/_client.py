"""`Client`: the blocking client."""

from __future__ import annotations

from typing import Self

import httpx

from ._base_client import BaseClient
from ._drivers import SyncDriver
from ._resources import V1

__all__ = ["Client"]


class Client(BaseClient[httpx.Client]):
    """The Magic Hour API, blocking: `client.v1.face_detection.generate(...)`.

    Use it as a context manager, or call `close()`, to release its connections.
    """

    _http_class = httpx.Client
    v1: V1
    """The v1 API: `face_detection` and `files`."""

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
