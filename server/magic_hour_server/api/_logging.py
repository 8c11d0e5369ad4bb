"""One access-log line per request, and the request limits that apply before any handler.

The line has the method, the path (never the query string: it holds URL signatures),
the status, the duration and the task id when there is one; never a header.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from magic_hour_server._metrics import Metrics, operation_of

access_log = logging.getLogger("magic_hour_server.access")
_request_notes: ContextVar[dict[str, str] | None] = ContextVar("request_notes", default=None)


def note_task_id(task_id: str) -> None:
    """Put `task_id` on the current request's log line."""
    notes = _request_notes.get()
    if notes is not None:
        notes["task"] = task_id


class BodyTooLarge(Exception):
    """A JSON request body went past the limit while it was being read."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Request body too large (the limit is {limit:,} bytes)")


class BodyTimeout(Exception):
    """The client stopped sending the request body."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"Timed out after {timeout:g} s waiting for the request body")


class RequestGuard:
    """The outermost ASGI layer: access log and request metrics, JSON body size limit,
    body read timeout."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_json_bytes: int,
        body_timeout: float,
        upload_prefix: str,
        metrics: Metrics | None = None,
    ) -> None:
        self._app = app
        self._metrics = metrics or Metrics()
        self._max_json = max_json_bytes
        self._timeout = body_timeout
        self._upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        started = time.perf_counter()
        notes: dict[str, str] = {}
        token = _request_notes.set(notes)
        status = 0

        async def send_logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            limited = not scope["path"].startswith(self._upload_prefix)
            declared = _content_length(scope)
            if limited and declared is not None and declared > self._max_json:
                await _reply(send_logged, 400, str(BodyTooLarge(self._max_json)))
                return
            receive = self._guard(receive, limited)
            if limited and declared is None and scope["method"] in _BODY_METHODS:
                # connexion reads a body only when Content-Length says how long it is:
                # read a chunked one here, within the same limits, and say its length.
                try:
                    body = await read_body(receive)
                except (BodyTooLarge, BodyTimeout) as exc:
                    await _reply(send_logged, 400, str(exc))
                    return
                length = (b"content-length", str(len(body)).encode())
                scope = {**scope, "headers": [*scope["headers"], length]}
                receive = replay(body, receive)
            await self._app(scope, receive, send_logged)
        finally:
            _request_notes.reset(token)
            seconds = time.perf_counter() - started
            operation = operation_of(scope["method"], scope["path"])
            self._metrics.requests.labels(operation, str(status)).inc()
            self._metrics.request_seconds.labels(operation).observe(seconds)
            task = f" task={notes['task']}" if "task" in notes else ""
            access_log.info(
                "%s %s %d %.1fms%s",
                scope["method"],
                scope["path"],
                status,
                seconds * 1000,
                task,
                # What `--log-format json` writes as fields of its own.
                extra={
                    "operation": operation,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    **({"task_id": notes["task"]} if "task" in notes else {}),
                },
            )

    def _guard(self, receive: Receive, limited: bool) -> Receive:
        received = 0
        complete = False

        async def guarded() -> Message:
            nonlocal received, complete
            if complete:
                # Past the body, a receive waits for the client to go away: no time limit.
                return await receive()
            try:
                # asyncio's own timeout: half the CPU of anyio's cancel scope (3.4 against
                # 7.4 us), for every chunk of every body.
                async with asyncio.timeout(self._timeout):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(self._timeout) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                complete = not message.get("more_body", False)
                if limited and received > self._max_json:
                    raise BodyTooLarge(self._max_json)
            else:
                complete = True
            return message

        return guarded


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` whole once, then whatever the client sends next."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def _content_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else None
    return None


async def _reply(send: Send, status: int, message: str) -> None:
    import json

    body = json.dumps({"message": message}).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    start: dict[str, Any] = {"type": "http.response.start", "status": status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": body})
