"""What both transports share: httpx's default pool limits, and a response body whose
errors are raised as the transport's own."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable
from typing import NoReturn

import httpx

__all__ = ["DEFAULT_LIMITS", "ErrorMappingStream"]

# httpx's defaults for a client made without `limits=`: at most 100 connections, 20 kept
# alive between requests.
DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)

Translate = Callable[[Exception, httpx.Request], NoReturn]


class ErrorMappingStream(httpx.AsyncByteStream):
    """`stream`, whose exceptions of the types in `catch`, while it is read or closed, go
    through `translate` (which raises what the transport raises for them)."""

    def __init__(
        self,
        stream: AsyncIterable[bytes],
        request: httpx.Request,
        catch: tuple[type[Exception], ...],
        translate: Translate,
    ) -> None:
        self._stream = stream
        self._request = request
        self._catch = catch
        self._translate = translate

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._stream:
                yield chunk
        except self._catch as error:
            self._translate(error, self._request)

    async def aclose(self) -> None:
        close = getattr(self._stream, "aclose", None)
        if close is None:
            return
        try:
            await close()
        except self._catch as error:
            self._translate(error, self._request)
