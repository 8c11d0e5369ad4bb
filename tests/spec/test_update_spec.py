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
    assert "BREAKING    GET /v1/face-detection/{id} → 200 FaceDetection.credits_charged: " \
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


def _edit_extension_prose(
    document: dict[str, Any], listed: tuple[str, str], flat: tuple[str, str]
) -> None:
    """The upload prose as Magic Hour would reword it: `listed` replaced in the operation's
    list per type, `flat` in the `extension` field's "Possible extensions are ..."."""
    post = document["paths"]["/v1/files/upload-urls"]["post"]
    post["description"] = post["description"].replace(*listed)
    item = post["requestBody"]["content"]["application/json"]["schema"]["properties"]["items"]
    field = item["items"]["properties"]["extension"]
    field["description"] = field["description"].replace(*flat)


def _with_heif_removed_and_jxl_added(document: dict[str, Any]) -> None:
    _edit_extension_prose(document, (", heif,", ", jxl,"), (",heif,", ",jxl,"))


def _with_a_new_extension(document: dict[str, Any]) -> None:
    _edit_extension_prose(document, ("tif, bmp", "tif, bmp, jxl"), (",bmp,", ",bmp,jxl,"))


def _write(document: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_a_new_extension_reaches_the_sdk_and_a_patch_release(project: Path, tmp_path: Path) -> None:
    document = upstream()
    _with_a_new_extension(document)
    source = _write(document, tmp_path / "jxl.json")

    result = spec(project, "update", str(source))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "accepts the new image extension(s) jxl" in result.stdout
    assert "Release: 0.1.0 → 0.1.1 (compatible changes)." in result.stdout
    facts = (project / "generated" / "magic_hour_client" / "document_facts.py").read_text()
    assert '"jxl",' in facts
    pyproject = (project / "pyproject.toml").read_text()
    assert '\nversion = "0.1.1"\n' in pyproject
    assert (
        'name = "magic-hour-face-detection"\nversion = "0.1.1"' in (project / "uv.lock").read_text()
    )
    changelog = (project / "CHANGELOG.md").read_text()
    entry = changelog.split("## [0.1.1] - ", 1)[1].split("\n## [", 1)[0]
    assert hashlib.sha256(source.read_bytes()).hexdigest() in entry
    assert "### Added" in entry and "accepts the new image extension(s) jxl" in entry
    assert changelog.index("## [0.1.1]") < changelog.index("## [0.1.0]")
    assert spec(project, "check").returncode == 0
    # The SDK of the scratch copy takes the new extension without any edit.
    sdk = subprocess.run(
        [sys.executable, "-c", "from magic_hour._uploads import asset_type_for; "
         "print(asset_type_for('photo.jxl'))"],
        cwd=project, capture_output=True, text=True, check=False,
        env={"PYTHONPATH": f"{project / 'overlay'}:{project / 'generated'}", "PATH": "/usr/bin"},
    )  # fmt: skip
    assert "('jxl', <AssetType.IMAGE: 'image'>)" in sdk.stdout, sdk.stderr


def test_a_removed_extension_is_breaking_and_bumps_the_minor(project: Path, tmp_path: Path) -> None:
    document = upstream()
    _with_heif_removed_and_jxl_added(document)
    result = spec(project, "update", str(_write(document, tmp_path / "no-heif.json")))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "BREAKING" in result.stdout and "no longer accepts the image extension(s) heif" in (
        result.stdout
    )
    assert "Release: 0.1.0 → 0.2.0 (breaking changes; 0.x bumps the minor)." in result.stdout
    assert "### Removed\n\n- **Breaking:**" in (project / "CHANGELOG.md").read_text()


def test_no_release_and_the_same_document_again_change_nothing_of_the_release(
    project: Path, tmp_path: Path
) -> None:
    document = upstream()
    _with_a_new_extension(document)
    before = {n: (project / n).read_bytes() for n in ("pyproject.toml", "CHANGELOG.md", "uv.lock")}
    result = spec(project, "update", "--no-release", str(_write(document, tmp_path / "x.json")))
    assert result.returncode == 0, result.stderr
    assert "Release" not in result.stdout
    assert {n: (project / n).read_bytes() for n in before} == before
    # Vendoring the vendored document again: nothing at all changes, provenance included.
    snapshot_before = snapshot(project)
    again = spec(project, "update", str(project / "openapi" / "upstream" / "magic-hour.json"))
    assert again.returncode == 0
    assert again.stdout.startswith("No changes: the upstream document is the one already vendored")
    assert snapshot(project) == snapshot_before


def test_a_documentation_only_step_says_so_in_one_screen(project: Path, tmp_path: Path) -> None:
    document = upstream()
    post = document["paths"]["/v1/face-detection"]["post"]
    post["description"] = post["description"].replace("Detect faces", "Find the faces")
    post["x-codeSamples"][0]["source"] += "\nprint(res)"
    result = spec(project, "update", str(_write(document, tmp_path / "docs.json")))
    assert result.returncode == 0, result.stderr
    assert "docs        POST /v1/face-detection: description, x-codeSamples (python)" in (
        result.stdout
    )
    assert "Documentation only" in result.stdout and "No changes" not in result.stdout
    assert len(result.stdout.splitlines()) <= 10
    assert "Release: 0.1.0 → 0.1.1 (documentation)." in result.stdout


def _prose_reworded(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/files/upload-urls"]["post"]
    post["description"] = post["description"].replace(
        "**Valid file extensions per asset type**:", "Supported formats:"
    )


def _prose_lists_disagree(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/files/upload-urls"]["post"]
    post["description"] = post["description"].replace("tif, bmp", "tif, bmp, jxl")


def _version_not_semver(project: Path) -> None:
    path = project / "pyproject.toml"
    path.write_text(path.read_text().replace('version = "0.1.0"', 'version = "0.1"'))


def _changelog_unwritable(project: Path) -> None:
    (project / "CHANGELOG.md").unlink()
    (project / "CHANGELOG.md").mkdir()


@pytest.mark.parametrize(
    ("change", "setup", "message"),
    [
        (_prose_reworded, None, "description of POST /v1/files/upload-urls no longer has its"),
        (_prose_lists_disagree, None, "list different extensions (only in the field's: none; "
                                      "only in the operation's: jxl)"),
        (_with_a_new_extension, _version_not_semver, "version '0.1' is not semver"),
        (_with_a_new_extension, _changelog_unwritable, "cannot read CHANGELOG.md"),
    ],
    ids=["prose-reworded", "prose-lists-disagree", "version-not-semver", "changelog-unwritable"],
)  # fmt: skip
def test_prose_and_release_problems_are_exit_2_and_change_nothing(
    project: Path,
    tmp_path: Path,
    change: Callable[[dict[str, Any]], None],
    setup: Callable[[Path], None] | None,
    message: str,
) -> None:
    if setup is not None:
        setup(project)
    document = upstream()
    change(document)
    before = snapshot(project)
    pyproject = (project / "pyproject.toml").read_bytes()
    result = spec(project, "update", str(_write(document, tmp_path / "upstream.json")))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert snapshot(project) == before
    assert (project / "pyproject.toml").read_bytes() == pyproject
    assert not list(project.rglob(".*.new"))
