"""Connection limits uvicorn does not enforce, as a thin layer around its HTTP protocol.

uvicorn (with httptools) sets no limit on a request's headers, closes no connection that
sends its headers slowly or never, and counts no connections until a request arrives. A
server that may face the internet needs all three, so each connection passes through
`GuardedProtocol` first. It parses the same bytes with its own httptools parser (C, a
microsecond or two a request) only to know where each request's headers and body begin
and end, and:

- answers **431** and closes when a request's headers pass `max_header_bytes`;
- answers **408** and closes when headers are not complete `header_timeout` seconds after
  they began (a new connection counts as begun: a silent one is closed too);
- cuts a request body that arrives slower than `min_body_rate` bytes a second on average
  once `body_grace` seconds have passed, checked each second from a second after it (a
  trickling upload holds memory and a slot; a body that stops altogether is the app's to
  answer, 400 after the same `body_timeout`);
- answers **503** with Retry-After and closes a connection past `max_connections`.

Idle keep-alive connections are uvicorn's `timeout_keep_alive`. Everything else, uvicorn
does as usual: the inner protocol sees the same bytes.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import httptools
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("magic_hour_server.connections")


class _Quiet:
    """One log line a second per kind of refusal, with how many it stands for: an attack
    of a million connections must not become a million log lines."""

    def __init__(self) -> None:
        self._last: dict[int, float] = {}
        self._held: dict[int, int] = {}

    def warning(self, loop: asyncio.AbstractEventLoop, status: int, message: str) -> None:
        now = loop.time()
        if now - self._last.get(status, -1e9) < 1.0:
            self._held[status] = self._held.get(status, 0) + 1
            return
        more = self._held.pop(status, 0)
        self._last[status] = now
        log.warning("%s%s", message, f" (and {more} more like it)" if more else "")


@dataclass(frozen=True)
class ConnectionLimits:
    """Per process; see the module's docstring."""

    max_header_bytes: int = 32 * 1024
    header_timeout: float = 10.0
    min_body_rate: float = 8 * 1024
    body_grace: float = 30.0
    max_connections: int = 1000


def _answer(status: int, reason: str, message: str, extra: str = "") -> bytes:
    body = json.dumps({"message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n{extra}\r\n"
    )
    return head.encode("latin-1") + body


class _Requests:
    """httptools' callbacks: where the current request is (none, headers, body)."""

    def __init__(self) -> None:
        self.phase = "idle"
        self.header_bytes = 0
        self.body_bytes = 0

    def on_message_begin(self) -> None:
        self.phase, self.header_bytes, self.body_bytes = "headers", 0, 0

    def on_headers_complete(self) -> None:
        self.phase = "body"

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        self.phase = "idle"


class _Counter:
    def __init__(self) -> None:
        self.open = 0
        self.refusing = 0  # past the limit, read up to their headers to be answered 503
        self.quiet = _Quiet()


class GuardedConfig(uvicorn.Config):
    """uvicorn's configuration, with the limits its connections keep (`http=GuardedProtocol`)."""

    def __init__(self, app: Any, limits: ConnectionLimits, **options: Any) -> None:
        super().__init__(app, http=GuardedProtocol, **options)
        self.connection_limits = limits
        self.connection_counter = _Counter()


class GuardedProtocol(asyncio.Protocol):
    """One connection: the limits above, then uvicorn's protocol."""

    def __init__(
        self,
        config: GuardedConfig,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._inner_options = (config, server_state, app_state, _loop)
        self._inner: asyncio.Protocol | None = None
        self._limits = config.connection_limits
        self._counter = config.connection_counter
        self._loop = _loop or asyncio.get_event_loop()
        self._requests = _Requests()
        self._parser: Any = httptools.HttpRequestParser(self._requests)
        self._transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._counted = False
        self._refusing = False
        self._body_started = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio's; they do what asyncio.Transport does.
        self._transport = transport = cast(asyncio.Transport, transport)
        if self._counter.open >= self._limits.max_connections:
            # Past the limit, a connection is still read up to its request's headers (as
            # bounded as any), so that the client reads the 503 instead of a reset. A
            # tenth more are read so; past those, it is closed at once.
            if self._counter.refusing >= max(1, self._limits.max_connections // 10):
                transport.abort()
                return
            self._counter.refusing += 1
            self._refusing = True
            self._arm(self._limits.header_timeout, self._headers_late)
            return
        self._counter.open += 1
        self._counted = True
        self._inner = HttpToolsProtocol(*self._inner_options)
        self._inner.connection_made(transport)
        # A new connection owes its first request's headers as any request does.
        self._arm(self._limits.header_timeout, self._headers_late)

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            self._refuse_when_read(data)
            return
        if self._inner is None:
            return
        if self._parser is not None:
            before = self._requests.phase
            try:
                self._parser.feed_data(data)
            except httptools.HttpParserUpgrade:
                self._stop_watching()
            except httptools.HttpParserError:
                self._stop_watching()  # the inner protocol answers 400
            else:
                if self._check(before, len(data)):
                    return
        self._inner.data_received(data)

    def _check(self, before: str, size: int) -> bool:
        """After `size` bytes: True when the connection was closed for a limit."""
        requests = self._requests
        if requests.phase == "headers":
            requests.header_bytes += size
            if requests.header_bytes > self._limits.max_header_bytes:
                self._refuse(
                    431,
                    "Request Header Fields Too Large",
                    f"The request's headers are larger than {self._limits.max_header_bytes:,}"
                    " bytes",
                )
                return True
            if self._timer is None:  # a new request on a kept-alive connection
                self._arm(self._limits.header_timeout, self._headers_late)
        elif requests.phase == "body" and before != "body":
            self._body_started = self._loop.time()
            # The first check a second past the grace: a body that stops altogether is the
            # app's to answer (400 after `body_timeout`, the same grace); this layer cuts the
            # bodies that trickle just fast enough to beat that per-read timeout.
            self._arm(self._limits.body_grace + 1.0, self._body_slow)
        elif requests.phase == "idle":
            # Between requests, an idle connection is uvicorn's keep-alive timeout's.
            self._disarm()
        return False

    def _refuse_when_read(self, data: bytes) -> None:
        if self._parser is None:
            return
        before = self._requests.phase
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            pass  # answered 503 all the same
        else:
            if self._check(before, len(data)) or self._requests.phase == "headers":
                return
        self._counter.quiet.warning(
            self._loop, 503, f"answered 503: {self._counter.open} connections are open"
        )
        self._refuse(
            503,
            "Service Unavailable",
            f"Too many connections (the limit is {self._limits.max_connections})",
            "retry-after: 1\r\n",
            log=False,
        )

    def _headers_late(self) -> None:
        self._timer = None
        if self._requests.phase in ("idle", "headers"):
            self._refuse(
                408,
                "Request Timeout",
                f"The request's headers took longer than {self._limits.header_timeout:g} s",
            )

    def _body_slow(self) -> None:
        self._timer = None
        if self._requests.phase != "body" or self._transport is None:
            return
        elapsed = self._loop.time() - self._body_started
        owed = self._limits.min_body_rate * (elapsed - self._limits.body_grace)
        if self._requests.body_bytes < owed:
            rate = self._requests.body_bytes / max(elapsed, 1e-9)
            self._counter.quiet.warning(
                self._loop,
                0,
                f"cut a connection whose request body came at {rate:.0f} bytes/s"
                f" (the least is {self._limits.min_body_rate:.0f})",
            )
            # The app is reading the body and may answer at any moment: no answer of
            # ours can be written safely, so the connection is cut.
            self._stop_watching()
            self._transport.abort()
            return
        self._arm(1.0, self._body_slow)

    def _refuse(
        self, status: int, reason: str, message: str, extra: str = "", *, log: bool = True
    ) -> None:
        if log:
            self._counter.quiet.warning(
                self._loop, status, f"answered {status} and closed the connection: {message}"
            )
        self._disarm()
        self._stop_watching()
        assert self._transport is not None
        self._transport.write(_answer(status, reason, message, extra))
        self._transport.close()

    def _arm(self, delay: float, then: Callable[[], None]) -> None:
        self._disarm()
        self._timer = self._loop.call_later(delay, then)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _stop_watching(self) -> None:
        self._parser = None
        self._disarm()

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._inner is not None else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._refusing:
            self._counter.refusing -= 1
            self._refusing = False
        if self._counted:
            self._counter.open -= 1
            self._counted = False
        if self._inner is not None:
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()
