"""The SDK's own httpx clients (`_transport`): the same pool decisions as httpcore's, in
one pass, against a real HTTP/1.1 server on loopback that counts its connections."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpcore
import httpx
import pytest
from magic_hour import AsyncClient, Client
from magic_hour._client import lighten, new_async_http, new_sync_http

pytestmark = pytest.mark.timeout(60)


class _Server(ThreadingHTTPServer):
    """Keep-alive HTTP/1.1 on loopback: `/` answers at once, `/slow` after 0.2 s, `/drop`
    answers and then closes the connection without saying so."""

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
                handler.send_response(200)
                handler.send_header("Content-Length", "2")
                handler.end_headers()
                handler.wfile.write(b"ok")
                if handler.path == "/drop":
                    handler.close_connection = True

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
    assert type(sync_http._transport._pool).__name__ == "_SyncPool"  # type: ignore[attr-defined]
    pool = async_http._transport._pool  # type: ignore[attr-defined]
    assert type(pool).__name__ == "_AsyncPool"
    assert type(pool._network_backend).__name__ == "_SocketOnce"
    assert type(Client(token="t")._http._transport._pool).__name__ == "_SyncPool"  # type: ignore[attr-defined]
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


def test_an_http2_client_is_left_as_httpx_makes_it() -> None:
    http = httpx.Client(http2=False)
    assert type(lighten(http)._transport._pool).__name__ == "_SyncPool"  # type: ignore[attr-defined]
    pool = httpcore.ConnectionPool(http2=True)
    http2 = httpx.Client()
    http2._transport._pool = pool  # type: ignore[attr-defined]
    assert type(lighten(http2)._transport._pool) is httpcore.ConnectionPool  # type: ignore[attr-defined]
