"""`AsyncioTransport`, the transport `AsyncClient` makes for itself: TLS, timeouts, a
connection the server closed while idle, errors that say whether a request was sent, and
httpx's own transport when the environment names a proxy."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import trustme
from magic_hour import AsyncClient
from magic_hour._transports import AsyncioTransport
from magic_hour_server import LocalServer

from tests.faults._proxy import FaultProxy
from tests.faults.conftest import (
    creates_after_a_reset_once_forwarded,
    creates_sent_to_a_closed_port,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]

CREATE = "/v1/face-detection"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """A raw server on loopback running `handler` for each connection; its URL."""
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"{'https' if tls else 'http'}://localhost:{port}"
    finally:
        server.close()


async def answer_each_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """200 to every request on the connection, until the client goes."""
    try:
        while True:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(OK)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        writer.close()


@pytest.mark.anyio
async def test_https_with_the_given_authority_and_a_certificate_it_does_not_trust() -> None:
    authority = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)

    async with serving(answer_each_request, server_context) as url:
        async with httpx.AsyncClient(transport=AsyncioTransport(verify=client_context)) as http:
            response = await http.get(url)
            assert (response.status_code, response.text) == (200, "ok")
            assert response.extensions["http_version"] == b"HTTP/1.1"
        async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(url)


@pytest.mark.anyio
async def test_a_connection_the_server_closed_while_idle_is_not_used_again() -> None:
    connections = 0

    async def answer_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal connections
        connections += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(OK)  # keep-alive by HTTP/1.1's default, then closed all the same
        await writer.drain()
        writer.close()

    async with (
        serving(answer_once) as url,
        httpx.AsyncClient(transport=AsyncioTransport()) as http,
    ):
        first = await http.get(url)
        await asyncio.sleep(0.2)  # the close reaches the client's side
        second = await http.get(url)
    assert (first.status_code, second.status_code) == (200, 200)
    assert connections == 2


@pytest.mark.anyio
async def test_timeouts_and_a_refused_connection_are_httpx_s_exceptions() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the request, never answers

    async with serving(silent) as url, httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with pytest.raises(httpx.ReadTimeout):
            await http.get(url, timeout=0.3)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with httpx.AsyncClient(transport=AsyncioTransport()) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(closed)


@pytest.mark.anyio
async def test_a_create_that_could_not_connect_is_sent_again_one_the_server_got_is_not(
    proxy: FaultProxy, server: LocalServer, face_png: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert await creates_sent_to_a_closed_port(caplog, max_retries=2) == 3  # 1 + 2 retries
    sent, made = await creates_after_a_reset_once_forwarded(proxy, server, face_png, max_retries=3)
    assert (sent, made) == (1, 1)


@pytest.mark.anyio
async def test_with_a_proxy_in_the_environment_async_client_goes_through_it(
    face_png: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with LocalServer(tokens=["env-proxy-token"], workers=1) as server, FaultProxy() as proxy:
        proxy.upstream = ("127.0.0.1", server.port)
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with AsyncClient(token=server.token, base_url=server.url) as client:
            await client.v1.files.upload_file(face_png)
        assert proxy.count("POST", f"{server.url}/v1/files/upload-urls") == 1
