"""`AsyncClient(transport=AiohttpTransport())` (the `aiohttp` extra) against the real server,
directly and through the fault-injecting proxy: the same results, the same retries, and
never a create sent twice after the server may have got it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from httpx_aiohttp import AiohttpTransport as HttpxAiohttpTransport
from httpx_aiohttp.transport import map_aiohttp_exceptions
from magic_hour import AiohttpTransport, AsyncClient, FaceDetectionResult
from magic_hour._retry import RetryMode, should_retry_error
from magic_hour._transports._aiohttp import truthful_error
from magic_hour_server import LocalServer

from tests.faults._proxy import FaultProxy, Rule
from tests.faults.conftest import (
    creates_after_a_reset_once_forwarded,
    creates_sent_to_a_closed_port,
    task_count,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CREATE = "/v1/face-detection"
REQUEST = httpx.Request("POST", "http://127.0.0.1:9/v1/face-detection")


async def _generate(
    server: LocalServer, photo: Path, out: Path, **client: Any
) -> FaceDetectionResult:
    async with AsyncClient(token=server.token, **client) as c:
        return await c.v1.face_detection.generate(
            assets={"target_file_path": photo}, download_directory=out
        )


def _contents(path: str) -> bytes:
    return Path(path).read_bytes()


@pytest.mark.anyio
async def test_generate_over_aiohttp_gives_what_httpx_gives(
    server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    plain, over_aiohttp = [
        await _generate(server, face_png, tmp_path, base_url=server.url, transport=transport)
        for transport in (None, AiohttpTransport())
    ]
    assert over_aiohttp.status == "complete"
    assert [f.box for f in over_aiohttp.faces] == [f.box for f in plain.faces]
    assert len(over_aiohttp.faces) == 1
    (saved,) = over_aiohttp.downloaded_paths
    assert _contents(saved) == _contents(plain.downloaded_paths[0])


@pytest.mark.anyio
async def test_faults_are_retried_as_over_httpx_and_no_task_is_made_twice(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    before = task_count(server.data_dir)
    proxy.add(Rule("POST", CREATE, "status", times=1, status=503, headers={"Retry-After": "0"}))
    proxy.add(Rule("GET", CREATE, "reset", times=1))
    proxy.add(Rule("GET", "/api-assets/", "cut", times=1))
    res = await _generate(
        server, face_png, tmp_path, base_url=proxy.url, max_retries=2, transport=AiohttpTransport()
    )
    assert res.status == "complete"
    assert task_count(server.data_dir) == before + 1
    assert proxy.count("POST", CREATE) == 2
    assert proxy.count("GET", "/api-assets/", "cut") == 1
    (saved,) = res.downloaded_paths
    assert Path(saved).name == "0-0.png" and _contents(saved)


@pytest.mark.anyio
@pytest.mark.parametrize("ours", [True, False], ids=["AiohttpTransport", "httpx-aiohttp's"])
async def test_a_create_the_server_got_is_not_sent_again(
    proxy: FaultProxy, server: LocalServer, face_png: Path, ours: bool
) -> None:
    """The proxy forwards the create, then resets the connection: aiohttp sees a
    connection error after sending, which httpx-aiohttp calls `ConnectTimeout`."""
    transport = AiohttpTransport() if ours else HttpxAiohttpTransport()
    sent, made = await creates_after_a_reset_once_forwarded(
        proxy, server, face_png, max_retries=3, transport=transport
    )
    assert (sent, made) == (1, 1)


@pytest.mark.anyio
async def test_a_create_that_could_not_connect_is_sent_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    transport = AiohttpTransport()
    sent = await creates_sent_to_a_closed_port(caplog, max_retries=2, transport=transport)
    assert sent == 3  # the first attempt and two retries


def _mapped(cause: Exception) -> httpx.TransportError:
    """What httpx-aiohttp raises for `cause`, then what AiohttpTransport makes of it."""
    with pytest.raises(httpx.TransportError) as raised, map_aiohttp_exceptions():
        raise cause
    return truthful_error(raised.value, REQUEST)


def test_only_a_failure_to_connect_keeps_the_error_that_allows_a_create_again() -> None:
    key = aiohttp.client_reqrep.ConnectionKey("127.0.0.1", 9, False, True, None, None, None)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    cases: list[tuple[Exception, type[httpx.TransportError], bool]] = [
        (refused, httpx.ConnectError, True),
        (aiohttp.ConnectionTimeoutError("connect"), httpx.ConnectTimeout, True),
        (aiohttp.ServerDisconnectedError(), httpx.RemoteProtocolError, False),
        (aiohttp.ClientOSError(104, "reset by peer"), httpx.ReadError, False),
        (aiohttp.ClientConnectionError("closed"), httpx.ReadError, False),
        (aiohttp.SocketTimeoutError("read"), httpx.ReadTimeout, False),
    ]
    for cause, kind, retried in cases:
        error = _mapped(cause)
        assert type(error) is kind, (cause, error)
        assert should_retry_error(error, RetryMode.ONLY_IF_NOT_PROCESSED) is retried, cause
        assert should_retry_error(error, RetryMode.SAFE)  # a GET is retried either way
