"""The SDK against injected faults between it and the real server.

Each test sets proxy rules, runs one SDK call, and checks three things: the outcome
(success after retries, or the right typed error), how many times each request reached
the proxy, and what the server stored (no duplicate task, no partial file).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from magic_hour import (
    APIConnectionError,
    APITimeoutError,
    AsyncClient,
    Client,
    InternalServerError,
    RateLimitError,
)
from magic_hour_server import LocalServer
from PIL import Image

from tests.faults._proxy import FaultProxy, Rule
from tests.faults.conftest import task_count

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

CREATE = "/v1/face-detection"
NO_WAIT = {"Retry-After": "0"}


def _client(
    proxy: FaultProxy,
    server: LocalServer,
    *,
    max_retries: int = 2,
    timeout: float = 30.0,
    patience: float = 120.0,
) -> Client:
    return Client(
        token=server.token,
        base_url=proxy.url,
        max_retries=max_retries,
        timeout=timeout,
        patience=patience,
    )


def _uploaded(proxy: FaultProxy, server: LocalServer, face_png: Path) -> str:
    with _client(proxy, server) as client:
        return client.v1.files.upload_file(face_png)


def test_get_is_retried_after_connection_resets(
    proxy: FaultProxy, server: LocalServer, face_png: Path
) -> None:
    path = _uploaded(proxy, server, face_png)
    with _client(proxy, server, max_retries=2) as client:
        created = client.v1.face_detection.create(assets={"target_file_path": path})
        proxy.add(Rule("GET", CREATE, "reset", times=2))
        task = client.v1.face_detection.get(id=created.id)
    assert task.id == created.id
    assert proxy.count("GET", CREATE) == 3
    assert proxy.count("GET", CREATE, "reset") == 2


def test_get_gives_up_with_a_connection_error(proxy: FaultProxy, server: LocalServer) -> None:
    proxy.add(Rule("GET", CREATE, "reset", times=10))
    with _client(proxy, server, max_retries=2) as client, pytest.raises(APIConnectionError):
        client.v1.face_detection.get(id="whatever")
    assert proxy.count("GET", CREATE) == 3


@pytest.mark.parametrize(("status", "error"), [(503, InternalServerError), (429, RateLimitError)])
def test_create_is_retried_on_statuses_that_mean_not_processed(
    proxy: FaultProxy,
    server: LocalServer,
    face_png: Path,
    status: int,
    error: type[Exception],
) -> None:
    path = _uploaded(proxy, server, face_png)
    before = task_count(server.data_dir)
    proxy.add(Rule("POST", CREATE, "status", times=2, status=status, headers=NO_WAIT))
    with _client(proxy, server, max_retries=2) as client:
        client.v1.face_detection.create(assets={"target_file_path": path})
        assert task_count(server.data_dir) == before + 1
        proxy.add(Rule("POST", CREATE, "status", times=3, status=status, headers=NO_WAIT))
        with pytest.raises(error) as raised:
            client.v1.face_detection.create(assets={"target_file_path": path})
    assert getattr(raised.value, "status_code", None) == status
    assert f"injected {status}" in str(raised.value)
    assert proxy.count("POST", CREATE) == 6
    assert task_count(server.data_dir) == before + 1


@pytest.mark.parametrize(
    "rule",
    [
        Rule("POST", CREATE, "reset-after-forward"),
        Rule("POST", CREATE, "delay", delay=1.5),
        Rule("POST", CREATE, "status", status=500),
    ],
    ids=["reset-after-forward", "slow", "500"],
)
def test_create_that_may_have_been_processed_is_not_repeated(
    proxy: FaultProxy, server: LocalServer, face_png: Path, rule: Rule
) -> None:
    path = _uploaded(proxy, server, face_png)
    before = task_count(server.data_dir)
    proxy.add(rule)
    expected = {"reset-after-forward": APIConnectionError, "delay": APITimeoutError}
    with (
        _client(proxy, server, max_retries=3, timeout=0.5) as client,
        pytest.raises(expected.get(rule.fault, InternalServerError)),
    ):
        client.v1.face_detection.create(assets={"target_file_path": path})
    assert proxy.count("POST", CREATE) == 1
    # The server processed the forwarded ones: exactly one task, never two.
    assert task_count(server.data_dir) == before + (0 if rule.fault == "status" else 1)


def test_slow_answers_are_retried_then_time_out(
    proxy: FaultProxy, server: LocalServer, face_png: Path
) -> None:
    path = _uploaded(proxy, server, face_png)
    with _client(proxy, server, max_retries=2, timeout=0.5) as client:
        created = client.v1.face_detection.create(assets={"target_file_path": path})
        proxy.add(Rule("GET", CREATE, "delay", times=1, delay=1.5))
        assert client.v1.face_detection.get(id=created.id).id == created.id
        proxy.add(Rule("GET", CREATE, "delay", times=3, delay=1.5))
        with pytest.raises(APITimeoutError):
            client.v1.face_detection.get(id=created.id)
    assert proxy.count("GET", CREATE, "delay") == 4


def test_upload_put_is_retried_after_a_reset(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    proxy.add(Rule("PUT", "/api-assets/", "reset", times=1))
    with _client(proxy, server, max_retries=2) as client:
        res = client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=tmp_path
        )
    assert res.status == "complete"
    assert proxy.count("PUT", "/api-assets/") == 2
    assert len(res.downloaded_paths) == 1


def _only_complete_pngs(directory: Path) -> list[Path]:
    """The files saved under `directory` (in its task folders), each a whole PNG."""
    entries = sorted(directory.rglob("*")) if directory.exists() else []
    for entry in entries:
        assert not entry.name.startswith("."), f"a temporary file was left: {entry.name}"
    files = [entry for entry in entries if entry.is_file()]
    for file in files:
        with Image.open(file) as image:
            image.load()  # a truncated PNG fails here
    return files


def test_a_cut_download_is_retried_and_saved_whole(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    proxy.add(Rule("GET", "/api-assets/", "cut", times=1))
    with _client(proxy, server, max_retries=2) as client:
        res = client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=tmp_path
        )
    assert proxy.count("GET", "/api-assets/", "cut") == 1
    assert proxy.count("GET", "/api-assets/") == 2
    (saved,) = _only_complete_pngs(tmp_path)
    assert res.downloaded_paths == [str(saved)]
    direct = httpx.get(res.faces[0].url.replace(proxy.url, server.url), timeout=10)
    assert saved.read_bytes() == direct.content


def test_a_download_cut_every_time_leaves_no_file(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    proxy.add(Rule("GET", "/api-assets/", "cut", times=10))
    out = tmp_path / "out"
    with (
        _client(proxy, server, max_retries=1, patience=0) as client,
        pytest.raises(APIConnectionError) as caught,
    ):
        client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=out
        )
    assert proxy.count("GET", "/api-assets/", "cut") == 2
    assert _only_complete_pngs(out) == []
    assert caught.value.task_id  # the task exists: the caller can read it and retry


def test_a_download_cut_many_times_is_waited_out_within_the_patience(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    proxy.add(Rule("GET", "/api-assets/", "cut", times=6))
    out = tmp_path / "out"
    with _client(proxy, server, max_retries=1) as client:
        res = client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=out
        )
    assert proxy.count("GET", "/api-assets/", "cut") == 6
    assert [Path(p).name for p in res.downloaded_paths] == ["0-0.png"]
    assert _only_complete_pngs(out) == [out / res.id / "0-0.png"]


@pytest.mark.anyio
async def test_async_client_retries_and_never_duplicates(
    proxy: FaultProxy, server: LocalServer, face_png: Path, tmp_path: Path
) -> None:
    before = task_count(server.data_dir)
    proxy.add(Rule("POST", CREATE, "status", times=1, status=503, headers=NO_WAIT))
    proxy.add(Rule("GET", CREATE, "reset", times=1))
    proxy.add(Rule("GET", "/api-assets/", "cut", times=1))
    async with AsyncClient(token=server.token, base_url=proxy.url, max_retries=2) as client:
        res = await client.v1.face_detection.generate(
            assets={"target_file_path": face_png}, download_directory=tmp_path
        )
    assert res.status == "complete"
    assert task_count(server.data_dir) == before + 1
    assert proxy.count("POST", CREATE) == 2
    (saved,) = _only_complete_pngs(tmp_path)
    assert res.downloaded_paths == [str(saved)]
