"""The SDK reads at most what it can use, for at most as long as `timeout` says, from a
broken or hostile server: an endless or compressed body is cut at its size limit with
memory flat, a face past its limit leaves no file, and a trickled body ends at the
request's deadline. Both clients."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour import APITimeoutError, ResponseTooLargeError

from tests.unit.conftest import STORAGE, FakeApi, Harness

GET = "/v1/face-detection/task-1"
MIB = 1024 * 1024


class Stream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """`count` chunks of `chunk`, `pause` seconds apart."""

    def __init__(self, chunk: bytes, count: int, pause: float = 0.0) -> None:
        self.chunk, self.count, self.pause = chunk, count, pause

    def __iter__(self) -> Iterator[bytes]:
        for _ in range(self.count):
            time.sleep(self.pause)
            yield self.chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            await asyncio.sleep(self.pause)
            yield self.chunk


def _get(v1: Any) -> Any:
    return v1.face_detection.get(id="task-1")


def _generate(out: Path) -> Callable[[Any], Any]:
    return lambda v1: v1.face_detection.generate(
        assets={"target_file_path": "https://cdn.test/in.png"}, download_directory=out
    )


async def _peak(sdk: Harness, call: Callable[[Any], Any]) -> tuple[BaseException, int]:
    """The exception `call` raised, and the peak of memory allocated meanwhile."""
    tracemalloc.start()
    try:
        await sdk(call)
    except BaseException as caught:
        error: BaseException = caught
    else:
        raise AssertionError("no error")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak


@pytest.mark.anyio
async def test_an_endless_answer_is_cut_at_its_limit_with_memory_flat(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    sdk = make_sdk(max_response_bytes=MIB)
    endless = httpx.Response(200, stream=Stream(b" " * 65536, 2000))  # 125 MiB
    api.queue("GET", GET, endless)
    error, peak = await _peak(sdk, _get)
    assert isinstance(error, ResponseTooLargeError)
    assert "larger than the 1,048,576 bytes" in str(error) and "max_response_bytes" in str(error)
    assert peak < 8 * MIB


@pytest.mark.anyio
async def test_compression_cannot_smuggle_more(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    """A 64 KiB gzip body that decodes to 64 MiB is judged by what it decodes to."""
    sdk = make_sdk(max_response_bytes=MIB)
    bomb = gzip.compress(b"\0" * (64 * MIB))
    assert len(bomb) < 100_000
    api.queue("GET", GET, httpx.Response(200, headers={"Content-Encoding": "gzip"}, content=bomb))
    error, peak = await _peak(sdk, _get)
    assert isinstance(error, ResponseTooLargeError)
    assert peak < 8 * MIB


@pytest.mark.anyio
async def test_a_face_past_its_limit_leaves_no_file(
    make_sdk: Callable[..., Harness], api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk(max_face_bytes=MIB, patience=0)
    api.images[f"{STORAGE}/api-assets/task-1/0-1.png"] = httpx.Response(
        200, stream=Stream(b"x" * 65536, 200)
    )
    out = tmp_path / "out"
    with pytest.raises(ResponseTooLargeError, match="max_face_bytes"):
        await sdk(_generate(out))
    saved = [p.name for p in out.rglob("*") if p.is_file()]
    assert "0-1.png" not in saved and not [n for n in saved if n.startswith(".")]


@pytest.mark.anyio
async def test_a_trickled_answer_ends_at_the_request_s_deadline(
    make_sdk: Callable[..., Harness], api: FakeApi
) -> None:
    """One byte every 0.1 s never trips a per-read timeout; `timeout` bounds the whole."""
    sdk = make_sdk(timeout=1.0, max_retries=0)
    api.queue("GET", GET, httpx.Response(200, stream=Stream(b"{", 300, pause=0.1)))
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await sdk(_get)
    assert time.monotonic() - started < 3


@pytest.mark.anyio
async def test_the_limits_are_checked_when_the_client_is_made(kind: str) -> None:
    from magic_hour import AsyncClient, Client

    cls = Client if kind == "sync" else AsyncClient
    with pytest.raises(ValueError, match="at least 1"):
        cls(token="t", max_face_bytes=0)
