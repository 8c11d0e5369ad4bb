"""Connections on asyncio's own streams when running on asyncio (`Backend`)."""

from __future__ import annotations

# The network backend's methods take `timeout=` because httpcore's interface does.
# ruff: noqa: ASYNC109
import asyncio
import ssl
from collections.abc import Iterable
from typing import Any

import httpcore
from httpcore._utils import is_socket_readable

__all__ = ["Backend"]


class Backend(httpcore.AsyncNetworkBackend):
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
