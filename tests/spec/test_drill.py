"""The API-change drill (scripts/api_change_drill.py) through `make update-spec`: each
realistic upstream change is classified as the rules say, and only a breaking one breaks
more than a few tests (docs/api-changes.md has the figures).

`make test` runs one compatible change through the whole path (vendor, rebuild,
regenerate, report, the unit and contract tests on the result: none may break); the seven
changes, breaking ones included, run in `make drill` (three minutes of CPU). How each shape
is classified is tested without the drill, in test_changes.py, and a breaking update's exit
1 in test_update_spec.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def drill(tmp_path: Path, *changes: str) -> dict[str, dict[str, Any]]:
    out = tmp_path / "drill.json"
    chosen = [f"--change={change}" for change in changes]
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "api_change_drill.py"), "--json", str(out),
         *chosen],
        capture_output=True, text=True, timeout=840, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    return {r["change"]: r for r in json.loads(out.read_text())}


@pytest.mark.timeout(600)
def test_a_compatible_change_through_make_update_spec_breaks_no_test(tmp_path: Path) -> None:
    (result,) = drill(tmp_path, "new-error-status").values()
    assert result["update_exit"] == 0, (result["report"], result["update_errors"])
    assert result["passed"] > 350, result["tests"]
    assert result["failed"] + result["errors"] == 0, result["failed_tests"]
    assert "response 429 added (body: ErrorMessage)" in result["report"]


# Seven changes, each a `make update-spec` and a run of about 470 tests: minutes, not the
# five-minute ceiling a single test gets (pyproject.toml).
@pytest.mark.drill
@pytest.mark.timeout(900)
def test_each_upstream_change_through_make_update_spec(tmp_path: Path) -> None:
    results = drill(tmp_path)
    expected_exit = {
        "required-error-object": 0,
        "new-status-value": 0,
        "new-request-parameter": 0,
        "renamed-response-field": 1,
        "new-error-status": 0,
        "reworded-descriptions": 0,
        "field-shared-with-overlay": 0,
    }
    for change, status in expected_exit.items():
        result = results[change]
        assert result["update_exit"] == status, (change, result["report"], result["update_errors"])
        assert result["passed"] > 350, (change, result["tests"])  # the unit and contract tests
        broken = result["failed"] + result["errors"]
        if status == 0:
            # A compatible change breaks no test that is not about the change itself.
            assert broken == 0, (change, result["failed_tests"])
        else:
            # A breaking change does break callers: tests that read the field fail.
            assert broken > 0, (change, result["tests"])
    assert (
        "FaceDetection.error: required property added" in results["required-error-object"]["report"]
    )
    assert "new value 'canceled'" in results["new-status-value"]["report"]
    assert "max_faces: optional property added" in results["new-request-parameter"]["report"]
    assert (
        "POST /v1/face-detection: response 429 added (body: ErrorMessage)"
        in (results["new-error-status"]["report"])
    )
    reworded = results["reworded-descriptions"]["report"]
    assert "docs        POST /v1/face-detection: description, summary" in reworded
    assert "Documentation only" in reworded
    shared = results["field-shared-with-overlay"]["report"]
    assert "upstream now defines what overlay action" in shared
    assert "review      GET /v1/face-detection/{id}: 200 response faces[].score: upstream now " \
           "defines what overlay action" in shared  # fmt: skip
    assert 'upstream: {"description": "How confident' in shared
