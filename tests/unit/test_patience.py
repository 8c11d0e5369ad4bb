"""generate() rides through outages until its own deadlines; single calls keep
max_retries. The same workflow drives Client and AsyncClient (the `sdk` harness runs each
test on both), on a fake clock that moves only when the workflow sleeps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import magic_hour
import pytest

from tests.unit.conftest import FakeApi, Harness, task_body

GET_PATH = "/v1/face-detection/task-1"
CREATE_PATH = "/v1/face-detection"
START = 1000.0  # where the fake clock starts


def generate(tmp_path: Path, **kwargs: Any) -> Any:
    return lambda v1: v1.face_detection.generate(
        assets={"target_file_path": "https://example.com/photo.png"},
        download_directory=str(tmp_path),
        **kwargs,
    )


def outage(count: int, status: int = 503, retry_after: str | None = "1") -> list[httpx.Response]:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return [httpx.Response(status, json={"message": "down"}, headers=headers)] * count


@pytest.mark.anyio
async def test_polls_ride_through_an_outage_far_longer_than_max_retries(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    api.statuses = ["rendering", "complete"]
    api.polls = 0
    api.queue("GET", GET_PATH, httpx.Response(200, json=task_body("task-1", "rendering", [])))
    api.queue("GET", GET_PATH, *outage(20), httpx.ConnectError("refused"), httpx.ReadTimeout("x"))
    result = await sdk(generate(tmp_path, long_poll=False))
    assert result.status == "complete" and len(result.downloaded_paths) == 2
    assert len(api.sent("GET", GET_PATH)) >= 24
    assert sdk.time.sleeps.count(1.0) == 20  # Retry-After: 1, honoured each time


@pytest.mark.anyio
async def test_a_poll_gives_up_at_the_poll_deadline_naming_the_task(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    api.queue("GET", GET_PATH, *outage(10_000, 502, retry_after=None))
    with pytest.raises(magic_hour.APIStatusError) as caught:
        await sdk(generate(tmp_path, poll_timeout=60))
    assert caught.value.status_code == 502
    assert caught.value.task_id == "task-1"
    assert "face_detection.get(id='task-1')" in "".join(caught.value.__notes__)
    assert 59 <= sdk.time.now - START <= 61  # waited out the deadline, no longer
    assert max(sdk.time.sleeps) <= 8.0  # backoff stays capped


@pytest.mark.anyio
async def test_create_is_patient_only_with_failures_that_show_it_did_not_run(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    api.queue("POST", CREATE_PATH, *outage(6), *outage(4, 429), httpx.ConnectError("refused"))
    result = await sdk(generate(tmp_path))
    assert result.status == "complete"
    assert len(api.sent("POST", CREATE_PATH)) == 12
    api.queue("POST", CREATE_PATH, httpx.ReadError("reset after the body was sent"))
    with pytest.raises(magic_hour.APIConnectionError) as caught:
        await sdk(generate(tmp_path))
    assert caught.value.task_id is None  # no task was surely created
    api.queue("POST", CREATE_PATH, *outage(3, 500))
    with pytest.raises(magic_hour.InternalServerError):
        await sdk(generate(tmp_path))


@pytest.mark.anyio
async def test_create_gives_up_after_the_clients_patience(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk(patience=30)
    api.queue("POST", CREATE_PATH, *outage(1000))
    with pytest.raises(magic_hour.APIStatusError) as caught:
        await sdk(generate(tmp_path))
    assert caught.value.status_code == 503
    assert 29 <= sdk.time.now - START <= 31


@pytest.mark.anyio
async def test_downloads_are_patient_and_name_the_task_when_they_give_up(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk(patience=20)
    api.queue("GET", "/api-assets/task-1/0-0.png", *outage(5, 502))
    result = await sdk(generate(tmp_path / "a"))
    assert len(result.downloaded_paths) == 2
    api.polls = 0
    api.queue("GET", "/api-assets/task-1/0-1.png", *outage(1000, 503))
    with pytest.raises(magic_hour.APIStatusError) as caught:
        await sdk(generate(tmp_path / "b"))
    assert caught.value.task_id == "task-1"
    assert not (tmp_path / "b" / "0-1.png").exists()


@pytest.mark.anyio
async def test_single_calls_keep_max_retries(sdk: Harness, api: FakeApi) -> None:
    api.queue("GET", GET_PATH, *outage(3))
    with pytest.raises(magic_hour.APIStatusError):
        await sdk(lambda v1: v1.face_detection.get(id="task-1"))
    assert len(api.sent("GET", GET_PATH)) == 3  # 1 + max_retries (2)


@pytest.mark.anyio
async def test_a_server_never_reached_is_not_waited_out(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk()
    api.queue("POST", "/v1/face-detection", *[httpx.ConnectError("refused")] * 50)
    with pytest.raises(magic_hour.APIConnectionError):
        await sdk(generate(tmp_path))
    assert len(api.sent("POST", CREATE_PATH)) == 3  # a wrong address says so at once


def test_patience_must_be_a_non_negative_number() -> None:
    with pytest.raises(ValueError, match="patience"):
        magic_hour.Client(token="t", patience=-1)


def echoing(api: FakeApi) -> None:
    """Make the fake API say it honours Idempotency-Key, as the local server does."""
    answer = api.handler

    def handler(request: httpx.Request) -> httpx.Response:
        response = answer(request)
        key = request.headers.get("idempotency-key")
        if key and request.method == "POST" and request.url.path == CREATE_PATH:
            response.headers["Idempotency-Key"] = key
        return response

    api.handler = handler  # type: ignore[method-assign]


@pytest.mark.anyio
async def test_a_lost_create_is_sent_again_with_its_key_where_the_server_honours_it(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    echoing(api)
    sdk = make_sdk()
    await sdk(generate(tmp_path / "first"))  # the server says it honours the key
    api.polls = 0
    api.queue("POST", CREATE_PATH, httpx.ReadError("cut after the body was sent"))
    result = await sdk(generate(tmp_path / "second"))
    assert result.status == "complete"
    creates = api.sent("POST", CREATE_PATH)
    keys = [r.headers["idempotency-key"] for r in creates]
    assert len(creates) == 3 and keys[1] == keys[2] != keys[0]  # same key when sent again


@pytest.mark.anyio
async def test_a_lost_create_is_not_sent_again_where_the_key_is_not_honoured(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    await sdk(generate(tmp_path / "first"))  # no key sent back: the hosted API today
    api.queue("POST", CREATE_PATH, httpx.ReadError("cut after the body was sent"))
    with pytest.raises(magic_hour.APIConnectionError):
        await sdk(generate(tmp_path / "second"))
    assert len(api.sent("POST", CREATE_PATH)) == 2


@pytest.mark.anyio
@pytest.mark.parametrize("foreign", [False, True])
async def test_a_create_is_retried_after_a_connect_error_only_from_httpx_own_transports(
    make_sdk: Any, api: FakeApi, tmp_path: Path, foreign: bool
) -> None:
    # httpx-aiohttp, say, reports a server that hung up after reading the whole create as
    # ConnectTimeout: from such a transport that error does not show the task was not made.
    sdk = make_sdk(foreign=foreign)
    await sdk(generate(tmp_path / "first"))  # answered: an outage is waited out
    api.queue("POST", CREATE_PATH, httpx.ConnectTimeout("no answer"))
    if foreign:
        with pytest.raises(magic_hour.APITimeoutError):
            await sdk(generate(tmp_path / "second"))
    else:
        assert (await sdk(generate(tmp_path / "second"))).status == "complete"
    assert len(api.sent("POST", CREATE_PATH)) == (2 if foreign else 3)


@pytest.mark.anyio
async def test_through_a_foreign_transport_a_create_refused_with_503_is_sent_again(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk(foreign=True)
    api.queue("POST", CREATE_PATH, httpx.Response(503, json={"message": "busy"}))
    assert (await sdk(generate(tmp_path))).status == "complete"
    assert len(api.sent("POST", CREATE_PATH)) == 2


@pytest.mark.anyio
async def test_through_a_foreign_transport_a_lost_create_is_sent_again_with_an_honoured_key(
    make_sdk: Any, api: FakeApi, tmp_path: Path
) -> None:
    echoing(api)
    sdk = make_sdk(foreign=True)
    await sdk(generate(tmp_path / "first"))  # the server says it honours the key
    api.queue("POST", CREATE_PATH, httpx.ConnectTimeout("no answer"))
    assert (await sdk(generate(tmp_path / "second"))).status == "complete"
    assert len(api.sent("POST", CREATE_PATH)) == 3
