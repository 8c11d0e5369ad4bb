"""`Client` (blocking) and `AsyncClient` (asyncio): the same settings and resources, each
with its driver; and the httpx clients they make for themselves when given none: httpx's,
with lighter connection pool bookkeeping.

httpcore 1.0's connection pool re-examines every connection each time a request starts
or a response ends (`_assign_requests_to_connections`). For each idle connection it
counts all the connections again (quadratic, and a count of all where it means idle
ones: encode/httpcore#1035), and asks whether the server closed the socket, which on
asyncio goes through anyio's `extra` attributes: a dict built and a `getpeername` call
each time. At 16 photos in flight that bookkeeping was the largest part of the
`AsyncClient`'s CPU per photo. Here:

- `_assign` makes the pool's decisions in one pass: closed connections dropped, idle
  ones beyond `max_keepalive_connections` closed (oldest first), queued requests given
  an idle connection to their origin (checked for expiry then, and closed if it has
  expired, rather than every idle connection on every pass), a new one, or an idle
  one's place. Unlike httpcore 1.0.9 it counts idle connections, not all of them, and
  never closes a connection already given to a queued request (encode/httpcore#1110);
- each connection's socket is looked up once, not on every check of whether the server
  closed it;
- on asyncio, connections are asyncio's own streams (`_AsyncioStream`: a read or a write
  is one call under `asyncio.timeout`) rather than anyio's, whose cancel scopes and
  checkpoints around each cost a fifth of the CPU of a request. Under trio (through
  anyio), httpcore's own backend is used.

Both apply to HTTP/1.1 pools (httpx's default) of the httpcore versions they were
written against (1.0.x); otherwise the clients are httpx's own. A client passed as
`httpx_client=` is used as given.
"""

from __future__ import annotations

# The network backend's methods take `timeout=` because httpcore's interface does.
# ruff: noqa: ASYNC109
import asyncio
import importlib.util
import ssl
import sys
from collections.abc import Iterable
from typing import Any, Self, TypeVar

import httpcore
import httpx
from httpcore._utils import is_socket_readable

from ._async_resources import AsyncV1
from ._base_client import BaseClient
from ._drivers import AsyncDriver, SyncDriver
from ._resources import V1

__all__ = ["AsyncClient", "Client"]


class Client(BaseClient[httpx.Client]):
    """The Magic Hour API, blocking: `client.v1.face_detection.generate(...)`.

    Use it as a context manager, or call `close()`, to release its connections.
    """

    v1: V1
    """The v1 API: `face_detection` and `files`."""

    def _new_http(self) -> httpx.Client:
        return new_sync_http()

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


def _remember_that_sniffio_is_missing() -> None:
    """httpcore runs `import sniffio` each time it sets up an async lock. Without sniffio
    (anyio 4.11 and later no longer bring it) every such import searches sys.path again
    and fails: a fifth of the CPU of a busy async client. Record the absence once, as the
    import system records a module it found."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]


_remember_that_sniffio_is_missing()


class AsyncClient(BaseClient[httpx.AsyncClient]):
    """The Magic Hour API for asyncio: `await client.v1.face_detection.generate(...)`.

    Use it as an async context manager, or `await client.close()`.
    """

    v1: AsyncV1
    """The v1 API: `face_detection` and `files`."""

    def _new_http(self) -> httpx.AsyncClient:
        return new_async_http()

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


# The httpx clients the SDK makes for itself (see the module's docstring).

_KNOWN_HTTPCORE = httpcore.__version__.startswith("1.0.")


def new_sync_http() -> httpx.Client:
    """The `httpx.Client` a `Client` makes when it is given none."""
    return lighten(httpx.Client())


def new_async_http() -> httpx.AsyncClient:
    """The `httpx.AsyncClient` an `AsyncClient` makes when it is given none."""
    return lighten(httpx.AsyncClient())


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)


def lighten(http: HttpT) -> HttpT:
    """`http`, its pool doing its bookkeeping in one pass (async: its sockets looked up
    once), when it has httpx's own HTTP/1.1 transport over a known httpcore; else as
    it was."""
    pool = getattr(http._transport, "_pool", None)
    if not _KNOWN_HTTPCORE or getattr(pool, "_http2", True):
        return http
    if type(pool) is httpcore.ConnectionPool:
        pool.__class__ = _SyncPool
    elif type(pool) is httpcore.AsyncConnectionPool:
        pool.__class__ = _AsyncPool
        pool._network_backend = _Backend(pool._network_backend)
    return http


def _assign(pool: Any) -> list[Any]:
    """httpcore's `_assign_requests_to_connections`, in one pass: the connections to
    close, for the caller to close outside the pool's lock.

    A connection given to a request that has not started on it yet still reads as idle:
    it is neither closed as surplus nor given to a second request (httpcore closes it,
    encode/httpcore#1110, and the request goes back in the queue for a new one).

    Whether an idle connection has expired (its keep-alive time is up, or the server
    closed it: a `poll` of its socket) is asked when it is about to be given a request,
    not of every idle connection on every pass: httpcore's pass made a system call per
    idle connection at each request's start and end. An expired connection is closed
    then, and the request gets the next one.
    """
    taken = {id(request.connection) for request in pool._requests if request.connection}
    closing: list[Any] = []
    kept: list[Any] = []
    idle: list[Any] = []
    for connection in pool._connections:
        if connection.is_closed():
            continue
        kept.append(connection)
        if connection.is_idle() and id(connection) not in taken:
            idle.append(connection)
    surplus = len(idle) - pool._max_keepalive_connections
    if surplus > 0:
        # The longest idle first: connections are appended as they are made.
        for connection in idle[:surplus]:
            kept.remove(connection)
            closing.append(connection)
        idle = idle[surplus:]
    pool._connections = kept
    queued = [request for request in pool._requests if request.is_queued()]
    for pool_request in queued:
        origin = pool_request.request.url.origin
        usable = None
        for candidate in [c for c in idle if c.can_handle_request(origin)]:
            idle.remove(candidate)
            if not candidate.has_expired():
                usable = candidate
                break
            kept.remove(candidate)
            closing.append(candidate)
        if usable is not None:
            pool_request.assign_to_connection(usable)
            continue
        if len(kept) >= pool._max_connections:
            if not idle:
                continue  # the request waits for a connection to come free
            spare = idle.pop(0)  # idle, for another origin
            kept.remove(spare)
            closing.append(spare)
        connection = pool.create_connection(origin)
        kept.append(connection)
        pool_request.assign_to_connection(connection)
    return closing


class _SyncPool(httpcore.ConnectionPool):
    """httpcore's pool, its bookkeeping in one pass (`_assign`)."""

    def _assign_requests_to_connections(self) -> list[Any]:
        return _assign(self)


class _AsyncPool(httpcore.AsyncConnectionPool):
    """httpcore's async pool, its bookkeeping in one pass (`_assign`)."""

    def _assign_requests_to_connections(self) -> list[Any]:
        return _assign(self)


class _Backend(httpcore.AsyncNetworkBackend):
    """Connections on asyncio's own streams when running on asyncio (`_AsyncioStream`),
    else `fallback`'s with their socket looked up once (`_Stream`)."""

    def __init__(self, fallback: httpcore.AsyncNetworkBackend) -> None:
        self._fallback = fallback

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if not _on_asyncio():
            stream = await self._fallback.connect_tcp(
                host, port, timeout, local_address, socket_options
            )
            return _Stream(stream)
        local = (local_address, 0) if local_address else None
        with _CONNECTING:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=local, happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY
                )
        return _AsyncioStream(reader, writer, socket_options)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        if not _on_asyncio():
            return _Stream(await self._fallback.connect_unix_socket(path, timeout, socket_options))
        with _CONNECTING:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        return _AsyncioStream(reader, writer, socket_options)

    async def sleep(self, seconds: float) -> None:
        if _on_asyncio():
            await asyncio.sleep(seconds)
        else:
            await self._fallback.sleep(seconds)


HAPPY_EYEBALLS_DELAY = 0.25
"""Seconds before trying a host's next address while one is still connecting (RFC 8305's
recommended delay, as anyio uses)."""


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # trio, through anyio
        return False
    return True


class _Mapped:
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


_CONNECTING = _Mapped(httpcore.ConnectTimeout, httpcore.ConnectError)
_READING = _Mapped(httpcore.ReadTimeout, httpcore.ReadError)
_WRITING = _Mapped(httpcore.WriteTimeout, httpcore.WriteError)


class _AsyncioStream(httpcore.AsyncNetworkStream):
    """A connection on asyncio's streams: each read or write one call on the stream under
    `asyncio.timeout`. httpcore's anyio streams add a cancel scope and checkpoints to each,
    which cost a fifth of the client's CPU per request (a GET: 707 against 560 µs)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        socket_options: Iterable[Any] | None = None,
    ) -> None:
        self._reader, self._writer = reader, writer
        self._socket = writer.get_extra_info("socket")
        try:
            with _CONNECTING:
                for option in socket_options or ():
                    self._socket.setsockopt(*option)
        except BaseException:
            writer.transport.abort()
            raise

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _READING:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _WRITING:
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
            with _CONNECTING:
                async with asyncio.timeout(timeout):
                    await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            await self.aclose()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._socket
        if info == "is_readable":  # asked of every idle connection, on every pass
            return is_socket_readable(self._socket)
        if info == "ssl_object":
            return self._writer.get_extra_info("ssl_object")
        if info == "client_addr":
            return self._writer.get_extra_info("sockname")
        if info == "server_addr":
            return self._writer.get_extra_info("peername")
        return None


class _Stream(httpcore.AsyncNetworkStream):
    """A stream whose socket (`get_extra_info("socket")`, and `"is_readable"`, which the
    pool asks of each idle connection) is the one found when it was made."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "socket":
            return self._socket
        if info == "is_readable":  # asked of every idle connection, on every pass
            return is_socket_readable(self._socket)
        return self._stream.get_extra_info(info)
