"""Client set-up, environment variables, retries, timeouts and logging, for both clients."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
import magic_hour
import pytest
from magic_hour import (
    AsyncClient,
    Client,
    Environment,
    InternalServerError,
    MagicHourError,
    RateLimitError,
)

from .conftest import BASE_URL, TOKEN, FakeApi, Harness

GET_PATH = "/v1/face-detection/abc"
CREATE_PATH = "/v1/face-detection"
CREATE_ARGS = {"assets": {"target_file_path": "api-assets/id/1234.png"}, "confidence_score": 0.5}


def get(v1: Any) -> Any:
    return v1.face_detection.get(id="abc")


def create(v1: Any) -> Any:
    return v1.face_detection.create(**CREATE_ARGS)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MAGIC_HOUR_API_TOKEN", "MAGIC_HOUR_BASE_URL", "MAGIC_HOUR_POLL_INTERVAL"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_missing_token_is_a_clear_error_before_any_request(cls: type[Any]) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = httpx.MockTransport(handler)
    http = httpx.Client(transport=transport) if cls is Client else httpx.AsyncClient()
    with pytest.raises(MagicHourError, match="MAGIC_HOUR_API_TOKEN"):
        cls(httpx_client=http)
    with pytest.raises(MagicHourError, match="token"):
        cls(token="  ")
    assert sent == []


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_token_and_base_url_come_from_the_environment(
    cls: type[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cls(token="t").base_url == Environment.PRODUCTION.value == "https://api.magichour.ai"
    monkeypatch.setenv("MAGIC_HOUR_API_TOKEN", "from-env")
    monkeypatch.setenv("MAGIC_HOUR_BASE_URL", "http://127.0.0.1:8000/")
    client = cls()
    assert client.base_url == "http://127.0.0.1:8000"
    assert client._context.api.token == "from-env"
    assert cls(token="t", base_url="http://other").base_url == "http://other"
    assert "from-env" not in repr(client)


@pytest.mark.anyio
async def test_requests_carry_the_token_and_go_to_the_base_url(sdk: Harness, api: FakeApi) -> None:
    task = await sdk(get)
    assert task.id == "task-1"
    (request,) = api.requests
    assert str(request.url) == f"{BASE_URL}{GET_PATH}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["user-agent"].startswith("magic-hour-python/")


@pytest.mark.anyio
async def test_create_sends_the_generated_request_body(sdk: Harness, api: FakeApi) -> None:
    created = await sdk(create)
    assert (created.id, created.credits_charged) == ("task-1", 3)
    (request,) = api.requests
    assert request.method == "POST"
    assert httpx.Response(200, content=request.content).json() == CREATE_ARGS


@pytest.mark.anyio
async def test_create_refuses_a_local_file(sdk: Harness, api: FakeApi) -> None:
    with pytest.raises(TypeError, match="generate"):
        await sdk(lambda v1: v1.face_detection.create(assets={"target_file_path": 5}))
    assert api.requests == []


def test_sync_context_manager_closes_its_own_http_client_only() -> None:
    with Client(token="t") as client:
        own = client._http
    assert own.is_closed
    given = httpx.Client()
    with Client(token="t", httpx_client=given):
        pass
    assert not given.is_closed


@pytest.mark.anyio
async def test_async_context_manager_closes_its_own_http_client_only() -> None:
    async with AsyncClient(token="t") as client:
        own = client._http
    assert own.is_closed
    given = httpx.AsyncClient()
    async with AsyncClient(token="t", httpx_client=given):
        pass
    assert not given.is_closed
    await given.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_a_get_is_retried_on_transient_statuses(
    sdk: Harness, api: FakeApi, status: int
) -> None:
    api.queue("GET", GET_PATH, httpx.Response(status), httpx.Response(status))
    assert (await sdk(get)).id == "task-1"
    assert len(api.requests) == 3
    assert sdk.time.sleeps == [0.5 * 0.875, 1.0 * 0.875]  # backoff with the fixed jitter


@pytest.mark.anyio
@pytest.mark.parametrize("status", [400, 401, 402, 404, 422])
async def test_final_statuses_are_not_retried(sdk: Harness, api: FakeApi, status: int) -> None:
    api.queue("GET", GET_PATH, httpx.Response(status, json={"message": "no"}))
    with pytest.raises(magic_hour.APIStatusError):
        await sdk(get)
    assert len(api.requests) == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "retried"),
    [(429, True), (503, True), (500, False), (502, False), (504, False), (408, False)],
)
async def test_create_is_retried_only_when_surely_not_processed(
    sdk: Harness, api: FakeApi, status: int, retried: bool
) -> None:
    api.queue("POST", CREATE_PATH, httpx.Response(status, json={"message": "busy"}))
    if retried:
        assert (await sdk(create)).id == "task-1"
    else:
        with pytest.raises(magic_hour.APIStatusError, match="busy"):
            await sdk(create)
    assert len(api.sent("POST")) == (2 if retried else 1)


@pytest.mark.anyio
async def test_create_is_retried_after_a_connect_error_but_not_after_a_read_error(
    sdk: Harness, api: FakeApi
) -> None:
    api.queue("POST", CREATE_PATH, httpx.ConnectError("refused"))
    assert (await sdk(create)).id == "task-1"
    assert len(api.sent("POST")) == 2
    api.queue("POST", CREATE_PATH, httpx.ReadError("reset after sending"))
    with pytest.raises(magic_hour.APIConnectionError):
        await sdk(create)
    assert len(api.sent("POST")) == 3


@pytest.mark.anyio
async def test_a_get_is_retried_after_any_transport_error(sdk: Harness, api: FakeApi) -> None:
    api.queue("GET", GET_PATH, httpx.ReadError("reset"), httpx.ReadTimeout("slow"))
    assert (await sdk(get)).id == "task-1"
    assert len(api.requests) == 3


@pytest.mark.anyio
async def test_retry_after_in_seconds_and_as_a_date_is_honoured(sdk: Harness, api: FakeApi) -> None:
    api.queue(
        "GET",
        GET_PATH,
        httpx.Response(429, headers={"Retry-After": "3"}),
        httpx.Response(503, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),
    )
    assert (await sdk(get)).id == "task-1"
    assert sdk.time.sleeps == [3.0, 0.0]  # a date in the past: retry at once


@pytest.mark.anyio
async def test_max_retries_per_client_and_per_call(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    sdk = make_sdk(max_retries=1)
    api.requests.clear()
    api.queue("GET", GET_PATH, *[httpx.Response(500)] * 2)
    with pytest.raises(InternalServerError):
        await sdk(get)
    assert len(api.requests) == 2  # the first try and one retry
    api.requests.clear()
    api.queue("GET", GET_PATH, *[httpx.Response(429)] * 4)
    with pytest.raises(RateLimitError):
        await sdk(lambda v1: v1.face_detection.get(id="abc", max_retries=3))
    assert len(api.requests) == 4
    api.requests.clear()
    api.queue("GET", GET_PATH, httpx.Response(500))
    with pytest.raises(InternalServerError):
        await sdk(lambda v1: v1.face_detection.get(id="abc", max_retries=0))
    assert len(api.requests) == 1


def test_max_retries_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Client(token="t", max_retries=-1)


@pytest.mark.anyio
async def test_timeouts_per_client_and_per_call(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    sdk = make_sdk(timeout=12.0)
    api.requests.clear()
    await sdk(get)
    await sdk(lambda v1: v1.face_detection.get(id="abc", timeout=3.0))
    await sdk(lambda v1: v1.face_detection.get(id="abc", timeout=None))
    timeouts = [r.extensions["timeout"] for r in api.requests]
    assert [t["read"] for t in timeouts] == [12.0, 3.0, None]


@pytest.mark.anyio
async def test_debug_logging_shows_requests_and_retries_but_never_the_token(
    sdk: Harness, api: FakeApi, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAGIC_HOUR_LOG", "debug")
    Client(token=TOKEN)  # applies MAGIC_HOUR_LOG
    assert logging.getLogger("magic_hour").level == logging.DEBUG
    caplog.set_level(logging.DEBUG)
    api.queue("GET", GET_PATH, httpx.Response(503))
    await sdk(get)
    await sdk(create)
    log = caplog.text
    assert f"GET {BASE_URL}{GET_PATH}" in log
    assert "retrying" in log and "HTTP 503" in log
    assert "POST" in log
    assert TOKEN not in log
    logging.getLogger("magic_hour").setLevel(logging.NOTSET)


def test_version_is_a_string() -> None:
    assert isinstance(magic_hour.__version__, str) and magic_hour.__version__
    assert set(magic_hour.__all__) <= set(dir(magic_hour))


def test_importing_the_sdk_changes_no_process_wide_state() -> None:
    """No entry in sys.modules for another library, no class of httpx or httpcore swapped."""
    import subprocess
    import sys

    code = (
        "import sys; before = set(sys.modules); import magic_hour; "
        "added = set(sys.modules) - before; "
        "print(sorted(n for n in added if sys.modules[n] is None))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_a_logged_request_never_shows_its_query() -> None:
    # Upload URLs are signed in their query: a log line names the URL without it.
    from magic_hour._operations import _Where

    request = httpx.Request("PUT", "https://storage.test/api-assets/a/input.jpg?signature=s3cr3t")
    assert str(_Where(request)) == "PUT https://storage.test/api-assets/a/input.jpg"


def test_importing_the_sdk_loads_no_aiohttp_and_without_the_extra_the_transport_says_so() -> None:
    """`AiohttpTransport` is exported from the base install; aiohttp is loaded only when
    one is made, and without the `aiohttp` extra making one names the extra."""
    import subprocess
    import sys

    code = (
        "import sys; import magic_hour; assert 'aiohttp' not in sys.modules; "
        "sys.modules['httpx_aiohttp'] = None  # as if the extra were not installed\n"
        "try:\n    magic_hour.AiohttpTransport()\n"
        "except ImportError as error:\n    print(error)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'magic-hour-face-detection[aiohttp]'" in run.stdout
    assert "httpx_aiohttp" in run.stdout and "Traceback" not in run.stderr
