"""Long-polling (`Prefer: wait`, RFC 7240) in the SDK, on the fake API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from magic_hour._polling import FIRST_READ_WAIT, LONG_POLL_SECONDS, long_poll_wait

from .conftest import FakeApi, Harness


class HoldingApi(FakeApi):
    """A fake API that honours `Prefer: wait`: it says so, and each answer is a change."""

    def handler(self, request: httpx.Request) -> httpx.Response:
        response = super().handler(request)
        prefer = request.headers.get("prefer", "")
        if request.url.path.startswith("/v1/face-detection/") and prefer.startswith("wait="):
            response.headers["Preference-Applied"] = prefer
        return response


def generate_url(**kwargs: Any) -> Callable[[Any], Any]:
    return lambda v1: v1.face_detection.generate(
        assets={"target_file_path": "https://cdn.test/p.png"}, download_outputs=False, **kwargs
    )


def polls(api: FakeApi) -> list[httpx.Request]:
    return api.sent("GET", "/v1/face-detection/")


def test_the_wait_asked_for_fits_the_deadline_and_the_read_timeout() -> None:
    assert long_poll_wait(60.0, 1800.0) == LONG_POLL_SECONDS == 20
    assert long_poll_wait(None, 1800.0) == 20  # no read timeout
    assert long_poll_wait(60.0, 7.9) == 7  # the poll deadline comes first
    assert long_poll_wait(12.0, 1800.0) == 7  # answers 5 s before the read timeout
    assert long_poll_wait(5.5, 1800.0) is None  # less than a second left: plain polls
    assert long_poll_wait(60.0, 0.5) is None
    assert long_poll_wait(60.0, 1800.0, FIRST_READ_WAIT) == FIRST_READ_WAIT == 1
    assert long_poll_wait(5.9, 1800.0, FIRST_READ_WAIT) is None  # no room for the margin


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_server_that_holds_polls_is_asked_again_at_once(kind: str) -> None:
    api = HoldingApi()
    api.statuses = ["queued", "rendering", "rendering", "complete"]
    sdk = Harness(kind, api)

    result = await sdk(generate_url())

    assert result.status.value == "complete"
    # The first read asks for a short hold (nothing seen yet), each next one a long one.
    assert [r.headers.get("prefer") for r in polls(api)] == ["wait=1"] + ["wait=20"] * 3
    # No wait on a schedule: the server's answers pace the polls.
    assert sdk.time.sleeps == []


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_server_that_ignores_prefer_is_polled_exactly_as_without_it(kind: str) -> None:
    statuses = ["queued"] * 12 + ["rendering"] * 5 + ["complete"]
    runs = []
    for long_poll in (True, False):
        api = FakeApi()  # the hosted API today: no Preference-Applied
        api.statuses = list(statuses)
        sdk = Harness(kind, api, long_poll=long_poll)
        await sdk(generate_url())
        runs.append((len(polls(api)), sdk.time.sleeps, polls(api)))
    (asked, asked_sleeps, asked_polls), (plain, plain_sleeps, plain_polls) = runs
    assert asked == plain == len(statuses)
    assert asked_sleeps == plain_sleeps and len(plain_sleeps) == len(statuses) - 1
    assert [r.headers.get("prefer") for r in asked_polls[1:]] == ["wait=20"] * (asked - 1)
    assert all("prefer" not in r.headers for r in plain_polls)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_long_polling_can_be_turned_off_per_client_and_per_call(kind: str) -> None:
    api = HoldingApi()
    await Harness(kind, api, long_poll=False)(generate_url())
    api_per_call = HoldingApi()
    await Harness(kind, api_per_call)(generate_url(long_poll=False))
    for fake in (api, api_per_call):
        assert polls(fake) and all("prefer" not in r.headers for r in polls(fake))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_a_short_read_timeout_asks_for_a_shorter_wait_or_none(kind: str) -> None:
    api = HoldingApi()
    await Harness(kind, api, timeout=10.0)(generate_url())
    assert {r.headers.get("prefer") for r in polls(api)[1:]} == {"wait=5"}
    api = HoldingApi()
    await Harness(kind, api, timeout=3.0)(generate_url())
    assert all("prefer" not in r.headers for r in polls(api))


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_get_alone_never_waits(kind: str) -> None:
    api = HoldingApi()
    await Harness(kind, api)(lambda v1: v1.face_detection.get(id="task-1"))
    assert all("prefer" not in r.headers for r in polls(api))
