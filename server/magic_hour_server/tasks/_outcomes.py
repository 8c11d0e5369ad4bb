"""Outcomes a test can ask of the server: a failed task, a slow task, a 429.

The worker takes task outcomes from here, the HTTP API its 429s (`api/_outcomes`): both
parts of the server may import this module, which imports neither.

For testing code that uses the API against real HTTP rather than mocks: with a
`LocalServer` (or the pytest plugin's `magic_hour_server` fixture),

    server.outcomes.fail_next_task("the file is not a video")
    server.outcomes.slow_next_task(2.0)
    server.outcomes.throttle_next_requests(2, retry_after=1)

Each applies once, to the next task a worker takes or the next API requests, in order.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["ScriptedOutcomes", "TaskScript"]


@dataclass(frozen=True)
class TaskScript:
    """What happens to the next task: a delay first, then a failure with `reason`."""

    delay: float = 0.0
    failure: str | None = None


class ScriptedOutcomes:
    """Pending outcomes, set by a test and taken by the server. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: deque[TaskScript] = deque()
        self._throttled = 0
        self._retry_after = 1.0

    def fail_next_task(self, reason: str = "the detection failed", *, after: float = 0.0) -> None:
        """The next task ends in status `error` with `reason` (after `after` seconds)."""
        with self._lock:
            self._tasks.append(TaskScript(delay=after, failure=reason))

    def slow_next_task(self, seconds: float) -> None:
        """The next task stays `rendering` for `seconds` before it is detected as usual."""
        with self._lock:
            self._tasks.append(TaskScript(delay=seconds))

    def throttle_next_requests(self, count: int = 1, *, retry_after: float = 1.0) -> None:
        """The next `count` API requests get 429 with `Retry-After: retry_after`."""
        with self._lock:
            self._throttled += count
            self._retry_after = retry_after

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()
            self._throttled = 0

    def take_task(self) -> TaskScript | None:
        with self._lock:
            return self._tasks.popleft() if self._tasks else None

    def take_throttle(self) -> float | None:
        with self._lock:
            if self._throttled <= 0:
                return None
            self._throttled -= 1
            return self._retry_after
