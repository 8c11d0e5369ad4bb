"""The generate workflow end to end on the fake API: upload, create, poll, download."""

from __future__ import annotations

import json
from collections.abc import Callable
from os import getenv
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour import (
    DownloadFinished,
    DownloadProgress,
    FaceDetection,
    FaceDetectionResult,
    TaskCreated,
    TaskFailedError,
    TaskProgress,
    TaskTimeoutError,
    UploadProgress,
)

from .conftest import IMAGE_SIZE, FakeApi, Harness, StreamingMockTransport


def body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def files_in(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.mark.anyio
async def test_the_seed_example(sdk: Harness, api: FakeApi, image: Path, tmp_path: Path) -> None:
    assets = {"target_file_path": str(image)}
    out = tmp_path / "outputs"
    res = await sdk(
        lambda v1: v1.face_detection.generate(
            assets=assets,
            confidence_score=0.5,
            wait_for_completion=True,
            download_outputs=True,
            download_directory=str(out),
        )
    )
    assert assets == {"target_file_path": str(image)}  # not mutated
    assert isinstance(res, FaceDetectionResult) and isinstance(res, FaceDetection)
    assert (res.id, res.status.value, len(res.faces)) == ("task-1", "complete", 2)
    assert res.faces[0].url.endswith("/0-0.png")
    assert [Path(p).name for p in res.downloaded_paths] == ["0-0.png", "0-1.png"]
    assert files_in(out / "task-1") == ["0-0.png", "0-1.png"]
    kinds = [(r.method, r.url.host, r.url.path) for r in api.requests]
    assert kinds[:3] == [
        ("POST", "api.test", "/v1/files/upload-urls"),
        ("PUT", "storage.test", "/upload/1234.png"),
        ("POST", "api.test", "/v1/face-detection"),
    ]
    assert body(api.requests[2]) == {
        "assets": {"target_file_path": "api-assets/id/1234.png"},
        "confidence_score": 0.5,
    }
    assert api.uploaded == [IMAGE_SIZE]
    assert [k[0] for k in kinds[3:6]] == ["GET"] * 3  # queued, rendering, complete
    assert res.to_dict()["status"] == "complete"

    res = await sdk(lambda v1: v1.face_detection.get(id="uuid-example"))
    assert api.requests[-1].url.path == "/v1/face-detection/uuid-example"
    res = await sdk(
        lambda v1: v1.face_detection.create(
            assets={"target_file_path": "api-assets/id/1234.png"}, confidence_score=0.5
        )
    )
    assert res.id == "task-1"


def test_the_seed_example_as_written(
    api: FakeApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's code, with the client's HTTP swapped for the fake API."""
    import magic_hour

    monkeypatch.setenv("API_TOKEN", "seed-token")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "1234.png").write_bytes(b"png")
    real_client = httpx.Client
    monkeypatch.delenv("MAGIC_HOUR_BASE_URL", raising=False)
    monkeypatch.setattr(
        magic_hour.Client,
        "_new_http",
        lambda self, transport: real_client(transport=StreamingMockTransport(api.handler)),
    )
    from magic_hour import Client

    client = Client(token=getenv("API_TOKEN"))
    client._driver.sleep = lambda seconds: None
    res = client.v1.face_detection.generate(
        assets={"target_file_path": "1234.png"},
        confidence_score=0.5,
        wait_for_completion=True,
        download_outputs=True,
        download_directory="outputs",
    )
    assert res.downloaded_paths == ["outputs/task-1/0-0.png", "outputs/task-1/0-1.png"]
    assert api.requests[0].headers["authorization"] == "Bearer seed-token"
    assert api.requests[0].url.host == "api.magichour.ai"


@pytest.mark.anyio
async def test_a_url_input_is_not_uploaded(sdk: Harness, api: FakeApi, tmp_path: Path) -> None:
    res = await sdk(
        lambda v1: v1.face_detection.generate(
            assets={"target_file_path": "https://cdn.test/p.png"},
            confidence_score=0.35,
            download_outputs=False,
        )
    )
    assert res.downloaded_paths == []
    create = api.sent("POST")[0]
    assert body(create) == {
        "assets": {"target_file_path": "https://cdn.test/p.png"},
        "confidence_score": 0.35,
    }
    assert api.sent("PUT") == [] and api.sent("GET", "/api-assets") == []


@pytest.mark.anyio
async def test_without_waiting_it_returns_right_after_create(sdk: Harness, api: FakeApi) -> None:
    res = await sdk(
        lambda v1: v1.face_detection.generate(
            assets={"target_file_path": "api-assets/id/1.png"}, wait_for_completion=False
        )
    )
    assert [r.method for r in api.requests] == ["POST"]
    assert (res.id, res.credits_charged, res.status.value, res.faces) == ("task-1", 3, "queued", [])
    assert res.downloaded_paths == []


def generate_url(**kwargs: Any) -> Callable[[Any], Any]:
    kwargs.setdefault("download_outputs", False)
    return lambda v1: v1.face_detection.generate(
        assets={"target_file_path": "https://cdn.test/p.png"}, **kwargs
    )


@pytest.mark.anyio
async def test_polling_starts_fast_and_backs_off(sdk: Harness, api: FakeApi) -> None:
    api.statuses = ["queued"] * 60 + ["complete"]
    await sdk(generate_url())
    sleeps = sdk.time.sleeps
    assert len(sleeps) == 60
    # 25 ms at first, then a tenth of the time waited so far, each times the jitter
    # factor (fixed at 0.9 in these tests).
    assert sleeps[0] == pytest.approx(0.025 * 0.9)
    waited = 0.0
    for sleep in sleeps:
        assert sleep == pytest.approx(max(0.025, 0.1 * waited) * 0.9)
        waited += sleep
    assert sleeps == sorted(sleeps) and sleeps[-1] > 4 * sleeps[0]


@pytest.mark.anyio
async def test_a_fixed_poll_interval_from_the_environment(
    make_sdk: Callable[..., Harness], api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAGIC_HOUR_POLL_INTERVAL", "0.3")
    sdk = make_sdk()
    api.statuses = ["queued"] * 4 + ["complete"]
    await sdk(generate_url())
    assert sdk.time.sleeps == [0.3] * 4


@pytest.mark.anyio
async def test_a_task_that_never_finishes_times_out_with_its_last_status(
    sdk: Harness, api: FakeApi
) -> None:
    api.statuses = ["rendering"]
    api.task_extra = {"progress": 0.4}
    with pytest.raises(TaskTimeoutError) as caught:
        await sdk(generate_url(poll_timeout=10.0))
    assert caught.value.status == "rendering"
    assert caught.value.task.progress == 0.4
    assert sum(sdk.time.sleeps) == pytest.approx(10.0)  # the last wait is cut to the deadline
    assert api.sent("GET", "/api-assets") == []


@pytest.mark.anyio
async def test_a_failed_task_raises_with_its_reason(sdk: Harness, api: FakeApi) -> None:
    api.statuses = ["rendering", "error"]
    api.task_extra = {"error_message": "the file is not an image"}
    with pytest.raises(TaskFailedError, match="the file is not an image") as caught:
        await sdk(generate_url(download_outputs=True))
    assert caught.value.task.status.value == "error"
    assert api.sent("GET", "/api-assets") == []


@pytest.mark.anyio
async def test_progress_events(sdk: Harness, api: FakeApi, image: Path, tmp_path: Path) -> None:
    api.task_extra = {"progress": 0.5}
    events: list[Any] = []
    await sdk(
        lambda v1: v1.face_detection.generate(
            assets={"target_file_path": image},
            download_directory=tmp_path / "o",
            on_progress=events.append,
        )
    )
    uploads = [e for e in events if isinstance(e, UploadProgress)]
    assert uploads[0].bytes_sent == 0 and uploads[-1].bytes_sent == IMAGE_SIZE
    assert all(u.total_bytes == IMAGE_SIZE for u in uploads)
    assert TaskCreated("task-1", 3) in events
    polls = [e for e in events if isinstance(e, TaskProgress)]
    assert [(p.status, p.faces, p.progress) for p in polls] == [
        ("queued", 0, 0.5),
        ("rendering", 2, 0.5),
        ("complete", 2, 0.5),
    ]
    downloads = [e for e in events if isinstance(e, DownloadProgress)]
    assert {d.url for d in downloads} == {
        f.url for f in (await sdk(lambda v1: v1.face_detection.get(id="task-1"))).faces
    }
    finished = [e for e in events if isinstance(e, DownloadFinished)]
    assert sorted(Path(f.path).name for f in finished) == ["0-0.png", "0-1.png"]
    order = [type(e).__name__ for e in events]
    assert order.index("TaskCreated") > order.index("UploadProgress")
    assert order.index("DownloadFinished") > order.index("TaskCreated")
