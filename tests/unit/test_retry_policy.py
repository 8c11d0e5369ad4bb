"""Retry decisions and delays, as plain functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from magic_hour._retry import (
    MAX_RETRY_AFTER,
    RetryMode,
    backoff_delay,
    parse_retry_after,
    reports_unsent,
    retry_delay,
    should_retry_error,
    should_retry_status,
)

SAFE, ONCE = RetryMode.SAFE, RetryMode.ONLY_IF_NOT_PROCESSED
NOW = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
REQUEST = httpx.Request("POST", "https://api.test/v1/face-detection")


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_safe_requests_retry_the_transient_statuses(status: int) -> None:
    assert should_retry_status(status, SAFE)


@pytest.mark.parametrize("status", [200, 400, 401, 402, 404, 409, 422, 501])
def test_no_request_retries_a_final_status(status: int) -> None:
    assert not should_retry_status(status, SAFE)
    assert not should_retry_status(status, ONCE)


@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (503, True), (408, False), (500, False), (502, False), (504, False)],
)
def test_creating_a_task_retries_only_statuses_that_say_it_was_not_processed(
    status: int, retried: bool
) -> None:
    assert should_retry_status(status, ONCE) is retried


@pytest.mark.parametrize(
    ("error", "safe", "once"),
    [
        (httpx.ConnectError("refused", request=REQUEST), True, True),
        (httpx.ConnectTimeout("slow connect", request=REQUEST), True, True),
        (httpx.PoolTimeout("no connection free", request=REQUEST), True, True),
        (httpx.ReadTimeout("slow answer", request=REQUEST), True, False),
        (httpx.ReadError("reset", request=REQUEST), True, False),
        (httpx.WriteError("broken pipe", request=REQUEST), True, False),
        (httpx.RemoteProtocolError("no response", request=REQUEST), True, False),
        (httpx.TooManyRedirects("loop", request=REQUEST), False, False),
    ],
)
def test_transport_errors(error: httpx.RequestError, safe: bool, once: bool) -> None:
    assert should_retry_error(error, SAFE) is safe
    assert should_retry_error(error, ONCE) is once


def test_backoff_doubles_from_half_a_second_to_eight_with_jitter_below() -> None:
    assert [backoff_delay(n, lambda: 0.0) for n in range(6)] == [0.5, 1, 2, 4, 8, 8]
    assert [backoff_delay(n, lambda: 1.0) for n in range(6)] == [0.375, 0.75, 1.5, 3, 6, 6]
    assert backoff_delay(1000, lambda: 0.0) == 8.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": " 0 "}, 0.0),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": format_datetime(NOW + timedelta(seconds=7), usegmt=True)}, 7.0),
        ({"retry-after": format_datetime(NOW - timedelta(seconds=7), usegmt=True)}, 0.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "nan"}, None),
        ({}, None),
    ],
)
def test_retry_after(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(httpx.Headers(headers), now=NOW) == seconds


def test_retry_after_wins_over_backoff_and_is_clamped() -> None:
    asked = httpx.Response(429, headers={"Retry-After": "2"})
    assert retry_delay(0, lambda: 0.0, asked) == 2.0
    too_long = httpx.Response(429, headers={"Retry-After": "86400"})
    assert retry_delay(0, lambda: 0.0, too_long) == MAX_RETRY_AFTER
    unreadable = httpx.Response(503, headers={"Retry-After": "whenever"})
    assert retry_delay(2, lambda: 0.0, unreadable) == 2.0
    assert retry_delay(3, lambda: 0.0) == 4.0


class _Foreign(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)


def _answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200)


def test_only_httpx_own_transports_are_trusted_to_report_an_unsent_request() -> None:
    assert reports_unsent(None)  # the client the SDK makes: httpx's default transport
    assert reports_unsent(httpx.MockTransport(_answer))
    assert reports_unsent(httpx.AsyncHTTPTransport())
    assert not reports_unsent(_Foreign())


def test_a_client_passed_in_gets_the_conservative_rule() -> None:
    """The SDK reads nothing inside an httpx client it did not make: it cannot know its
    transports, so a create through it is retried only when that is known to be safe."""
    from magic_hour import AsyncClient, Client

    assert Client(token="t")._context.connect_errors_mean_unsent
    mock = httpx.MockTransport(_answer)
    assert Client(token="t", transport=mock)._context.connect_errors_mean_unsent
    assert not AsyncClient(token="t", transport=_Foreign())._context.connect_errors_mean_unsent
    given = httpx.Client(transport=mock)
    assert not Client(token="t", httpx_client=given)._context.connect_errors_mean_unsent
    with pytest.raises(ValueError, match="not both"):
        Client(token="t", httpx_client=given, transport=mock)
    with pytest.raises(TypeError, match="AsyncBaseTransport"):
        AsyncClient(token="t", transport=httpx.HTTPTransport())  # a sync-only transport


def test_a_create_over_an_untrusted_transport_is_retried_on_refusing_statuses_only() -> None:
    refused = RetryMode.ONLY_IF_REFUSED
    assert not should_retry_error(httpx.ConnectError("refused", request=REQUEST), refused)
    assert not should_retry_error(httpx.ConnectTimeout("slow", request=REQUEST), refused)
    assert [s for s in (408, 429, 500, 502, 503, 504) if should_retry_status(s, refused)] == [
        429,
        503,
    ]
