"""The SDK's own httpx clients (`_client.py`): the same pool decisions as httpcore's, in
one pass, and on asyncio connections on asyncio's own streams, against a real HTTP/1.1
server on loopback (plain and TLS) that counts its connections."""

from __future__ import annotations

import asyncio
import gc
import http.cookiejar
import socket
import ssl
import threading
import time
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import httpx
import pytest
import trustme
from magic_hour import AsyncClient, Client
from magic_hour._http import _asyncio, lighten, new_async_http, new_sync_http
from magic_hour._http._pool import AsyncPool, SyncPool

pytestmark = pytest.mark.timeout(60)

BIG = bytes(range(256)) * (3 * 4096)  # 3 MiB: many reads, and writes that wait to drain


class _Server(ThreadingHTTPServer):
    """Keep-alive HTTP/1.1 on loopback: `/` answers at once, `/slow` after 0.2 s, `/drop`
    answers and then closes the connection without saying so, `/big` sends `BIG`,
    `/set-cookie` sets one and `/cookies` answers with the cookies it was sent; a PUT
    answers with the length and a digest of what it read."""

    daemon_threads = True

    def __init__(self) -> None:
        self.connections = 0
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(handler) -> None:
                super().setup()
                with self.lock:
                    self.connections += 1

            def do_GET(handler) -> None:
                if handler.path == "/slow":
                    time.sleep(0.2)
                body = BIG if handler.path == "/big" else b"ok"
                if handler.path == "/cookies":  # what the client sent
                    body = handler.headers.get("Cookie", "").encode()
                handler.send_response(200)
                if handler.path == "/set-cookie":
                    handler.send_header("Set-Cookie", "session=s1; Path=/")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                if handler.path == "/drop":
                    handler.close_connection = True

            def do_PUT(handler) -> None:
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                answer = f"{len(body)} {hash(body)}".encode()
                handler.send_response(200)
                handler.send_header("Content-Length", str(len(answer)))
                handler.end_headers()
                handler.wfile.write(answer)

            def log_message(handler, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def server() -> Iterator[_Server]:
    running = _Server()
    threading.Thread(target=running.serve_forever, daemon=True).start()
    yield running
    running.shutdown()
    running.server_close()


def test_the_clients_the_sdk_makes_have_the_one_pass_pool() -> None:
    assert httpcore.__version__.startswith("1.0.")  # what uv.lock pins
    sync_http, async_http = new_sync_http(), new_async_http()
    assert type(sync_http._transport._pool) is SyncPool  # type: ignore[attr-defined]
    pool = async_http._transport._pool  # type: ignore[attr-defined]
    assert type(pool) is AsyncPool
    assert type(pool._network_backend) is _asyncio.Backend
    assert type(Client(token="t")._http._transport._pool) is SyncPool  # type: ignore[attr-defined]
    given = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200)))
    assert Client(token="t", httpx_client=given)._http is given  # used as given
    assert lighten(given) is given and isinstance(given._transport, httpx.MockTransport)
    asyncio.run(AsyncClient(token="t").close())


def test_sequential_requests_share_one_connection(server: _Server) -> None:
    with new_sync_http() as http:
        assert all(http.get(server.url).text == "ok" for _ in range(20))

    async def run() -> None:
        async with new_async_http() as http:
            for _ in range(20):
                assert (await http.get(server.url)).text == "ok"

    asyncio.run(run())
    assert server.connections == 2  # one each


def test_concurrent_requests_open_a_connection_each_and_reuse_them(server: _Server) -> None:
    async def run() -> int:
        async with new_async_http() as http:
            for _ in range(3):
                replies = await asyncio.gather(*(http.get(f"{server.url}/slow") for _ in range(8)))
                assert [reply.text for reply in replies] == ["ok"] * 8
            return len(http._transport._pool.connections)  # type: ignore[attr-defined]

    assert asyncio.run(run()) == 8  # all kept alive: 8 is within the 20 kept by default
    assert server.connections == 8  # the second and third rounds reused them


def test_the_connection_limit_holds_and_waiting_requests_get_a_freed_connection(
    server: _Server,
) -> None:
    limits = httpx.Limits(max_connections=2, max_keepalive_connections=1)

    async def run() -> int:
        async with lighten(httpx.AsyncClient(limits=limits)) as http:
            replies = await asyncio.gather(*(http.get(f"{server.url}/slow") for _ in range(6)))
            assert [reply.status_code for reply in replies] == [200] * 6
            return len(http._transport._pool.connections)  # type: ignore[attr-defined]

    assert asyncio.run(run()) == 1  # one kept alive, the other closed when idle
    assert server.connections == 2


def test_a_connection_the_server_closed_is_replaced_not_reused(server: _Server) -> None:
    async def run() -> None:
        async with new_async_http() as http:
            assert (await http.get(f"{server.url}/drop")).text == "ok"
            await asyncio.sleep(0.2)  # the server has closed it by now
            # The closed socket is seen (through the socket looked up once) and replaced.
            assert (await http.get(server.url)).text == "ok"

    asyncio.run(run())
    with new_sync_http() as http:
        assert http.get(f"{server.url}/drop").text == "ok"
        time.sleep(0.2)
        assert http.get(server.url).text == "ok"
    assert server.connections == 4


def test_a_connection_past_its_keep_alive_time_is_closed_when_next_wanted(
    server: _Server,
) -> None:
    limits = httpx.Limits(keepalive_expiry=0.1)

    async def run() -> int:
        async with lighten(httpx.AsyncClient(limits=limits)) as http:
            assert (await http.get(server.url)).text == "ok"
            await asyncio.sleep(0.3)
            assert (await http.get(server.url)).text == "ok"
            return len(http._transport._pool.connections)  # type: ignore[attr-defined]

    assert asyncio.run(run()) == 1  # the expired one closed, a new one made
    with lighten(httpx.Client(limits=limits)) as http:
        assert http.get(server.url).text == "ok"
        time.sleep(0.3)
        assert http.get(server.url).text == "ok"
        assert len(http._transport._pool.connections) == 1  # type: ignore[attr-defined]
    assert server.connections == 4


def test_cookies_are_kept_and_sent_and_responses_without_any_skip_the_jar(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    jar_reads: list[str] = []
    extract = http.cookiejar.CookieJar.extract_cookies

    def counted(jar: http.cookiejar.CookieJar, response: Any, request: Any) -> None:
        jar_reads.append(request.get_full_url())
        extract(jar, response, request)

    monkeypatch.setattr(http.cookiejar.CookieJar, "extract_cookies", counted)
    with new_sync_http() as sync_http:
        assert sync_http.get(server.url + "/").text == "ok"
        assert jar_reads == []  # no Set-Cookie: the jar is not asked
        sync_http.get(server.url + "/set-cookie")
        assert jar_reads == [server.url + "/set-cookie"]
        assert sync_http.get(server.url + "/cookies").text == "session=s1"
        assert sync_http.cookies["session"] == "s1"

    async def main() -> str:
        async with new_async_http() as async_http:
            await async_http.get(server.url + "/set-cookie")
            return (await async_http.get(server.url + "/cookies")).text

    assert asyncio.run(main()) == "session=s1"
    assert len(jar_reads) == 2


def test_an_http2_client_is_left_as_httpx_makes_it() -> None:
    http = httpx.Client(http2=False)
    assert type(lighten(http)._transport._pool) is SyncPool  # type: ignore[attr-defined]
    pool = httpcore.ConnectionPool(http2=True)
    http2 = httpx.Client()
    http2._transport._pool = pool  # type: ignore[attr-defined]
    assert type(lighten(http2)._transport._pool) is httpcore.ConnectionPool  # type: ignore[attr-defined]


def _streams(http: httpx.AsyncClient) -> list[object]:
    """The network streams of the pool's open connections."""
    pool = http._transport._pool  # type: ignore[attr-defined]
    return [connection._connection._network_stream for connection in pool.connections]


def test_on_asyncio_connections_are_asyncio_streams_and_carry_large_bodies(
    server: _Server,
) -> None:
    async def run() -> None:
        async with new_async_http() as http:
            assert (await http.get(f"{server.url}/big")).content == BIG
            reply = await http.put(server.url, content=BIG)
            assert reply.text == f"{len(BIG)} {hash(BIG)}"
            streams = _streams(http)
            assert [type(stream).__name__ for stream in streams] == ["_AsyncioStream"]
            sock = streams[0].get_extra_info("socket")  # type: ignore[attr-defined]
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)

    asyncio.run(run())
    assert server.connections == 1


def test_without_asyncio_the_default_backend_is_used(
    server: _Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What happens under trio (through anyio): httpcore's own streams, socket cached.
    monkeypatch.setattr(_asyncio, "_on_asyncio", lambda: False)

    async def run() -> None:
        async with new_async_http() as http:
            assert (await http.get(f"{server.url}/big")).content == BIG
            await asyncio.sleep(0.01)
            assert [type(stream).__name__ for stream in _streams(http)] == ["_Stream"]

    asyncio.run(run())


def test_socket_options_are_applied() -> None:
    async def run() -> int:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            transport = httpx.AsyncHTTPTransport(
                socket_options=[(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
            )
            async with lighten(httpx.AsyncClient(transport=transport)) as http:
                backend = http._transport._pool._network_backend  # type: ignore[attr-defined]
                stream = await backend.connect_tcp(
                    "127.0.0.1", port, 5.0, None, [(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)]
                )
                try:
                    value: int = stream.get_extra_info("socket").getsockopt(
                        socket.SOL_SOCKET, socket.SO_KEEPALIVE
                    )
                finally:
                    await stream.aclose()
                return value

    assert asyncio.run(run()) == 1


def test_a_socket_option_the_system_refuses_is_a_connect_error() -> None:
    async def run() -> None:
        with socket.create_server(("127.0.0.1", 0)) as listener:
            backend = lighten(httpx.AsyncClient())._transport._pool._network_backend  # type: ignore[attr-defined]
            with pytest.raises(httpcore.ConnectError):
                await backend.connect_tcp(
                    "127.0.0.1",
                    listener.getsockname()[1],
                    5.0,
                    None,
                    [(socket.SOL_SOCKET, 0xBAD, 1)],
                )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(run())
        gc.collect()
    # Nothing left open: the connection made before the refusal was closed.
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_timeouts_and_refusals_are_httpx_errors(server: _Server) -> None:
    with socket.create_server(("127.0.0.1", 0)) as closed:
        refused = f"http://127.0.0.1:{closed.getsockname()[1]}"
    # Nothing listens there now.

    async def run() -> None:
        async with new_async_http() as http:
            with pytest.raises(httpx.ReadTimeout):
                await http.get(f"{server.url}/slow", timeout=0.05)
            with pytest.raises(httpx.ConnectError):
                await http.get(refused)
            assert (await http.get(server.url)).text == "ok"  # the pool is still usable

    asyncio.run(run())


def test_a_server_that_stops_reading_makes_the_upload_a_write_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        # The connection is accepted (by the kernel's backlog) and never read from.

        async def run() -> None:
            async with new_async_http() as http:
                timeout = httpx.Timeout(5.0, write=0.3)
                with pytest.raises(httpx.WriteTimeout):
                    await http.put(url, content=b"x" * (64 * 1024 * 1024), timeout=timeout)

        started = time.monotonic()
        asyncio.run(run())
        assert time.monotonic() - started < 5.0  # the write timeout, not the others


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def tls_server(authority: trustme.CA) -> Iterator[_Server]:
    running = _Server()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(context)
    running.socket = context.wrap_socket(running.socket, server_side=True)
    running.url = running.url.replace("http://127.0.0.1", "https://localhost")
    threading.Thread(target=running.serve_forever, daemon=True).start()
    yield running
    running.shutdown()
    running.server_close()


def test_tls_works_on_asyncio_streams_and_checks_the_certificate(
    tls_server: _Server, authority: trustme.CA
) -> None:
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)

    async def run() -> None:
        async with lighten(httpx.AsyncClient(verify=trusting)) as http:
            for _ in range(3):
                assert (await http.get(f"{tls_server.url}/big")).content == BIG
            streams = _streams(http)
            assert [type(stream).__name__ for stream in streams] == ["_AsyncioStream"]
            ssl_object = streams[0].get_extra_info("ssl_object")  # type: ignore[attr-defined]
            assert ssl_object is not None and ssl_object.version() is not None
        async with lighten(httpx.AsyncClient()) as http:  # the system's CAs: not this one
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(tls_server.url)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(run())
        gc.collect()
    # The refused handshake's connection was closed too.
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    # One connection, reused; the refused handshake never reached a request handler.
    assert tls_server.connections == 1
