"""Every example in docs/reference/ runs, as written, against a real local server.

The pages use the hosted docs' placeholder values; each is bound to a real thing before
the example runs: "/path/to/1234.png" to a photo on disk, "api-assets/id/1234.png" to a
file uploaded to the server, "uuid-example" to a real task. The token comes from
API_TOKEN and the server's address from MAGIC_HOUR_BASE_URL, as a user would set them.
Response examples on the pages must be valid for the response schema.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from magic_hour_server import LocalServer

from tests.contract._openapi import DOCUMENT, Validator, operations, resolve
from tests.server.conftest import start, upload, wait
from tests.server.images import astronaut, encode

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs" / "reference").glob("*.md"))
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def blocks() -> Iterator[tuple[str, int, str]]:
    for page in PAGES:
        for number, match in enumerate(BLOCK.finditer(page.read_text(encoding="utf-8")), 1):
            yield page.name, number, match.group(1)


CALLS = [(p, n, code) for p, n, code in blocks() if "client = " in code]
RESPONSES = [(p, n, code) for p, n, code in blocks() if code.lstrip().startswith("{")]


@pytest.fixture(scope="module")
def bound(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running server and a real value for each placeholder."""
    folder = tmp_path_factory.mktemp("reference-examples")
    photo = folder / "1234.png"
    photo.write_bytes(encode(astronaut(), "png"))
    with LocalServer(tokens=["reference-docs-token"]) as server:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30
        ) as api:
            file_path = upload(api, photo.read_bytes())
            task_id = start(api, file_path)
            wait(api, task_id)
        yield {"server": server, "photo": photo, "file_path": file_path, "task_id": task_id,
               "folder": folder}  # fmt: skip


def bind(code: str, values: dict[str, Any]) -> str:
    for placeholder, value in (
        ("/path/to/1234.png", str(values["photo"])),
        ("/path/to/your/image.jpg", str(values["photo"])),
        ("api-assets/id/1234.png", values["file_path"]),
        ("uuid-example", values["task_id"]),
    ):
        code = code.replace(f'"{placeholder}"', json.dumps(value))
    return code


def test_the_pages_have_examples_for_every_operation() -> None:
    calls = "\n".join(code for _, _, code in CALLS)
    for call in ("face_detection.get(", "face_detection.create(", "face_detection.generate(",
                 "files.upload_urls.create(", "files.upload_file("):  # fmt: skip
        assert f"res = client.v1.{call}" in calls or f"= await client.v1.{call}" in calls, call
    assert len(CALLS) >= 10 and len(RESPONSES) == len(list(operations()))


@pytest.mark.parametrize(("page", "number", "code"), CALLS, ids=[f"{p}-{n}" for p, n, _ in CALLS])
def test_every_example_runs_against_the_local_server(
    page: str, number: int, code: str, bound: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    server: LocalServer = bound["server"]
    monkeypatch.setenv("API_TOKEN", server.token)
    monkeypatch.setenv("MAGIC_HOUR_BASE_URL", server.url)
    monkeypatch.chdir(tmp_path)  # download_directory="." lands here
    source = bind(code, bound)
    scope: dict[str, Any] = {}
    if "await " in source:
        wrapped = "async def example():\n" + textwrap.indent(source, "    ") + "\n    return res"
        wrapped = wrapped.replace("file_path = await", "res = await")
        exec(compile(wrapped, f"{page}#{number}", "exec"), scope)  # noqa: S102 -- our own docs
        result = asyncio.run(scope["example"]())
    else:
        exec(compile(source, f"{page}#{number}", "exec"), scope)  # noqa: S102 -- our own docs
        result = scope.get("res", scope.get("file_path"))
    assert result is not None
    if ".generate(" in source:
        assert result.status == "complete" and result.faces
        assert all(Path(path).is_file() for path in result.downloaded_paths)
        saved = (tmp_path / result.downloaded_paths[0]).resolve()
        assert saved.parent == (tmp_path / result.id).resolve()  # a folder per task
    elif ".get(" in source:
        assert result.id == bound["task_id"] and result.status == "complete"
    elif "upload_file(" in source:
        assert str(result).startswith("api-assets/")
    elif "upload_urls.create(" in source:
        assert result.items and result.items[0].upload_url.startswith(server.url)
    else:
        assert result.id


@pytest.mark.parametrize(
    ("page", "number", "code"), RESPONSES, ids=[f"{p}-{n}" for p, n, _ in RESPONSES]
)
def test_every_response_example_is_valid_for_its_schema(page: str, number: int, code: str) -> None:
    example = json.loads(code)
    text = (ROOT / "docs" / "reference" / page).read_text(encoding="utf-8")
    before = text[: [m.start() for m in BLOCK.finditer(text)][number - 1]]
    title = re.findall(r"\[(\w+)\]\(\.\./\.\./generated/magic_hour_client/models/", before)[-1]
    schema = next(
        op.response_schema("200")
        for op in operations()
        if op.response_schema("200").get("title") == title
    )
    Validator(resolve(schema, DOCUMENT)).validate(example)
