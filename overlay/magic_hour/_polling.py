"""The poll schedule for a running task. No I/O here."""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = [
    "DEFAULT_POLL_TIMEOUT",
    "MAX_POLL_INTERVAL",
    "POLL_INTERVAL_ENV",
    "parse_poll_interval",
    "poll_delay",
]

POLL_INTERVAL_ENV = "MAGIC_HOUR_POLL_INTERVAL"
# Fast at first so a quick task is seen done within about 100 ms; then backing off so a
# long video does not hammer the API.
INITIAL_POLL_INTERVAL = 0.1
MAX_POLL_INTERVAL = 2.0
POLL_JITTER = 0.2
# Long enough for a long video on a slow machine; pass poll_timeout to change it.
DEFAULT_POLL_TIMEOUT = 1800.0


def poll_delay(poll_number: int, random: Callable[[], float], fixed: float | None = None) -> float:
    """The wait after poll number `poll_number` (0 for the first): `fixed` when given,
    else 0.1 s doubling up to 2 s, times a jitter factor in (0.8, 1]."""
    if fixed is not None:
        return fixed
    base = min(INITIAL_POLL_INTERVAL * 2.0 ** min(poll_number, 32), MAX_POLL_INTERVAL)
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
