"""Signed storage URLs: tampering, expiry, the upload size limit; nothing half-written."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import numpy as np
import pytest
from magic_hour_server import LocalServer
from magic_hour_server.storage._storage import (
    STALE_SECONDS,
    WRITE_BYTES,
    Files,
    NotRecorded,
    UploadTooLarge,
)

from tests.server.conftest import detect, upload
from tests.server.images import astronaut, encode

pytestmark = pytest.mark.timeout(60)


def _upload_url(client: httpx.Client) -> tuple[str, str]:
    reply = client.post(
        "/v1/files/upload-urls", json={"items": [{"type": "image", "extension": "png"}]}
    )
    item = reply.json()["items"][0]
    return item["upload_url"], item["file_path"]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return parts._replace(query=urlencode(query)).geturl()


def _stored_files(data_dir: Path, file_path: str) -> list[Path]:
    item_id = file_path.split("/")[1]
    return [p for p in (data_dir / "files" / item_id).glob("*")] + list(
        (data_dir / "tmp").glob("*")
    )


def _not_uploaded(client: httpx.Client, file_path: str) -> bool:
    reply = client.post("/v1/face-detection", json={"assets": {"target_file_path": file_path}})
    return reply.status_code == 422 and "not been uploaded" in reply.json()["message"]


def _tampered(url: str) -> list[str]:
    signature = parse_qs(urlsplit(url).query)["signature"][0]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    expires = int(parse_qs(urlsplit(url).query)["expires"][0])
    other_path = url.replace("/input.png", "/other.png")
    return [
        _with_query(url, signature=flipped),
        _with_query(url, expires=str(expires + 3600)),
        _with_query(url, signature=""),
        url.split("?")[0],
        other_path,
    ]


def test_tampered_upload_urls_get_403_and_write_nothing(
    api: httpx.Client, server: LocalServer
) -> None:
    url, file_path = _upload_url(api)
    for bad in _tampered(url):
        reply = httpx.put(bad, content=encode(astronaut()))
        assert reply.status_code == 403, bad
        assert "signature" in reply.json()["message"].lower()
    assert _stored_files(server.data_dir, file_path) == []
    assert _not_uploaded(api, file_path)


def test_a_signature_from_another_server_gets_403(api: httpx.Client, server: LocalServer) -> None:
    with (
        LocalServer(workers=0) as other,
        httpx.Client(base_url=other.url, headers={"Authorization": f"Bearer {other.token}"}) as c,
    ):
        foreign, _ = _upload_url(c)
    url, file_path = _upload_url(api)
    # The other server's valid signature and expiry, on this server's upload path.
    mine = f"{url.split('?')[0]}?{urlsplit(foreign).query}"
    assert httpx.put(mine, content=b"data").status_code == 403
    assert _stored_files(server.data_dir, file_path) == []


def test_an_upload_url_does_not_read_and_a_face_url_does_not_write(
    api: httpx.Client, server: LocalServer
) -> None:
    url, _ = _upload_url(api)
    assert httpx.get(url).status_code == 403
    face = detect(api, encode(astronaut()))["faces"][0]["url"]
    assert httpx.put(face, content=b"overwrite").status_code == 403
    assert httpx.get(face).content.startswith(b"\x89PNG")


def test_tampered_face_urls_get_403(api: httpx.Client) -> None:
    face = detect(api, encode(astronaut()))["faces"][0]["url"]
    for bad in _tampered(face.replace("0-0.png", "input.png"))[:2]:
        assert httpx.get(bad.replace("input.png", "0-0.png")).status_code == 403


@pytest.fixture(scope="module")
def strict_server() -> Iterator[LocalServer]:
    with LocalServer(max_upload_bytes=2000, upload_url_ttl=-1, face_url_ttl=-1) as running:
        yield running


def test_expired_urls_get_403(strict_server: LocalServer) -> None:
    with httpx.Client(
        base_url=strict_server.url, headers={"Authorization": f"Bearer {strict_server.token}"}
    ) as client:
        url, file_path = _upload_url(client)
        reply = httpx.put(url, content=b"tiny")
        assert reply.status_code == 403
        assert reply.json() == {"message": "Signature expired"}
        assert _stored_files(strict_server.data_dir, file_path) == []


def test_uploads_past_the_limit_get_413_and_keep_nothing(
    api: httpx.Client, server: LocalServer
) -> None:
    with (
        LocalServer(max_upload_bytes=2000, workers=0) as small,
        httpx.Client(base_url=small.url, headers={"Authorization": f"Bearer {small.token}"}) as c,
    ):
        url, file_path = _upload_url(c)
        declared = httpx.put(url, content=b"x" * 2001)
        assert declared.status_code == 413
        assert "limit" in declared.json()["message"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
            for _ in range(10):
                yield b"y" * 1000

        streamed = httpx.put(url, content=chunks())
        assert streamed.status_code == 413
        assert _stored_files(small.data_dir, file_path) == []
        assert _not_uploaded(c, file_path)
        assert httpx.put(url, content=b"z" * 2000).status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("POST", "/api-assets/abc/0-0.png", 405, "Method Not Allowed"),
        ("DELETE", "/api-assets/abc/0-0.png", 405, "Method Not Allowed"),
        ("GET", "/api-assets/abc/def/0-0.png", 404, "Not Found"),
        ("GET", "/api-assets/abc", 404, "Not Found"),
        ("GET", "/api-assets/../0-0.png", 404, "Not Found"),
    ],
)
def test_storage_urls_outside_their_shape_get_a_json_error(
    server: LocalServer, method: str, path: str, status: int, message: str
) -> None:
    # Storage URLs skip the API's middleware; their errors still read like the API's.
    reply = httpx.request(method, f"{server.url}{path}", timeout=30)
    assert reply.status_code == status
    assert reply.json() == {"message": message}


@pytest.mark.anyio
async def test_an_upload_in_many_small_chunks_is_stored_whole_or_not_at_all(
    tmp_path: Path,
) -> None:
    files = Files(tmp_path)
    data = np.random.default_rng(5).bytes(WRITE_BYTES * 3 + 12345)  # several batches

    async def chunks(size: int = 65536) -> AsyncIterator[bytes]:
        for start in range(0, len(data), size):
            yield data[start : start + size]

    assert await files.receive("abc", "a.jpg", chunks(), limit=len(data)) == len(data)
    assert files.path("abc", "a.jpg").read_bytes() == data
    with pytest.raises(UploadTooLarge):
        await files.receive("abc", "b.jpg", chunks(), limit=len(data) - 1)
    assert not files.path("abc", "b.jpg").exists()
    assert list(files.tmp.iterdir()) == []


@pytest.mark.anyio
async def test_an_upload_is_recorded_in_the_hop_that_stores_it_and_kept_if_that_fails(
    tmp_path: Path,
) -> None:
    files = Files(tmp_path)
    data = b"\x89PNG" + bytes(range(256)) * 40

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 1000):
            yield data[start : start + 1000]

    recorded: list[tuple[int, bool]] = []

    def record(size: int) -> None:
        recorded.append((size, files.path("abc", "a.png").is_file()))

    assert await files.receive("abc", "a.png", chunks(), limit=len(data), then=record) == len(data)
    assert recorded == [(len(data), True)]  # once, after the file was in place

    def fail(size: int) -> None:
        raise OSError("the database went away")

    with pytest.raises(NotRecorded) as raised:
        await files.receive("abc", "b.png", chunks(), limit=len(data), then=fail)
    assert raised.value.size == len(data)
    assert isinstance(raised.value.__cause__, OSError)
    assert files.path("abc", "b.png").read_bytes() == data  # kept, to be recorded again
    assert list(files.tmp.iterdir()) == []


@pytest.mark.parametrize("size", [1000, 300_000, 5_000_000])
def test_a_stored_file_is_served_whole_whatever_way_it_is_read(
    api: httpx.Client, server: LocalServer, size: int
) -> None:
    # Small files are read by the event loop, larger ones in a thread, the largest
    # streamed: the bytes and headers are the same.
    data = np.random.default_rng(size).bytes(size)
    file_path = upload(api, data, "bin")
    _, item_id, name = file_path.split("/")
    reply = httpx.get(server.state.signed_url("GET", item_id, name), timeout=30)
    assert reply.status_code == 200
    assert reply.content == data
    assert reply.headers["content-length"] == str(size)
    assert reply.headers["content-type"] == "application/octet-stream"


def test_a_process_starting_in_a_shared_directory_leaves_the_others_writes(
    tmp_path: Path,
) -> None:
    # A cluster's processes share the directory: a worker starting again after a crash
    # must not delete the crop another worker is writing now, only old leftovers. A
    # process alone on its directory removes every leftover at once.
    Files(tmp_path)
    writing, leftover = tmp_path / "tmp" / "tmpwriting.png", tmp_path / "tmp" / "tmpold"
    writing.write_bytes(b"in progress")
    leftover.write_bytes(b"cut short")
    old = time.time() - STALE_SECONDS - 60
    os.utime(leftover, (old, old))

    Files(tmp_path, shared=True)
    assert writing.exists() and not leftover.exists()
    Files(tmp_path)
    assert not writing.exists()


def test_an_upload_the_client_abandons_is_a_4xx_line_not_a_traceback(
    server: LocalServer, api: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    import logging
    import socket

    url, file_path = _upload_url(api)
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}"
    caplog.set_level(logging.INFO)
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.sendall(
            f"PUT {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Content-Length: 100000\r\n\r\n".encode()
            + b"x" * 1000
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not [
        r
        for r in caplog.records
        if r.name == "magic_hour_server.access" and "PUT" in r.getMessage()
    ]:
        time.sleep(0.05)
    lines = [r for r in caplog.records if r.name == "magic_hour_server.access"]
    assert any("PUT" in r.getMessage() and " 400 " in f" {r.getMessage()} " for r in lines), [
        r.getMessage() for r in lines
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert _not_uploaded(api, file_path)
    assert _stored_files(server.data_dir, file_path) == []
