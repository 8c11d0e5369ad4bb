"""`AsyncioTransport`: the transport `AsyncClient` makes for itself, httpcore's own
connection pool on connections made with asyncio's own streams.

httpx's default async transport reaches the network through anyio, which wraps each read
and write in a cancel scope and looks a connection's socket up through a dict of
attribute getters, on every pass of the pool over its idle connections. Here the pool is
httpcore's `AsyncConnectionPool`, unchanged, given a network backend of the SDK's own
through its documented `network_backend=` (httpcore's `AsyncNetworkBackend` interface):
each read or write is one call on an asyncio stream under `asyncio.timeout`, and a
connection's socket is looked up once. docs/performance.md has what it saves.

The transport maps httpcore's exceptions to httpx's as httpx's own transport does, so a
`ConnectError`, `ConnectTimeout` or `PoolTimeout` still means the request was never sent.
"""

from __future__ import annotations

# The network backend's methods take `timeout=` because httpcore's interface does.
# ruff: noqa: ASYNC109
import asyncio
import select
import ssl
import sys
from collections.abc import AsyncIterable, Iterable
from typing import Any, NoReturn

import httpcore
import httpx

from ._shared import DEFAULT_LIMITS, ErrorMappingStream

__all__ = ["AsyncioTransport"]

HAPPY_EYEBALLS_DELAY = 0.25
"""Seconds before trying a host's next address while one is still connecting (RFC 8305's
recommended delay, as anyio uses)."""


class AsyncioTransport(httpx.AsyncBaseTransport):
    """An HTTP/1.1 transport for `httpx.AsyncClient` on asyncio: httpcore's connection pool
    over asyncio's streams. It takes `verify`, `trust_env` and `limits` as httpx does."""

    def __init__(
        self,
        *,
        verify: ssl.SSLContext | str | bool = True,
        trust_env: bool = True,
        limits: httpx.Limits = DEFAULT_LIMITS,
    ) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=trust_env),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_Backend(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.AsyncByteStream)
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
        except _CORE_ERRORS as error:
            _raise_as_httpx(error, request)
        assert isinstance(response.stream, AsyncIterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=ErrorMappingStream(response.stream, request, _CORE_ERRORS, _raise_as_httpx),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


# httpcore's exceptions and httpx's of the same meaning, the most specific first.
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
_CORE_ERRORS = tuple(core for core, _ in _EXCEPTIONS)


def _raise_as_httpx(error: Exception, request: httpx.Request) -> NoReturn:
    for core, ours in _EXCEPTIONS:
        if isinstance(error, core):
            raise ours(str(error), request=request) from error
    raise error


class _Backend(httpcore.AsyncNetworkBackend):
    """Connections on asyncio's streams (`_Stream`)."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        local = (local_address, 0) if local_address else None
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=local, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY
                )
        return _Stream(reader, writer, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return _Stream(reader, writer, socket_options)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class _mapped:
    """Raises httpcore's exceptions for asyncio's, as httpcore's own backends do."""

    def __init__(
        self, timed_out: type[httpcore.TimeoutException], failed: type[httpcore.NetworkError]
    ) -> None:
        self._timed_out, self._failed = timed_out, failed

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if isinstance(exc, TimeoutError):
            raise self._timed_out(str(exc) or "timed out") from exc
        if isinstance(exc, OSError):  # ssl.SSLError included
            raise self._failed(str(exc) or type(exc).__name__) from exc


class _Stream(httpcore.AsyncNetworkStream):
    """A connection on asyncio's streams: each read or write one call on the stream under
    `asyncio.timeout`, its socket looked up once."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        socket_options: Iterable[Any] | None = None,
    ) -> None:
        self._reader, self._writer = reader, writer
        # asyncio's TransportSocket: fileno() and setsockopt(), as a socket's.
        self._socket: Any = writer.get_extra_info("socket")
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                for option in socket_options or ():
                    if self._socket is not None:
                        self._socket.setsockopt(*option)
        except BaseException:
            writer.transport.abort()
            raise

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()

    async def aclose(self) -> None:
        # As anyio closes a socket stream: close, let the loop turn once, abort what is left
        # (a TLS goodbye the server never answers must not hold the socket open).
        transport = self._writer.transport
        transport.close()
        await asyncio.sleep(0)
        transport.abort()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            await self.aclose()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":  # asked of every idle connection, on every pass
            return self._reader.at_eof() or _readable(self._socket)
        if info == "socket":
            return self._socket
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


def _readable(sock: Any) -> bool:
    """Whether `sock` has something to read (on an idle connection: the server closed
    it), or is gone. As httpcore's backends answer "is_readable"."""
    if sock is None or sock.fileno() < 0:
        return True
    if sys.platform == "win32" or not hasattr(select, "poll"):
        ready, _, _ = select.select([sock], [], [], 0)
        return bool(ready)
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))
