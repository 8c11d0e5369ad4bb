"""Retry decisions: which failures to retry, and how long to wait first. No I/O here."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from ._transports import AiohttpTransport, AsyncioTransport

__all__ = [
    "MAX_RETRY_AFTER",
    "RETRYABLE_STATUSES",
    "RetryMode",
    "backoff_delay",
    "parse_retry_after",
    "reports_unsent",
    "retry_delay",
    "should_retry_error",
    "should_retry_status",
]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses that say the server did not act on the request, so even a request that
# must not run twice can be sent again.
NOT_PROCESSED_STATUSES = frozenset({429, 503})

INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
# A Retry-After beyond this is clamped: a misbehaving server must not stall the caller
# for hours, and by then another attempt with backoff is as good as waiting.
MAX_RETRY_AFTER = 60.0


class RetryMode(enum.Enum):
    """How freely a request may be sent again."""

    SAFE = "safe"
    """Repeating it does no harm: GETs, upload PUTs, and POST /v1/files/upload-urls."""
    ONLY_IF_NOT_PROCESSED = "only-if-not-processed"
    """It starts billable work (POST /v1/face-detection): retry only when it surely did not."""
    ONLY_IF_REFUSED = "only-if-refused"
    """It starts billable work, and the transport's errors do not say whether the request
    was sent (`reports_unsent`): retry only when the server answered that it did not act."""


def should_retry_status(status_code: int, mode: RetryMode) -> bool:
    """Whether a response with this status is worth another attempt."""
    if mode is RetryMode.SAFE:
        return status_code in RETRYABLE_STATUSES
    return status_code in NOT_PROCESSED_STATUSES


def should_retry_error(error: httpx.RequestError, mode: RetryMode) -> bool:
    """Whether a transport failure is worth another attempt.

    Connecting failed (or no pooled connection became free) means nothing was sent.
    Any later failure may have happened after the server got the whole request.
    """
    if not isinstance(error, httpx.TransportError):
        return False  # e.g. a redirect loop or a bad URL: the same again would fail again
    if mode is RetryMode.SAFE:
        return True
    if mode is RetryMode.ONLY_IF_REFUSED:
        return False
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def reports_unsent(transport: object | None) -> bool:
    """Whether `transport` (None: httpx's default) raises `ConnectError`, `ConnectTimeout`
    and `PoolTimeout` only for a request that was never sent, as httpx's own transports do
    (and its `MockTransport`, which raises what its handler raises, and the SDK's own
    `AsyncioTransport` and `AiohttpTransport`), judged by its public type alone.

    Other transports may not: httpx-aiohttp's own turns any aiohttp connection error into
    `ConnectTimeout`, a server that hung up after reading the whole request included.
    Retrying a create on their word could start a second task.
    """
    own = (
        httpx.HTTPTransport,
        httpx.AsyncHTTPTransport,
        httpx.MockTransport,
        AsyncioTransport,
        AiohttpTransport,
    )
    return transport is None or isinstance(transport, own)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait as the response asks: `retry-after-ms`, or `Retry-After` in seconds
    or as an HTTP date. None when absent or unreadable. Never negative."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _finite_float(millis)
        if seconds is not None:
            return max(0.0, seconds / 1000)
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _finite_float(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _finite_float(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def backoff_delay(retry_number: int, random: Callable[[], float]) -> float:
    """The wait before retry number `retry_number` (0 for the first retry): 0.5 s doubling
    to 8 s, times a jitter factor in (0.75, 1] so that clients do not retry in step."""
    base = min(INITIAL_BACKOFF * 2.0**retry_number, MAX_BACKOFF)
    return base * (1.0 - 0.25 * random())


def retry_delay(
    retry_number: int,
    random: Callable[[], float],
    response: httpx.Response | None = None,
    now: datetime | None = None,
) -> float:
    """The wait before the next attempt: the server's Retry-After (clamped) when it sent
    one, else the exponential backoff."""
    if response is not None:
        asked = parse_retry_after(response.headers, now)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER)
    return backoff_delay(retry_number, random)
