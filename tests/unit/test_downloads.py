"""Face downloads: safe names, no overwrite, atomic files, bounded concurrency."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import httpx
import pytest
from magic_hour import APIConnectionError, APIResponseValidationError, AsyncClient, Client
from magic_hour._downloads import (
    DownloadFile,
    candidate_names,
    filename_from_url,
    sanitize_filename,
    unique_names,
)

from .conftest import STORAGE, BrokenStream, FakeApi, Harness, face

HOSTILE = [
    "../../x.png",
    "/etc/x",
    "..",
    "",
    ".",
    "a/../../b.png",
    "..\\..\\w.png",
    "C:\\x.png",
    "\x00\x1b[31m.png",
    " ",
    "CON.png",
    "a" * 500 + ".png",
    "%2e%2e%2fx.png",
]


TASK = "task-1"  # the fake API's task: its faces are saved in a folder of that name


def is_directly_in(path: str, directory: Path) -> bool:
    return Path(path).resolve().parent == (directory / TASK).resolve()


def read(path: str) -> bytes:
    return Path(path).read_bytes()


def generate(directory: Path, **kwargs: Any) -> Callable[[Any], Any]:
    return lambda v1: v1.face_detection.generate(
        assets={"target_file_path": "https://cdn.test/in.png"},
        download_directory=directory,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0-0.png", "0-0.png"),
        ("../../x.png", "x.png"),
        ("/etc/x", "x"),
        ("..", "fallback.png"),
        ("", "fallback.png"),
        ("...", "fallback.png"),
        ("a\\..\\b.png", "b.png"),
        ("C:x.png", "C_x.png"),
        ("bad\x00name\n.png", "bad_name_.png"),
        ("CON.png", "_CON.png"),
        ("face .png. ", "face .png"),
    ],
)
def test_sanitize_filename(name: str, expected: str) -> None:
    assert sanitize_filename(name, "fallback.png") == expected


@pytest.mark.parametrize("name", HOSTILE)
def test_no_name_escapes_the_directory(name: str, tmp_path: Path) -> None:
    for made in (
        sanitize_filename(name, "f.png"),
        filename_from_url(f"{STORAGE}/a/{name}", "f.png"),
    ):
        assert made and "/" not in made and "\\" not in made and made not in (".", "..")
        assert not any(ord(ch) < 32 for ch in made)
        assert len(made) <= 200
        assert (tmp_path / made).resolve().parent == tmp_path.resolve()


def test_names_from_urls_are_decoded_then_sanitized() -> None:
    assert filename_from_url(f"{STORAGE}/t/%2e%2e%2fx.png", "f") == "x.png"
    assert filename_from_url(f"{STORAGE}/t/%2E%2E", "f.png") == "f.png"
    assert filename_from_url(f"{STORAGE}/t/", "f.png") == "f.png"
    assert filename_from_url(f"{STORAGE}/t/0-3.png?sig=..%2f..%2fevil", "f") == "0-3.png"
    assert filename_from_url(f"{STORAGE}/t/my%20face.png", "f") == "my face.png"
    assert sanitize_filename("a" * 500 + ".png", "f").endswith("a.png")


def test_free_names() -> None:
    names = candidate_names("0-0.png")
    assert [next(names) for _ in range(3)] == ["0-0.png", "0-0 (1).png", "0-0 (2).png"]
    assert next(iter(candidate_names("README"))) == "README"
    assert unique_names(["a.png", "a.png", "A.png", "b"]) == [
        "a.png",
        "a (1).png",
        "A (2).png",
        "b",
    ]


@pytest.mark.anyio
async def test_hostile_face_urls_stay_in_the_directory(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    api.faces = [
        {"path": f"api-assets/t/{n}", "url": f"{STORAGE}/t/{quote(n, safe='/')}"} for n in HOSTILE
    ]
    out = tmp_path / "out"
    result = await sdk(generate(out))
    assert len(result.downloaded_paths) == len(HOSTILE)
    assert len(set(result.downloaded_paths)) == len(HOSTILE)
    for path in result.downloaded_paths:
        assert is_directly_in(path, out)
    assert sorted(os.listdir(out / TASK)) == sorted(Path(p).name for p in result.downloaded_paths)
    assert not (tmp_path / "x.png").exists()


@pytest.mark.anyio
async def test_a_reused_folder_keeps_the_promised_names(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "0-0.png").write_bytes(b"mine")
    first = await sdk(generate(out))
    api.task_id = "task-2"
    second = await sdk(generate(out))
    # A folder per task, `<frame>-<index>.png` inside as the docs promise: two tasks
    # into one directory never touch each other's faces, or anything else there.
    for result, task in ((first, "task-1"), (second, "task-2")):
        assert [Path(p).relative_to(out).as_posix() for p in result.downloaded_paths] == [
            f"{task}/0-0.png",
            f"{task}/0-1.png",
        ]
    assert (out / "task-1" / "0-0.png").read_bytes() == b"PNG:/api-assets/task-1/0-0.png"
    assert (out / "0-0.png").read_bytes() == b"mine"
    again = await sdk(generate(out))  # the same task again: its faces, replaced whole
    assert again.downloaded_paths == second.downloaded_paths
    assert sorted(os.listdir(out)) == ["0-0.png", "task-1", "task-2"]


@pytest.mark.anyio
async def test_a_folder_in_the_way_of_a_face_is_an_error_not_a_loss(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    (out / TASK / "0-0.png").mkdir(parents=True)
    with pytest.raises(IsADirectoryError, match=r"0-0\.png"):
        await sdk(generate(out))
    assert (out / TASK / "0-0.png").is_dir()
    assert not [name for name in os.listdir(out / TASK) if name.startswith(".")]


@pytest.mark.anyio
async def test_the_directory_is_created_and_defaults_to_the_current_one(
    sdk: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = tmp_path / "a" / "b"
    result = await sdk(generate(nested))
    assert [Path(p).parent for p in result.downloaded_paths] == [nested / TASK] * 2
    monkeypatch.chdir(tmp_path)
    result = await sdk(
        lambda v1: v1.face_detection.generate(assets={"target_file_path": "https://cdn.test/i.png"})
    )
    assert [Path(p).name for p in result.downloaded_paths] == ["0-0.png", "0-1.png"]
    assert (tmp_path / TASK / "0-1.png").is_file()


@pytest.mark.anyio
async def test_a_broken_download_leaves_no_file_and_no_temporary(
    make_sdk: Callable[..., Harness], api: FakeApi, tmp_path: Path
) -> None:
    sdk = make_sdk(max_retries=0, patience=0)
    out = tmp_path / "out"
    broken = httpx.Response(200, headers={"Content-Length": "100"}, stream=BrokenStream(b"x" * 10))
    api.images[f"{STORAGE}/api-assets/task-1/0-1.png"] = broken
    api.polls = 0
    with pytest.raises(APIConnectionError):
        await sdk(generate(out))
    assert not (out / TASK / "0-1.png").exists()
    # The face saved before the failure stays; the folder goes when nothing was saved.
    left = os.listdir(out / TASK) if (out / TASK).exists() else []
    assert [n for n in left if n != "0-0.png"] == []
    assert os.listdir(out) == ([TASK] if left else [])


@pytest.mark.anyio
async def test_a_broken_download_is_retried_from_the_start(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    url = f"{STORAGE}/api-assets/task-1/0-0.png"
    api.queue(
        "GET", "/api-assets/task-1/0-0.png", httpx.Response(200, stream=BrokenStream(b"junk"))
    )
    result = await sdk(generate(tmp_path))
    assert read(result.downloaded_paths[0]) == b"PNG:/api-assets/task-1/0-0.png"
    assert len([r for r in api.requests if str(r.url) == url]) == 2
    assert sorted(os.listdir(tmp_path / TASK)) == ["0-0.png", "0-1.png"]


@pytest.mark.anyio
async def test_a_non_http_face_url_is_refused(sdk: Harness, api: FakeApi, tmp_path: Path) -> None:
    api.faces = [{"path": "api-assets/t/0-0.png", "url": "file:///etc/passwd"}]
    with pytest.raises(APIResponseValidationError, match="non-http"):
        await sdk(generate(tmp_path / "out"))
    api.faces = [{"path": "api-assets/t/0-0.png", "url": f"{STORAGE}/t/\x00.png"}]
    with pytest.raises(APIResponseValidationError, match="invalid face URL"):
        await sdk(generate(tmp_path / "out"))
    assert not await anyio.Path(tmp_path / "out").exists()


class HangingStream(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b"partial"
        await asyncio.Event().wait()


@pytest.mark.anyio
async def test_a_cancelled_async_download_cleans_up(api: FakeApi, tmp_path: Path) -> None:
    api.faces = [face("0-0.png")]
    api.images[f"{STORAGE}/api-assets/task-1/0-0.png"] = httpx.Response(200, stream=HangingStream())
    sdk = Harness("async", api)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(sdk(generate(tmp_path)), timeout=0.5)
    assert os.listdir(tmp_path) == []


def test_an_interrupted_sync_download_cleans_up(api: FakeApi, tmp_path: Path) -> None:
    class Interrupted(httpx.SyncByteStream):
        def __iter__(self) -> Any:
            yield b"partial"
            raise KeyboardInterrupt

    api.faces = [face("0-0.png")]
    api.images[f"{STORAGE}/api-assets/task-1/0-0.png"] = httpx.Response(200, stream=Interrupted())
    sdk = Harness("sync", api)
    assert isinstance(sdk.client, Client)
    with pytest.raises(KeyboardInterrupt):
        sdk.client.v1.face_detection.generate(
            assets={"target_file_path": "https://cdn.test/in.png"}, download_directory=tmp_path
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.anyio
async def test_downloads_run_concurrently_but_bounded(tmp_path: Path) -> None:
    api = FakeApi()
    api.faces = [face(f"0-{n}.png") for n in range(10)]
    active, most = 0, 0
    lock = threading.Lock()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal active, most
        if request.url.host != "storage.test":
            return api.handler(request)
        with lock:
            active += 1
            most = max(most, active)
        await asyncio.sleep(0.01)  # let the other downloads start
        with lock:
            active -= 1
        return httpx.Response(200, content=b"png")

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncClient(token="t", base_url="https://api.test", httpx_client=http) as client:
        client._driver.sleep = lambda seconds: asyncio.sleep(0)
        result = await client.v1.face_detection.generate(
            assets={"target_file_path": "https://cdn.test/in.png"}, download_directory=tmp_path
        )
    assert len(result.downloaded_paths) == 10
    assert most == 4


def test_a_saved_face_gets_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        file = DownloadFile(tmp_path, "0-0.png", "https://storage.test/0-0.png")
        file.start(httpx.Response(200, content=b"png"))
        file.write(b"png")
        saved = file.commit()
    finally:
        os.umask(previous)
    assert saved.read_bytes() == b"png"
    assert saved.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600


@pytest.mark.anyio
async def test_a_download_is_made_durable_off_the_event_loop(
    sdk: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fsync waits on the disk for milliseconds: AsyncClient's event loop must not.
    committed_in: list[threading.Thread] = []
    commit = DownloadFile.commit

    def recording(self: DownloadFile) -> Path:
        committed_in.append(threading.current_thread())
        return commit(self)

    monkeypatch.setattr(DownloadFile, "commit", recording)
    result = await sdk(generate(tmp_path / "out"))
    assert len(committed_in) == len(result.downloaded_paths) == 2
    if sdk.kind == "async":
        assert threading.current_thread() not in committed_in
    assert [read(path) for path in result.downloaded_paths] == [
        b"PNG:/api-assets/task-1/0-0.png",
        b"PNG:/api-assets/task-1/0-1.png",
    ]


@pytest.mark.anyio
async def test_a_download_directory_that_is_a_file_is_refused_before_any_request(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    taken = tmp_path / "faces"
    taken.write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        await sdk(generate(taken))
    assert api.requests == []
    # Without downloads the name does not matter.
    result = await sdk(generate(taken, download_outputs=False))
    assert result.downloaded_paths == []


@pytest.mark.anyio
async def test_a_folder_that_cannot_be_made_names_the_task_to_read_again(
    sdk: Harness, api: FakeApi, tmp_path: Path
) -> None:
    # The download folder would be made inside a file: the task completes, then saving fails.
    (tmp_path / "file").write_text("x")
    with pytest.raises(OSError) as caught:
        await sdk(generate(tmp_path / "file" / "faces"))
    notes = getattr(caught.value, "__notes__", [])
    assert any("task task-1 exists" in note for note in notes), notes
