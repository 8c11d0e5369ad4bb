"""`update` (make update-spec) and `check` (make check-generated) on a scratch copy of the
project: a newer upstream flows through to the built document and the client, bad input
changes nothing, and a hand edit of anything generated is caught."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts.api_change_drill import (
    UPSTREAM,
    new_status_value,
    renamed_response_field,
    required_error_object,
    scratch_copy,
)
from scripts.apispec._examples import named_schemas

WATCHED = ("openapi", "generated", "docs/reference")


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return scratch_copy(tmp_path_factory.mktemp("pristine"))


@pytest.fixture
def project(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    subprocess.run(["cp", "-a", str(pristine), str(copy)], check=True)
    return copy


def spec(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.apispec", *args],
        cwd=project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def snapshot(project: Path) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for folder in WATCHED:
        for path in sorted((project / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[str(path.relative_to(project))] = path.read_bytes()
    return files


def upstream() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(UPSTREAM.read_text(encoding="utf-8"))
    return loaded


def test_a_newer_upstream_with_an_error_object_and_a_canceled_status(
    project: Path, tmp_path: Path
) -> None:
    document = upstream()
    required_error_object(document)
    new_status_value(document)
    source = tmp_path / "newer.json"
    source.write_text(json.dumps(document), encoding="utf-8")

    result = spec(project, "update", str(source))

    assert result.returncode == 0, result.stdout + result.stderr  # nothing breaks callers
    assert "FaceDetection.error: required property added (nullable)" in result.stdout
    assert "FaceDetection.status: new value 'canceled'" in result.stdout
    assert "send GET /v1/face-detection/{id} → 200 FaceDetection.error" in result.stdout
    built = yaml.safe_load((project / "openapi" / "face-detection.yaml").read_text("utf-8"))
    task = named_schemas(built)["FaceDetection"]
    assert "error" in task["required"] and task["properties"]["error"]["nullable"] is True
    assert "canceled" in task["properties"]["status"]["enum"]
    models = project / "generated" / "magic_hour_client" / "models"
    assert 'CANCELED = "canceled"' in (models / "face_detection_status.py").read_text()
    assert "error: FaceDetectionErrorType0 | None" in (models / "face_detection.py").read_text()
    record = json.loads((project / "openapi" / "upstream" / "source.json").read_text())
    assert record["published_sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    # What update wrote is exactly what the inputs give.
    assert spec(project, "check").returncode == 0


def test_a_breaking_upstream_change_exits_1_and_says_so(project: Path, tmp_path: Path) -> None:
    document = upstream()
    renamed_response_field(document)
    source = tmp_path / "renamed.yaml"
    source.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = spec(project, "update", str(source))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BREAKING  GET /v1/face-detection/{id} → 200 FaceDetection.credits_charged: " \
           "property removed" in result.stdout  # fmt: skip


def lacks_get(document: dict[str, Any]) -> None:
    del document["paths"]["/v1/face-detection/{id}"]


def lacks_faces(document: dict[str, Any]) -> None:
    schema = document["paths"]["/v1/face-detection/{id}"]["get"]["responses"]["200"]
    del schema["content"]["application/json"]["schema"]["properties"]["faces"]


BAD: dict[str, tuple[bytes | Callable[[dict[str, Any]], None], str]] = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "is not text"),
    "not-json-or-yaml": (b'{"openapi": "3.0.2", "paths": {', "is neither JSON nor YAML"),
    "swagger-2": (json.dumps({"swagger": "2.0", "paths": {}}).encode(), "not an OpenAPI 3.x"),
    "lacks-our-operation": (lacks_get, "lacks the operation(s) this project serves: "
                                       "faceDetection.getDetails"),
    "overlay-matches-nothing": (lacks_faces, "matches nothing in the upstream document"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_one_line_exit_2_and_changes_nothing(
    project: Path, tmp_path: Path, case: str
) -> None:
    content, message = BAD[case]
    source = tmp_path / "upstream.json"
    if isinstance(content, bytes):
        source.write_bytes(content)
    else:
        document = upstream()
        content(document)
        source.write_text(json.dumps(document), encoding="utf-8")
    before = snapshot(project)
    result = spec(project, "update", str(source))
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr
    assert snapshot(project) == before


def test_a_missing_file_is_exit_2(project: Path) -> None:
    result = spec(project, "update", str(project / "no-such.json"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr and "No such file" in result.stderr


def test_check_fails_on_a_hand_edit_of_anything_generated(project: Path) -> None:
    assert spec(project, "check").returncode == 0
    edits = {
        "openapi/face-detection.yaml": ("title: Magic Hour face detection API", "title: Edited"),
        "generated/magic_hour_client/models/face_detection.py": (
            "class FaceDetection:",
            "class FaceDetection:  # edited",
        ),
        "docs/reference/files.md": ("**API Endpoint**", "**Endpoint**"),
        "openapi/upstream/magic-hour.json": ('"version": "beta"', '"version": "edited"'),
    }  # fmt: skip
    for name, (old, new) in edits.items():
        path = project / name
        text = path.read_text(encoding="utf-8")
        assert old in text, name
        path.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = spec(project, "check")
    assert result.returncode == 1
    for name in edits:
        shown = "generated/magic_hour_client differs" if name.startswith("generated/") else name
        assert shown in result.stderr, name
    assert "edited by hand" in result.stderr


def test_the_custom_block_of_a_reference_page_is_kept(project: Path) -> None:
    page = project / "docs" / "reference" / "files.md"
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("### Upload File", "### Upload File\n\nA note of ours."), "utf-8")
    assert spec(project, "check").returncode == 0
    assert spec(project, "generate").returncode == 0
    assert "A note of ours." in page.read_text(encoding="utf-8")
