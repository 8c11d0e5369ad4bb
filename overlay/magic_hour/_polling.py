"""The poll schedule for a running task. No I/O here."""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = [
    "DEFAULT_POLL_TIMEOUT",
    "FIRST_READ_WAIT",
    "LONG_POLL_SECONDS",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "POLL_INTERVAL_ENV",
    "long_poll_wait",
    "parse_poll_interval",
    "poll_delay",
]

POLL_INTERVAL_ENV = "MAGIC_HOUR_POLL_INTERVAL"
# Wait about a tenth of the time the task has run so far: a task is seen done at most
# ~10% after it finished (within ~100 ms for a 1 s task, ~25 ms for a quick one), and a
# long video is asked about at most every 2 s. Doubling from 0.1 s would see a 1 s task
# done only at 1.5 s.
POLL_BACKOFF = 0.1
MIN_POLL_INTERVAL = 0.025
MAX_POLL_INTERVAL = 2.0
POLL_JITTER = 0.2
# Long enough for a long video on a slow machine; pass poll_timeout to change it.
DEFAULT_POLL_TIMEOUT = 1800.0


LONG_POLL_SECONDS = 20
"""What a poll asks the server to wait for a change (`Prefer: wait=20`): long enough that
a waiting client sends a request every 20 s at most, short enough for proxies' idle
timeouts (often 30-60 s)."""
FIRST_READ_WAIT = 1
"""What the first poll of a task asks the server to wait (`Prefer: wait=1`). A held read
answers when the task changes from how it was when the read arrived: by then a photo is
usually rendering, and the read answers once, complete, tens of milliseconds later, where
a plain read would answer at once and leave the next poll to find it done. A slower task
is seen within a second, so that the caller hears of it early."""
LONG_POLL_MARGIN = 5.0
"""A held poll must answer this long before the request's read timeout."""


def long_poll_wait(
    read_timeout: float | None, remaining: float, longest: int = LONG_POLL_SECONDS
) -> int | None:
    """The `wait=N` to ask for: at most `longest`, the time left before the poll deadline,
    and the read timeout less a margin; None when that leaves less than 1 s."""
    budget = min(float(longest), remaining)
    if read_timeout is not None:
        budget = min(budget, read_timeout - LONG_POLL_MARGIN)
    seconds = math.floor(budget)
    return seconds if seconds >= 1 else None


def poll_delay(elapsed: float, random: Callable[[], float], fixed: float | None = None) -> float:
    """The wait before the next poll of a task created `elapsed` seconds ago: `fixed` when
    given, else a tenth of `elapsed` within [25 ms, 2 s], times a jitter factor in (0.8, 1]."""
    if fixed is not None:
        return fixed
    base = min(max(POLL_BACKOFF * elapsed, MIN_POLL_INTERVAL), MAX_POLL_INTERVAL)
    return base * (1.0 - POLL_JITTER * random())


def parse_poll_interval(value: str | None) -> float | None:
    """The fixed poll interval from `MAGIC_HOUR_POLL_INTERVAL` (seconds), None when unset."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{POLL_INTERVAL_ENV} must be a number of seconds >= 0, got {value!r}")
    return seconds
