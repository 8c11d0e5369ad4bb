"""Upload input kinds, asset types, errors before any request, and streamed PUTs."""

from __future__ import annotations

import io
import re
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour import UploadProgress
from magic_hour._uploads import (
    AUDIO_EXTENSIONS,
    IMAGE_EXTENSIONS,
    VIDEO_EXTENSIONS,
    LocalFile,
    RemoteFile,
    UploadStream,
    asset_type_for,
    classify_file,
)
from magic_hour_client.models import AssetType

from tests.document import document

from .conftest import IMAGE_SIZE, FakeApi, Harness


@pytest.mark.parametrize(
    ("name", "extension", "asset_type"),
    [
        ("a.png", "png", AssetType.IMAGE),
        ("a.JPEG", "jpeg", AssetType.IMAGE),
        ("dir.v2/a.tiff", "tiff", AssetType.IMAGE),
        ("clip.mp4", "mp4", AssetType.VIDEO),
        ("clip.webm", "webm", AssetType.VIDEO),
        ("song.mp3", "mp3", AssetType.AUDIO),
        ("voice.m4a", "m4a", AssetType.AUDIO),
    ],
)
def test_asset_type_comes_from_the_extension(
    name: str, extension: str, asset_type: AssetType
) -> None:
    assert asset_type_for(name) == (extension, asset_type)


def _documented_extensions() -> dict[str, list[str]]:
    """The upload operation's "Valid file extensions per asset type", by asset type."""
    description = document()["paths"]["/v1/files/upload-urls"]["post"]["description"]
    listed = re.findall(r"^- (\w+): (.+)$", description, re.MULTILINE)
    return {kind: [name.strip() for name in names.split(",")] for kind, names in listed}


def test_every_extension_the_document_lists_is_accepted_as_its_type() -> None:
    documented = _documented_extensions()
    assert {"video", "audio", "image"} <= documented.keys(), documented
    for kind in ("video", "audio", "image"):  # "gif" is listed for face swap only
        for extension in documented[kind]:
            # webm is listed as video and audio; as face detection's input it is a video.
            expected = AssetType.VIDEO if extension == "webm" else AssetType(kind)
            assert asset_type_for(f"x.{extension}") == (extension, expected)


def test_the_sdk_accepts_no_extension_the_document_does_not_list() -> None:
    documented = {name for names in _documented_extensions().values() for name in names}
    assert set(VIDEO_EXTENSIONS + AUDIO_EXTENSIONS + IMAGE_EXTENSIONS) <= documented


@pytest.mark.parametrize("name", ["anim.gif", "doc.pdf", "noextension", "trailingdot."])
def test_an_unsupported_or_missing_extension_names_the_supported_ones(name: str) -> None:
    with pytest.raises(ValueError, match=r"supported: video: mp4.*image: png") as caught:
        asset_type_for(name)
    assert name in str(caught.value)


@pytest.mark.parametrize(
    "target",
    ["https://example.com/a.png", "HTTP://example.com/noext", "api-assets/id/1234.png"],
)
def test_urls_and_uploaded_paths_pass_through(target: str) -> None:
    assert classify_file(target) == RemoteFile(target)


def test_local_inputs(image: Path) -> None:
    for given in (image, str(image)):
        local = classify_file(given)
        assert isinstance(local, LocalFile)
        assert (local.name, local.extension, local.asset_type) == ("photo.png", "png", "image")
        assert local.size == IMAGE_SIZE
    with image.open("rb") as file:
        file.seek(5)
        local = classify_file(file)
        assert isinstance(local, LocalFile)
        assert (local.size, local.start) == (IMAGE_SIZE - 5, 5)


def test_bad_local_inputs(tmp_path: Path, image: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        classify_file(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="supported"):
        classify_file(tmp_path / "missing.xyz")  # the extension is checked first
    (tmp_path / "folder.png").mkdir()
    with pytest.raises(IsADirectoryError):
        classify_file(tmp_path / "folder.png")
    with pytest.raises(ValueError, match="name"):
        classify_file(io.BytesIO(b"data"))
    with image.open("r") as text, pytest.raises(TypeError, match="binary"):
        classify_file(text)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        classify_file(42)  # type: ignore[arg-type]


def test_the_stream_restarts_from_the_beginning_on_every_pass(image: Path) -> None:
    events: list[object] = []
    local = classify_file(image)
    assert isinstance(local, LocalFile)
    stream = UploadStream(local, events.append)
    first, second = b"".join(stream), b"".join(stream)
    assert first == second == image.read_bytes()
    assert events[0] == UploadProgress("photo.png", 0, local.size)
    assert events[-1] == UploadProgress("photo.png", local.size, local.size)


@pytest.mark.anyio
async def test_upload_file_puts_a_local_file_and_returns_its_file_path(
    sdk: Harness, api: FakeApi, image: Path
) -> None:
    events: list[Any] = []
    path = await sdk(lambda v1: v1.files.upload_file(image, on_progress=events.append))
    assert path == "api-assets/id/1234.png"
    urls_request, put = api.requests
    assert httpx.Response(200, content=urls_request.content).json() == {
        "items": [{"type": "image", "extension": "png"}]
    }
    assert put.method == "PUT" and put.url.host == "storage.test"
    # A real HTTP/1.1 peer refuses a request without Host (MockTransport would not).
    assert put.headers["host"] == put.url.netloc.decode()
    assert "authorization" not in put.headers  # the token never goes to storage
    assert put.headers["content-length"] == str(IMAGE_SIZE)
    assert api.uploaded == [IMAGE_SIZE]
    assert events[-1].bytes_sent == IMAGE_SIZE


@pytest.mark.anyio
async def test_upload_file_takes_a_named_binary_file_object(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    clip = tmp_path / "clip.MOV"
    clip.write_bytes(b"m" * 4000)
    with clip.open("rb") as file:
        assert await sdk(lambda v1: v1.files.upload_file(file)) == "api-assets/id/1234.mov"
        assert not file.closed  # the caller's file stays theirs
    assert httpx.Response(200, content=api.requests[0].content).json()["items"] == [
        {"type": "video", "extension": "mov"}
    ]
    assert api.uploaded == [4000]


@pytest.mark.anyio
async def test_upload_file_passes_urls_through_without_requests(sdk: Harness, api: FakeApi) -> None:
    assert await sdk(lambda v1: v1.files.upload_file("https://cdn.test/a.png")) == (
        "https://cdn.test/a.png"
    )
    assert await sdk(lambda v1: v1.files.upload_file("api-assets/i/1.png")) == "api-assets/i/1.png"
    assert api.requests == []


@pytest.mark.anyio
async def test_bad_input_fails_before_any_request(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError):
        await sdk(lambda v1: v1.files.upload_file(tmp_path / "nope.png"))
    with pytest.raises(ValueError, match="supported"):
        await sdk(lambda v1: v1.files.upload_file(tmp_path / "notes.txt"))
    with pytest.raises(ValueError, match="supported"):
        await sdk(lambda v1: v1.face_detection.generate(assets={"target_file_path": "a.gif"}))
    assert api.requests == []


@pytest.mark.anyio
async def test_a_failed_put_is_retried_with_the_whole_file(
    sdk: Harness, api: FakeApi, image: Path
) -> None:
    put_path = "/upload/1234.png"
    api.queue("PUT", put_path, httpx.Response(503), httpx.WriteError("broken pipe"))
    assert await sdk(lambda v1: v1.files.upload_file(image)) == "api-assets/id/1234.png"
    assert len(api.sent("PUT")) == 3
    assert api.uploaded == [IMAGE_SIZE]  # the one that got through was whole


@pytest.mark.anyio
async def test_upload_urls_create(sdk: Harness, api: FakeApi) -> None:
    items = [{"type": "image", "extension": "png"}, {"type": "video", "extension": "mp4"}]
    urls = await sdk(lambda v1: v1.files.upload_urls.create(items=items))
    assert [item.file_path for item in urls.items] == [
        "api-assets/id/1234.png",
        "api-assets/id/1234.mp4",
    ]
    assert httpx.Response(200, content=api.requests[0].content).json() == {"items": items}


@pytest.mark.anyio
async def test_a_large_upload_streams_from_disk(sdk: Harness, api: FakeApi, tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    size = 50 * 1024 * 1024
    with big.open("wb") as file:  # sparse: costs no disk
        file.truncate(size)
    tracemalloc.start()
    try:
        assert await sdk(lambda v1: v1.files.upload_file(big)) == "api-assets/id/1234.mp4"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert api.uploaded == [size]
    (put,) = api.sent("PUT")
    assert isinstance(put.stream, UploadStream)  # a stream, not the bytes read whole
    assert not hasattr(put, "_content")
    assert put.headers["content-length"] == str(size)
    assert peak < 5 * 1024 * 1024, f"peak memory {peak} bytes for a {size} byte upload"
