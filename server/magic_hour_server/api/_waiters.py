"""Long-polling: `Prefer: wait=N` (RFC 7240) on reading a task, and the waiters it makes.

`requested_wait` reads the header (plain code, no I/O). `TaskWaiters` holds the requests
waiting on a task: an asyncio event each, on the server's event loop. The task store calls
`changed(task_id)` from any thread after it commits a change to that task (status,
progress, a face); that wakes the task's waiters through the loop directly, without
re-reading the database in a loop. `close()` (the server shutting down) wakes everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

_WAIT = re.compile(r"^\s*wait\s*=\s*(\S+?)\s*$", re.IGNORECASE)


def requested_wait(headers: Iterable[str], cap: float) -> int | None:
    """The wait in whole seconds that `Prefer` headers ask for, capped at `cap`; None when
    they ask for none, or for something that is not a whole number of seconds.

    Preferences are comma-separated, possibly over several headers; only the first `wait`
    counts (RFC 7240, section 2). A value may be quoted. Zero means no wait.
    """
    for header in headers:
        for preference in header.split(","):
            token = preference.split(";", 1)[0]
            match = _WAIT.match(token)
            if match is None:
                continue
            value = match.group(1).strip('"')
            if not value.isascii() or not value.isdigit() or len(value) > 12:
                return None
            seconds = min(int(value), int(cap))
            return seconds if seconds > 0 else None
    return None


class TaskWaiters:
    """Requests waiting for a task to change. Thread-safe; waits run on one event loop."""

    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._events: dict[str, set[asyncio.Event]] = {}
        self._closed = False
        self._limit = limit
        self._count = 0

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    @contextlib.contextmanager
    def watch(self, task_id: str) -> Iterator[asyncio.Event | None]:
        """An event set when `task_id` changes from now on; None once closed, or when
        `limit` requests wait already (the request is then answered at once).

        Register before reading the task, then wait: a change between the read and the wait
        still sets the event.
        """
        event: asyncio.Event | None = asyncio.Event()
        with self._lock:
            if self._closed or (self._limit is not None and self._count >= self._limit):
                event = None
            else:
                self._loop = asyncio.get_running_loop()
                self._events.setdefault(task_id, set()).add(event)  # type: ignore[arg-type]
                self._count += 1
        try:
            yield event
        finally:
            if event is not None:
                with self._lock:
                    self._count -= 1
                    waiting = self._events.get(task_id)
                    if waiting is not None:
                        waiting.discard(event)
                        if not waiting:
                            del self._events[task_id]

    def changed(self, task_id: str) -> None:
        """`task_id` changed (called from any thread, after the change is committed)."""
        with self._lock:
            events = list(self._events.get(task_id, ()))
            loop = self._loop
        if events and loop is not None:
            self._wake(loop, events)

    def close(self) -> None:
        """Wake every waiter and let no new one wait: the server is stopping."""
        with self._lock:
            self._closed = True
            events = [event for waiting in self._events.values() for event in waiting]
            loop = self._loop
        if events and loop is not None:
            self._wake(loop, events)

    @staticmethod
    def _wake(loop: asyncio.AbstractEventLoop, events: list[asyncio.Event]) -> None:
        def wake() -> None:
            for event in events:
                event.set()

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting
            loop.call_soon_threadsafe(wake)


class CancelOnDisconnect:
    """ASGI: a long-poll whose client goes away is cancelled at once, freeing its waiter.

    Only GET requests that carry `Prefer` are watched: their body is empty, so everything
    the server receives after the request is the disconnect.
    """

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not any(name == b"prefer" for name, _ in scope["headers"])
        ):
            await self._app(scope, receive, send)
            return
        first = await receive()
        watcher = asyncio.ensure_future(receive())
        given = False

        async def replay() -> Any:
            nonlocal given
            if not given:
                given = True
                return first
            return await asyncio.shield(watcher)

        handler = asyncio.ensure_future(self._app(scope, replay, send))
        try:
            done, _ = await asyncio.wait({handler, watcher}, return_when=asyncio.FIRST_COMPLETED)
            if handler not in done and watcher.result().get("type") == "http.disconnect":
                handler.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await handler
                return
            await handler
        finally:
            watcher.cancel()
            if not handler.done():
                handler.cancel()
