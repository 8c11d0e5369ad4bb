"""A user's own `httpx_client` (a forward proxy, proxies from the environment, HTTP/2
enabled, a transport of their own) against the real server: used exactly as httpx
documents it, and a create through it sent again only when that is known to be safe."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from magic_hour import APIConnectionError, AsyncClient, Client
from magic_hour_server import LocalServer

from tests.faults._proxy import FaultProxy, Rule
from tests.faults.conftest import task_count

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def forward() -> Iterator[tuple[LocalServer, FaultProxy]]:
    """A server, and an HTTP forward proxy in front of it (requests in absolute form)."""
    with LocalServer(tokens=["own-client-token"], workers=1) as server, FaultProxy() as proxy:
        proxy.upstream = ("127.0.0.1", server.port)
        yield server, proxy


def _through(proxy: FaultProxy, server: LocalServer, method: str, path: str) -> int:
    """Requests of `method` for `path` on `server` that reached it through `proxy`."""
    return proxy.count(method, f"{server.url}{path}")


def test_a_forward_proxy_carries_every_request_of_generate(
    forward: tuple[LocalServer, FaultProxy], face_png: Path, tmp_path: Path
) -> None:
    server, proxy = forward
    proxy.clear()
    with (
        httpx.Client(proxy=proxy.url) as own,
        Client(token=server.token, base_url=server.url, httpx_client=own) as client,
    ):
        res = client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=tmp_path
        )
        assert not own.is_closed  # the SDK does not close a client it was given
    assert res.status == "complete" and len(res.downloaded_paths) == 1
    assert _through(proxy, server, "POST", "/v1/files/upload-urls") == 1
    assert _through(proxy, server, "POST", "/v1/face-detection") == 1
    assert _through(proxy, server, "GET", "/v1/face-detection/") >= 1
    assert _through(proxy, server, "GET", "/api-assets/") >= 1  # the face, too


@pytest.mark.parametrize("trust_env", [True, False])
def test_proxies_from_the_environment_are_used_as_the_client_says(
    forward: tuple[LocalServer, FaultProxy],
    face_png: Path,
    monkeypatch: pytest.MonkeyPatch,
    trust_env: bool,
) -> None:
    server, proxy = forward
    proxy.clear()
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with (
        httpx.Client(trust_env=trust_env) as own,
        Client(token=server.token, base_url=server.url, httpx_client=own) as client,
    ):
        uploaded = client.v1.files.upload_file(face_png)
    assert uploaded.startswith("api-assets/")
    assert _through(proxy, server, "POST", "/v1/files/upload-urls") == (1 if trust_env else 0)


@pytest.mark.anyio
async def test_a_create_through_a_user_s_client_is_not_sent_again_after_the_server_got_it(
    forward: tuple[LocalServer, FaultProxy], face_png: Path
) -> None:
    """Its transports are the user's: a connection lost after the create was forwarded
    is not retried, however many retries are allowed."""
    server, proxy = forward
    proxy.clear()
    async with AsyncClient(token=server.token, base_url=server.url) as direct:
        path = await direct.v1.files.upload_file(face_png)
    before = task_count(server.data_dir)
    proxy.add(Rule("POST", f"{server.url}/v1/face-detection", "reset-after-forward"))
    async with (
        httpx.AsyncClient(proxy=proxy.url) as own,
        AsyncClient(
            token=server.token, base_url=server.url, httpx_client=own, max_retries=3
        ) as client,
    ):
        with pytest.raises(APIConnectionError):
            await client.v1.face_detection.create(assets={"target_file_path": path})
    assert _through(proxy, server, "POST", "/v1/face-detection") == 1
    assert task_count(server.data_dir) == before + 1


@pytest.mark.anyio
async def test_http2_enabled_and_a_transport_of_the_user_s_own_work_as_httpx_documents(
    forward: tuple[LocalServer, FaultProxy], face_png: Path, tmp_path: Path
) -> None:
    """HTTP/2 enabled (httpx speaks HTTP/1.1 to a plain-http server), and a transport
    with settings of its own (its own connection retries, a local address)."""
    server, _ = forward
    transport = httpx.AsyncHTTPTransport(retries=1, local_address="127.0.0.1")
    for own in (httpx.AsyncClient(http2=True), httpx.AsyncClient(transport=transport)):
        async with (
            own,
            AsyncClient(token=server.token, base_url=server.url, httpx_client=own) as client,
        ):
            res = await client.v1.face_detection.generate(
                assets={"target_file_path": face_png}, download_directory=tmp_path
            )
        assert res.status == "complete" and len(res.faces) == 1
