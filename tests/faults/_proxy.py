"""A fault-injecting HTTP/1.1 reverse proxy on loopback, for tests of the SDK's retries.

Each request is matched against the rules in order; a matching rule with uses left
decides the fault. Requests no rule matches pass through unchanged. Every request is
logged with what was done to it, so a test can count what reached the server.
Every connection is closed after one response, so one request maps to one connection.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal

Fault = Literal["reset", "reset-after-forward", "status", "delay", "cut"]

_HEAD_LIMIT = 64 * 1024
_IO_TIMEOUT = 30.0


@dataclass
class Rule:
    """What to do to the next `times` requests of `method` whose path starts with `path`.

    reset: the connection is reset before anything is forwarded.
    reset-after-forward: the server gets and answers the request; the client gets a reset.
    status: the proxy answers `status` with `headers` itself; nothing is forwarded.
    delay: the server's answer is held back `delay` seconds (past the client's timeout).
    cut: the head and half of the server's body are sent, then the connection is closed.
    """

    method: str
    path: str
    fault: Fault
    times: int = 1
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Entry:
    """One request the proxy saw: what it did, and the status the client got (0: none)."""

    method: str
    path: str
    action: str
    status: int


class FaultProxy:
    """`with FaultProxy() as proxy:` listens on `proxy.url`; set `proxy.upstream` to
    the server's `(host, port)` before sending requests through it."""

    def __init__(self) -> None:
        self.upstream: tuple[str, int] | None = None
        # Several upstreams: round robin, skipping one that refuses connections, as a
        # load balancer does (set instead of `upstream`).
        self.upstreams: list[tuple[str, int]] = []
        self._turn = 0
        self.rules: list[Rule] = []
        self.log: list[Entry] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, rule: Rule) -> None:
        with self._lock:
            self.rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.log.clear()

    def count(self, method: str, path_prefix: str, action: str | None = None) -> int:
        """How many logged requests match (and had `action`, when given)."""
        with self._lock:
            return sum(
                1
                for e in self.log
                if e.method == method
                and e.path.startswith(path_prefix)
                and (action is None or e.action == action)
            )

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        started: Future[asyncio.Server] = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._handle, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(timeout=10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def _take(self, method: str, path: str) -> Rule | None:
        with self._lock:
            for rule in self.rules:
                if rule.times > 0 and rule.method == method and path.startswith(rule.path):
                    rule.times -= 1
                    return rule
        return None

    def _record(self, method: str, path: str, action: str, status: int) -> None:
        with self._lock:
            self.log.append(Entry(method, path, action, status))

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.wait_for(self._serve_one(reader, writer), _IO_TIMEOUT * 2)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass
        finally:
            writer.close()

    async def _serve_one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > _HEAD_LIMIT:
            return
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        path = target.split("?", 1)[0]
        headers = [line for line in header_lines if line]
        body = await _read_body(reader, headers)
        rule = self._take(method, path)
        fault = rule.fault if rule is not None else "pass"
        if rule is not None and rule.fault == "reset":
            self._record(method, path, fault, 0)
            _reset(writer)
            return
        if rule is not None and rule.fault == "status":
            message = json.dumps({"message": f"injected {rule.status}"}).encode()
            extra = "".join(f"{k}: {v}\r\n" for k, v in rule.headers.items())
            self._record(method, path, fault, rule.status)
            writer.write(
                f"HTTP/1.1 {rule.status} Injected\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(message)}\r\n{extra}Connection: close\r\n\r\n".encode()
                + message
            )
            await writer.drain()
            return
        status, response = await self._forward(method, target, headers, body)
        if rule is not None and rule.fault == "reset-after-forward":
            self._record(method, path, fault, 0)
            _reset(writer)
            return
        # Logged once the server has answered: a test sees it even if the client gave up.
        self._record(method, path, fault, status)
        if rule is not None and rule.fault == "delay":
            await asyncio.sleep(rule.delay)
        if rule is not None and rule.fault == "cut":
            split = response.index(b"\r\n\r\n") + 4
            response = response[: split + (len(response) - split) // 2]
        writer.write(response)
        await writer.drain()

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if not self.upstreams:
            assert self.upstream is not None, "set proxy.upstream first"
            return await _connect_to(self.upstream)
        self._turn += 1
        order = self.upstreams[self._turn % len(self.upstreams) :] + self.upstreams
        for address in order[: len(self.upstreams) - 1]:
            try:
                return await _connect_to(address)
            except OSError:
                continue  # down: the next one (nothing was sent)
        return await _connect_to(order[len(self.upstreams) - 1])

    async def _forward(
        self, method: str, target: str, headers: list[str], body: bytes
    ) -> tuple[int, bytes]:
        """Send the request upstream on a fresh connection; the whole response, which
        asks the client to close the connection afterwards."""
        kept = [
            h
            for h in headers
            if h.split(":", 1)[0].strip().lower()
            not in {"connection", "transfer-encoding", "content-length", "keep-alive"}
        ]
        kept += [f"Content-Length: {len(body)}", "Connection: close"]
        reader, writer = await self._connect()
        try:
            writer.write(f"{method} {target} HTTP/1.1\r\n".encode("latin-1"))
            writer.write(("\r\n".join(kept) + "\r\n\r\n").encode("latin-1") + body)
            await writer.drain()
            raw = await asyncio.wait_for(reader.read(), _IO_TIMEOUT)
        finally:
            writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        lines = [line for line in lines if not line.lower().startswith("connection:")]
        lines.append("Connection: close")
        return status, ("\r\n".join([status_line, *lines]) + "\r\n\r\n").encode("latin-1") + rest


async def _connect_to(
    address: tuple[str, int],
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection(*address), _IO_TIMEOUT)


async def _read_body(reader: asyncio.StreamReader, headers: list[str]) -> bytes:
    fields = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in headers)
    }
    if fields.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return b"".join(chunks)
            chunks.append(chunk[:-2])
    length = int(fields.get("content-length", "0") or 0)
    return await reader.readexactly(length) if length else b""


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST) instead of an orderly close."""
    sock: socket.socket | None = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
