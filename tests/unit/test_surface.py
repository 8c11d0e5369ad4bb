"""What a newcomer meets first: a misspelled keyword, `help()`, a base URL or a `file:`
URL given the way people give them. Each is refused or accepted when it is given, with
a message that says what to do, before any request."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from magic_hour import AsyncClient, Client
from magic_hour._uploads import classify_file

from tests.unit.conftest import FakeApi, Harness

RESOURCES = {
    "face_detection.create": ["assets", "confidence_score", "idempotency_key"],
    "face_detection.get": ["id"],
    "face_detection.generate": [
        "assets", "confidence_score", "wait_for_completion", "download_outputs",
        "download_directory", "poll_timeout", "on_progress", "long_poll",
    ],
    "files.upload_urls.create": ["items"],
    "files.upload_file": ["file", "on_progress"],
}  # fmt: skip


def _method(client: Client | AsyncClient, dotted: str) -> Any:
    node: Any = client.v1
    for name in dotted.split("."):
        node = getattr(node, name)
    return node


@pytest.mark.parametrize("cls", [Client, AsyncClient])
@pytest.mark.parametrize("dotted", list(RESOURCES))
def test_every_method_lists_its_keywords_and_says_what_each_does(
    cls: type[Client] | type[AsyncClient], dotted: str
) -> None:
    method = _method(cls(token="t", base_url="http://127.0.0.1:9"), dotted)
    parameters = inspect.signature(method).parameters
    assert list(parameters) == [*RESOURCES[dotted], "timeout", "max_retries"]
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    doc = inspect.getdoc(method) or ""
    if cls is Client:
        for name in RESOURCES[dotted]:
            assert f"{name}:" in doc, (dotted, name)
    assert repr(parameters["timeout"].default) == "NOT_GIVEN"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("typo", "call"),
    [
        ("confidense_score", lambda v1, p: v1.face_detection.generate(
            assets={"target_file_path": p}, confidense_score=0.5)),
        ("download_dir", lambda v1, p: v1.face_detection.generate(
            assets={"target_file_path": p}, download_dir="x")),
        ("task_id", lambda v1, p: v1.face_detection.get(task_id="x")),
        ("timout", lambda v1, p: v1.face_detection.create(
            assets={"target_file_path": "https://x/a.png"}, timout=3)),
    ],
    ids=["generate", "generate-folder", "get", "create-option"],
)  # fmt: skip
async def test_a_misspelled_keyword_is_a_type_error_before_any_request(
    sdk: Harness, api: FakeApi, image: Path, typo: str, call: Any
) -> None:
    with pytest.raises(TypeError, match=f"unexpected keyword argument '{typo}'"):
        await sdk(lambda v1: call(v1, image))
    assert api.requests == []


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("127.0.0.1:8000", "not an http(s) URL with a host"),
        ("api.magichour.ai", "not an http(s) URL with a host"),
        ("ftp://api.magichour.ai", "not an http(s) URL with a host"),
        ("https://api.magichour.ai/v1", "ends in /v1: give the API's root (https://api.magichour.ai)"),
        ("http://127.0.0.1:8000/v1/", "ends in /v1: give the API's root (http://127.0.0.1:8000)"),
        ("https://api.magichour.ai/?x=1", "must not have a query"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_a_base_url_that_cannot_be_the_api_is_refused_when_given(
    cls: type[Client] | type[AsyncClient], given: str, message: str
) -> None:
    with pytest.raises(ValueError, match="base_url") as caught:
        cls(token="t", base_url=given)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("https://api.magichour.ai/", "https://api.magichour.ai"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("https://example.com/proxy/magic-hour/", "https://example.com/proxy/magic-hour"),
    ],
)
def test_a_good_base_url_is_kept_without_its_trailing_slash(given: str, kept: str) -> None:
    assert Client(token="t", base_url=given).base_url == kept


def test_file_urls_name_local_files(tmp_path: Path) -> None:
    photo = tmp_path / "my photo.png"
    photo.write_bytes(b"\x89PNG")
    as_uri = photo.as_uri()  # file:///.../my%20photo.png
    for url in (as_uri, as_uri.replace("file:///", "file:/"),
                as_uri.replace("file:///", "file://localhost/")):  # fmt: skip
        local = classify_file(url)
        assert getattr(local, "path", None) == photo, url
    with pytest.raises(ValueError, match="names the host 'elsewhere'"):
        classify_file("file://elsewhere/photo.png")
    with pytest.raises(FileNotFoundError, match="no such file"):
        classify_file((tmp_path / "gone.png").as_uri())


def test_the_official_sdk_beside_this_one_is_warned_of_at_import(tmp_path: Path) -> None:
    """Both distributions provide `magic_hour`; uninstalling either breaks the other."""
    import os
    import subprocess
    import sys

    info = tmp_path / "magic_hour-0.90.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: magic-hour\nVersion: 0.90.0\n")
    path = os.pathsep.join([str(tmp_path), *sys.path[1:]])
    code = "import magic_hour"
    both = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": path},
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert "ShadowedPackageWarning: both magic-hour 0.90.0 (the official SDK)" in both.stderr
    assert "separate virtual environments" in both.stderr
    alone = subprocess.run([sys.executable, "-W", "error", "-c", code],
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert alone.returncode == 0 and alone.stderr == ""


@pytest.mark.parametrize("dotted", list(RESOURCES))
def test_the_async_client_takes_the_same_keywords_with_the_same_help(dotted: str) -> None:
    sync = _method(Client(token="t", base_url="http://127.0.0.1:9"), dotted)
    async_ = _method(AsyncClient(token="t", base_url="http://127.0.0.1:9"), dotted)
    assert inspect.iscoroutinefunction(async_)
    assert inspect.signature(async_) == inspect.signature(sync)
    assert inspect.getdoc(async_) == inspect.getdoc(sync)
