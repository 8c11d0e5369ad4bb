"""The API's own history, replayed: each real published version of the hosted document
(tests/spec/history/, labels by hand in steps.json) through the build, the change report
and the release, in publishing order and back to the first. Every extension and response
added or removed is named at its step, no step says "No changes", and the version and
the changelog follow the report.

The steps run in process (the build, the report and the release plan are plain code);
test_update_spec.py runs the whole `update` command, client generation included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from scripts.apispec._build import ROOT, build, load_overlay
from scripts.apispec._changes import ChangeReport, Upstreams, compare
from scripts.apispec._documents import sha256
from scripts.apispec._facts import accepted_extensions
from scripts.apispec._levels import BREAKING, COMPATIBLE, DOCS, REVIEW
from scripts.apispec._release import bump, plan_release, read_version

HISTORY = Path(__file__).parent / "history"
STEPS: list[dict[str, Any]] = json.loads((HISTORY / "steps.json").read_text("utf-8"))["steps"]


def _load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((HISTORY / name).read_text(encoding="utf-8"))
    return loaded


def _built(upstream: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    # Through JSON, as the built document is read back from its YAML file.
    result: dict[str, Any] = json.loads(json.dumps(build(upstream, overlay)))
    return result


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[ChangeReport, str, str]]:
    """Each step's report, the version after its release, and the changelog's text."""
    root = tmp_path_factory.mktemp("release")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    overlay = load_overlay()
    upstream = _load(STEPS[0]["file"])
    built = _built(upstream, overlay)
    results = []
    for step in STEPS[1:]:
        new_upstream = _load(step["file"])
        new_built = _built(new_upstream, overlay)
        report = compare(built, new_built, Upstreams(upstream, new_upstream, overlay))
        report.upstream_changed = new_upstream != upstream
        release = plan_release(
            root, report, date="2026-12-06", source=step["file"], sha256=f"sha-of-{step['file']}"
        )
        for path, text in release.files.items():
            path.write_text(text, encoding="utf-8")
        changelog = root / "CHANGELOG.md"
        results.append(
            (
                report,
                read_version((root / "pyproject.toml").read_text("utf-8")),
                changelog.read_text("utf-8") if changelog.exists() else "",
            )
        )
        upstream, built = new_upstream, new_built
    return results


def _lines(report: ChangeReport, level: str) -> list[str]:
    return [f"{c.where}: {c.what}" for c in report.changes if c.level == level]


@pytest.mark.parametrize("index", range(1, len(STEPS)), ids=[s["file"][:2] for s in STEPS[1:]])
def test_each_real_step_names_what_changed(
    replay: list[tuple[ChangeReport, str, str]], index: int
) -> None:
    step = STEPS[index]
    report, version, changelog = replay[index - 1]
    text = report.render()
    assert "No changes" not in text, text
    for kind, names in step.get("extensions_added", {}).items():
        assert f"accepts the new {kind} extension(s) {', '.join(names)}" in "\n".join(
            _lines(report, COMPATIBLE)
        ), text
    for kind, names in step.get("extensions_removed", {}).items():
        assert any(
            f"no longer accepts the {kind} extension(s) {', '.join(names)}" in line
            for line in _lines(report, BREAKING)
        ), text
    for status, operations in step.get("responses_added", {}).items():
        for operation in operations:
            assert f"{operation}: response {status} added (body: ErrorMessage)" in _lines(
                report, COMPATIBLE
            ), text
    for status, operations in step.get("responses_removed", {}).items():
        for operation in operations:
            assert any(
                line.startswith(f"{operation}: response {status} removed")
                for line in _lines(report, REVIEW)
            ), text
    documented = {c.where.split(" ")[0] if c.where[0].islower() else c.where for c in
                  report.changes if c.level == DOCS}  # fmt: skip
    if "documentation_only" in step:
        assert report.documentation_only, text
        assert "Documentation only" in text
        assert documented >= set(step["documentation_only"]), text
        assert len(text.splitlines()) <= 24  # one screen
    else:
        assert not report.documentation_only
        assert documented >= set(step.get("documentation", [])), text
    # No line classifies a difference twice, and every step's lines are unique.
    assert len({c.line() for c in report.changes}) == len(report.changes), text
    # The release follows the report, and the changelog entry says it.
    previous = replay[index - 2][1] if index > 1 else "0.1.0"
    expected, _ = bump(previous, report)
    assert version == expected
    assert expected != previous  # every real step changed what ships
    entry = changelog.split(f"## [{version}] - 2026-12-06\n", 1)
    assert len(entry) == 2, changelog[:400]
    body = entry[1].split("\n## [", 1)[0]
    assert f"{step['file']} (sha256 sha-of-{step['file']})" in body
    if step.get("extensions_added"):
        assert "### Added" in body and "accepts the new" in body
    if step.get("extensions_removed"):
        assert "### Removed" in body and "**Breaking:**" in body
    if "documentation_only" in step:
        assert "### Changed" in body and "### Added" not in body


def test_the_versions_follow_semver_across_the_replay(
    replay: list[tuple[ChangeReport, str, str]],
) -> None:
    versions = [version for _, version, _ in replay]
    # 15 compatible or documentation steps: patches; back to January breaks: the minor.
    assert versions[:15] == [f"0.1.{n}" for n in range(1, 16)]
    assert versions[15] == "0.2.0"
    changelog = replay[-1][2]
    assert changelog.startswith("# Changelog\n")
    assert (
        changelog.index("## [0.2.0]")
        < changelog.index("## [0.1.15]")
        < changelog.index("## [0.1.1]")
    )


def test_the_extensions_the_sdk_reads_are_the_newest_prose() -> None:
    overlay = load_overlay()
    newest = accepted_extensions(_built(_load(STEPS[-2]["file"]), overlay))
    first = accepted_extensions(_built(_load(STEPS[0]["file"]), overlay))
    assert newest is not None and first is not None
    assert "heif" in newest["image"] and "heif" not in first["image"]
    # The committed client is generated from the vendored document, the newest one.
    from magic_hour_client.document_facts import UPLOAD_EXTENSIONS

    assert {k: list(v) for k, v in UPLOAD_EXTENSIONS.items()} == newest
    vendored = (ROOT / "openapi" / "upstream" / "magic-hour.json").read_bytes()
    assert json.loads(vendored) == _load(STEPS[-2]["file"])
    assert (
        sha256(vendored)
        == json.loads((ROOT / "openapi" / "upstream" / "source.json").read_text("utf-8"))["sha256"]
    )
