"""`AiohttpTransport`: `AsyncClient`'s requests over aiohttp, opt-in (the `aiohttp` extra).

aiohttp parses HTTP in C; through it a photo's requests cost the client well under half
the CPU they cost through httpx's own transport (docs/performance.md has the figures).
The transport is httpx-aiohttp's, used through its public constructor and
`handle_async_request`; httpx stays the SDK's interface, so timeouts, limits and errors
work as with any httpx transport.

One thing is added: its errors say truthfully whether a request was sent. httpx-aiohttp
0.2 reports every aiohttp connection error as `httpx.ConnectTimeout`, a refused
connection and a server that hung up after reading the whole request alike, and the SDK
retries a create after a connect failure only because none was sent. Here a failure to
connect is `ConnectError` (aiohttp's `ClientConnectorError`: refused, unreachable, DNS,
TLS) or `ConnectTimeout` (its `ConnectionTimeoutError`), read from the exception
httpx-aiohttp chains; any other connection error becomes `RemoteProtocolError` (the
server hung up) or `ReadError`, during the request or while its body is read.
"""

from __future__ import annotations

import ssl
from typing import NoReturn

import httpx

from ._shared import DEFAULT_LIMITS, ErrorMappingStream

__all__ = ["AIOHTTP_EXTRA", "AiohttpTransport"]

AIOHTTP_EXTRA = "pip install 'magic-hour-face-detection[aiohttp]'"


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over aiohttp, for `AsyncClient(transport=AiohttpTransport())`.

    The SDK trusts its errors as it trusts httpx's own transports: a create is retried
    after a failure to connect, never after the request may have reached the server.
    """

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        trust_env: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
        proxy: httpx.Proxy | str | None = None,
    ) -> None:
        """Args:
        verify: as httpx's `verify`: True, False, a CA bundle's path or an `SSLContext`.
        trust_env: read `SSL_CERT_FILE` and the like from the environment, as httpx does.
        limits: the connection pool's size (`max_connections`) and how long an idle
            connection is kept (`keepalive_expiry`).
        proxy: an HTTP proxy's URL, or an `httpx.Proxy`.
        """
        try:
            from httpx_aiohttp import AiohttpTransport as HttpxAiohttpTransport
        except ImportError as error:
            raise ImportError(
                f"AiohttpTransport needs the aiohttp extra ({error.name} is missing): "
                f"{AIOHTTP_EXTRA}",
                name=error.name,
            ) from error
        self._wrapped = HttpxAiohttpTransport(
            verify=verify,
            trust_env=trust_env,
            limits=limits,
            proxy=httpx.Proxy(proxy) if isinstance(proxy, str) else proxy,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._wrapped.handle_async_request(request)
        except httpx.TransportError as error:
            _raise_truthful(error, request)
        if not isinstance(response.stream, httpx.AsyncByteStream):  # pragma: no cover
            return response
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=ErrorMappingStream(
                response.stream, request, (httpx.TransportError,), _raise_truthful
            ),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._wrapped.aclose()


def _raise_truthful(error: Exception, request: httpx.Request) -> NoReturn:
    """Raise `error` when it means what it says, else the error it should have been."""
    assert isinstance(error, httpx.TransportError)
    truthful = truthful_error(error, request)
    if truthful is error:
        raise error
    raise truthful from error


def truthful_error(error: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    """`error` itself when it means what it says; else the error it should have been."""
    if not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout):
        return error
    import aiohttp  # loaded already: httpx-aiohttp imports it

    cause = error.__cause__
    message = str(error) or type(cause).__name__
    # Connecting failed: nothing was sent.
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return error if isinstance(error, httpx.ConnectTimeout) else httpx.ConnectTimeout(message)
    if isinstance(cause, aiohttp.ClientConnectorError):  # refused, unreachable, DNS, TLS
        return error if type(error) is httpx.ConnectError else httpx.ConnectError(message)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError(message, request=request)
    return httpx.ReadError(message, request=request)
