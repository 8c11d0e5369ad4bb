"""A fake Magic Hour API on httpx.MockTransport, and a harness that drives either client."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour import AsyncClient, Client

from tests.document import example

TOKEN = "sk-test-secret-token-123"
BASE_URL = "https://api.test"
STORAGE = "https://storage.test"
IMAGE_SIZE = 2100


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends `head` and then fails, as a connection dropped midway would."""

    def __init__(self, head: bytes) -> None:
        self.head = head

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        raise httpx.ReadError("connection dropped")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.head
        raise httpx.ReadError("connection dropped")


def task_body(task_id: str, status: str, faces: list[dict[str, Any]], **extra: Any) -> Any:
    """A task as the API sends it: the document's example, with these values."""
    body = example("FaceDetection", id=task_id, credits_charged=3, status=status, faces=faces)
    body.pop("error_message", None)  # only on failed tasks, when a test says so
    return {**body, **extra}


def face(name: str, task_id: str = "task-1") -> dict[str, Any]:
    path = f"api-assets/{task_id}/{name}"
    return example("DetectedFace", path=path, url=f"{STORAGE}/{path}")


class StreamingMockTransport(httpx.MockTransport):
    """MockTransport reads every request body whole before its handler sees it; this one
    consumes upload bodies chunk by chunk (with `async for` on the async client) and
    keeps only their size, so a test can see that uploads stream."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            assert isinstance(request.stream, Iterable)
            request.extensions["body_size"] = sum(len(chunk) for chunk in request.stream)
        else:
            request.read()
        return self.handler(request)  # type: ignore[return-value]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            assert isinstance(request.stream, AsyncIterable)
            size = 0
            async for chunk in request.stream:
                size += len(chunk)
            request.extensions["body_size"] = size
        else:
            await request.aread()
        return self.handler(request)  # type: ignore[return-value]


class FakeApi:
    """Answers like the API. `queue(method, path, *answers)` makes the next requests to
    that route get the given responses (or raise the given exceptions) first."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.task_id = "task-1"  # what creates answer and reads return
        self.statuses = ["queued", "rendering", "complete"]
        self.faces = [face("0-0.png"), face("0-1.png")]
        self.task_extra: dict[str, Any] = {}
        self.images: dict[str, httpx.Response] = {}
        self.uploaded: list[int] = []
        self.upload_streams: list[object] = []
        self.polls = 0
        self._queued: dict[tuple[str, str], list[httpx.Response | Exception]] = {}

    def queue(self, method: str, path: str, *answers: httpx.Response | Exception) -> None:
        self._queued.setdefault((method, path), []).extend(answers)

    def sent(self, method: str, path_start: str = "") -> list[httpx.Request]:
        return [
            r for r in self.requests if r.method == method and r.url.path.startswith(path_start)
        ]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queued = self._queued.get((request.method, request.url.path))
        if queued:
            answer = queued.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        path = request.url.path
        if request.method == "POST" and path == "/v1/files/upload-urls":
            items = json.loads(request.content)["items"]
            return httpx.Response(200, json={"items": [self._upload_item(i) for i in items]})
        if request.method == "PUT" and request.url.host == "storage.test":
            self.upload_streams.append(request.stream)
            self.uploaded.append(request.extensions["body_size"])
            return httpx.Response(200)
        if request.method == "POST" and path == "/v1/face-detection":
            return httpx.Response(
                200, json=example("FaceDetectionCreated", id=self.task_id, credits_charged=3)
            )
        if request.method == "GET" and path.startswith("/v1/face-detection/"):
            status = self.statuses[min(self.polls, len(self.statuses) - 1)]
            self.polls += 1
            faces = self.faces if status in ("rendering", "complete") else []
            return httpx.Response(
                200, json=task_body(self.task_id, status, faces, **self.task_extra)
            )
        if request.method == "GET" and request.url.host == "storage.test":
            url = str(request.url)
            if url in self.images:
                return self.images[url]
            return httpx.Response(200, content=b"PNG:" + path.encode())
        return httpx.Response(404, json={"message": "Not Found"})

    @staticmethod
    def _upload_item(item: dict[str, str]) -> dict[str, Any]:
        name = f"1234.{item['extension']}"
        return example(
            "UploadUrl",
            upload_url=f"{STORAGE}/upload/{name}?signature=abc",
            expires_at="2030-01-01T00:00:00Z",
            file_path=f"api-assets/id/{name}",
        )


class FakeTime:
    """A clock that moves only when something sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


class ForeignTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The fake API behind a transport that is not httpx's own (as httpx-aiohttp's is)."""

    def __init__(self, inner: StreamingMockTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._inner.handle_async_request(request)


class Harness:
    """One client (sync or async) on the fake API, with fake time and fixed jitter;
    `foreign`: through a transport that is not httpx's own."""

    def __init__(
        self, kind: str, api: FakeApi, *, foreign: bool = False, **client_kwargs: Any
    ) -> None:
        self.kind, self.api, self.time = kind, api, FakeTime()
        mock = StreamingMockTransport(api.handler)
        transport: Any = ForeignTransport(mock) if foreign else mock
        client_kwargs.setdefault("base_url", BASE_URL)
        client_kwargs.setdefault("token", TOKEN)
        self.client: Client | AsyncClient
        if kind == "sync":
            self.client = Client(transport=transport, **client_kwargs)
            self.client._driver.sleep = self.time.sleep
        else:
            self.client = AsyncClient(transport=transport, **client_kwargs)
            self.client._driver.sleep = self.time.async_sleep
        self.client._context.clock = self.time.monotonic
        self.client._context.random = lambda: 0.5

    async def __call__(self, call: Callable[[Any], Any]) -> Any:
        """Run `call(client.v1)`, awaiting it for the async client."""
        result = call(self.client.v1)
        if inspect.isawaitable(result):
            result = await result
        return result


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture(params=["sync", "async"])
def kind(request: pytest.FixtureRequest) -> str:
    """Each test that uses a client runs once with `Client` and once with `AsyncClient`."""
    return str(request.param)


@pytest.fixture
def sdk(kind: str, api: FakeApi) -> Harness:
    return Harness(kind, api)


@pytest.fixture
def make_sdk(kind: str, api: FakeApi) -> Callable[..., Harness]:
    """A harness with client options, of the test's kind."""

    def make(*, foreign: bool = False, **client_kwargs: Any) -> Harness:
        return Harness(kind, api, foreign=foreign, **client_kwargs)

    return make


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG fake image bytes" * (IMAGE_SIZE // 21))
    return path
