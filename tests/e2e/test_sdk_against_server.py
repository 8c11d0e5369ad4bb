"""The SDK against the real local server: loopback HTTP, SQLite on disk, the ONNX model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import magic_hour
import numpy as np
import pytest
from magic_hour import AsyncClient, Client, FaceDetectionResult
from magic_hour_server import LocalServer
from magic_hour_server.detection._detector import default_detector
from PIL import Image

from tests.server.images import astronaut, encode, iou, three_faces

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

OTHER = "another-users-token"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(tokens=["sdk-e2e-token", OTHER]) as running:
        yield running


@pytest.fixture
def scene_file(tmp_path: Path) -> Path:
    path = tmp_path / "three faces.png"
    path.write_bytes(encode(three_faces().pixels))
    return path


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def check_three_faces(res: FaceDetectionResult, out: Path) -> None:
    """Three faces, left to right, each saved as a PNG that shows a face where it should be."""
    expected = three_faces().faces
    assert res.status == "complete"
    assert len(res.faces) == 3
    assert [face.path.rsplit("/", 1)[1] for face in res.faces] == ["0-0.png", "0-1.png", "0-2.png"]
    assert len(res.downloaded_paths) == 3
    lefts = []
    for face, saved, known in zip(res.faces, res.downloaded_paths, expected, strict=True):
        box = face.box
        assert isinstance(box, magic_hour.BoundingBox)
        found = (box.x, box.y, box.x + box.width, box.y + box.height)
        assert iou(found, known) > 0.6, (found, known)
        lefts.append(box.x)
        path = Path(saved)
        assert path.parent == out / res.id
        with Image.open(path) as crop:
            assert crop.format == "PNG"
            pixels = np.asarray(crop.convert("RGB"))
        # The crop shows a face: the detector finds one filling most of it.
        (best, *_) = sorted(default_detector().detect(pixels, 0.5), key=lambda d: -d.score)
        assert (best.x2 - best.x1) > 0.4 * pixels.shape[1]
    assert lefts == sorted(lefts)
    assert not [p for p in (out / res.id).iterdir() if p.name.startswith(".")]  # no temp files


def test_the_seed_example_runs_as_written(
    server: LocalServer, scene_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("API_TOKEN", server.token)
    monkeypatch.setenv("MAGIC_HOUR_BASE_URL", server.url)
    getenv = os.getenv

    client = Client(token=getenv("API_TOKEN"))
    res: Any  # the seed reuses one name for three result types
    res = client.v1.face_detection.generate(
        assets={"target_file_path": str(scene_file)},
        confidence_score=0.5,
        wait_for_completion=True,
        download_outputs=True,
        download_directory="outputs",
    )
    check_three_faces(res, Path("outputs"))
    res = client.v1.face_detection.get(id=res.id)
    assert res.status == "complete" and len(res.faces) == 3
    res = client.v1.face_detection.create(
        assets={"target_file_path": res.faces[0].path}, confidence_score=0.5
    )
    assert res.id and res.credits_charged == 0
    client.close()


@pytest.mark.anyio
async def test_async_client_generates_the_same(
    server: LocalServer, scene_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "async-out"
    events: list[Any] = []
    async with AsyncClient(token=server.token, base_url=server.url) as client:
        res = await client.v1.face_detection.generate(
            assets={"target_file_path": scene_file},
            confidence_score=0.5,
            download_directory=out,
            on_progress=events.append,
        )
        check_three_faces(res, out)
        again = await client.v1.face_detection.get(id=res.id)
        assert [f.path for f in again.faces] == [f.path for f in res.faces]
    kinds = {type(event).__name__ for event in events}
    assert {"UploadProgress", "TaskCreated", "TaskProgress", "DownloadFinished"} <= kinds


@pytest.mark.anyio
async def test_many_concurrent_generates_all_complete(server: LocalServer, tmp_path: Path) -> None:
    import asyncio

    image = tmp_path / "astronaut.jpg"
    image.write_bytes(encode(astronaut(), "JPEG", quality=90))
    async with AsyncClient(token=server.token, base_url=server.url) as client:
        results = await asyncio.gather(
            *[
                client.v1.face_detection.generate(
                    assets={"target_file_path": image}, download_directory=tmp_path / "out"
                )
                for _ in range(6)
            ]
        )
    assert [len(r.faces) for r in results] == [1] * 6
    assert len({r.id for r in results}) == 6
    # One folder per task: six tasks' 0-0.png side by side, each its own face.
    saved = sorted((tmp_path / "out").glob("*/0-0.png"))
    assert sorted(p.parent.name for p in saved) == sorted(r.id for r in results)
    assert sorted(str(p) for r in results for p in r.downloaded_paths) == [str(p) for p in saved]


def test_upload_then_create_then_get(server: LocalServer, tmp_path: Path) -> None:
    image = tmp_path / "face.webp"
    image.write_bytes(encode(astronaut(), "WEBP"))
    with Client(token=server.token, base_url=server.url) as client:
        file_path = client.v1.files.upload_file(image)
        assert file_path.startswith("api-assets/") and file_path.endswith(".webp")
        created = client.v1.face_detection.create(
            assets={"target_file_path": file_path}, confidence_score=0.35
        )
        res = client.v1.face_detection.generate(
            assets={"target_file_path": file_path}, download_outputs=False
        )
        assert res.downloaded_paths == [] and len(res.faces) == 1
        assert client.v1.face_detection.get(id=created.id).id == created.id


def test_errors_are_typed_and_name_the_problem(server: LocalServer, tmp_path: Path) -> None:
    with (
        Client(token="wrong-token", base_url=server.url, max_retries=0) as client,
        pytest.raises(magic_hour.AuthenticationError) as unauthorized,
    ):
        client.v1.face_detection.get(id="anything")
    assert unauthorized.value.status_code == 401
    assert "Unauthorized" in str(unauthorized.value)

    with Client(token=server.token, base_url=server.url) as client:
        with pytest.raises(magic_hour.NotFoundError):
            client.v1.face_detection.get(id="no-such-task")
        with pytest.raises(magic_hour.BadRequestError) as bad:
            client.v1.face_detection.create(
                assets={"target_file_path": "api-assets/x/1.png"}, confidence_score=0.33
            )
        assert "0.33" in str(bad.value) or "multiple" in str(bad.value)
        with pytest.raises(magic_hour.UnprocessableEntityError):
            client.v1.face_detection.create(assets={"target_file_path": "api-assets/nope/1.png"})

        broken = tmp_path / "broken.png"
        broken.write_bytes(b"this is not a png")
        with pytest.raises(magic_hour.TaskFailedError) as failed:
            client.v1.face_detection.generate(
                assets={"target_file_path": broken}, download_directory=tmp_path / "none"
            )
        assert failed.value.task.status == "error"
        assert failed.value.error_message
        assert not (tmp_path / "none").exists() or not any((tmp_path / "none").iterdir())


def test_a_task_is_invisible_to_another_token(server: LocalServer, scene_file: Path) -> None:
    with Client(token=server.token, base_url=server.url) as mine:
        created = mine.v1.face_detection.generate(
            assets={"target_file_path": scene_file}, wait_for_completion=False
        )
    with (
        Client(token=OTHER, base_url=server.url) as theirs,
        pytest.raises(magic_hour.NotFoundError),
    ):
        theirs.v1.face_detection.get(id=created.id)
