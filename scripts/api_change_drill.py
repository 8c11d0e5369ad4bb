"""The change-the-API drill, through the path a maintainer takes: derive a new upstream
document from the vendored one, run `make update-spec FROM=<it>` in a scratch copy of the
project, and run the SDK's unit, command-line and contract tests there.

    .venv/bin/python scripts/api_change_drill.py [--change NAME]... [--jobs N] [--json FILE]

Changes (all by default), each to the hosted document as Magic Hour would publish it:
  required-error-object  the task gains `error`, a required nullable {code, message}
                         object with examples on its properties only
  new-status-value       the task's status gains `canceled`
  new-request-parameter  POST /v1/face-detection gains an optional `max_faces`
  renamed-response-field the task's `credits_charged` becomes `credits` (breaking)
  new-error-status       POST /v1/face-detection documents a 429 with its own inline body
  reworded-descriptions  every operation's description and summary reworded
  field-shared-with-overlay  each face gains an upstream `score`, which the overlay adds too
It prints, per change, the exit status and report of `make update-spec` and the tests
that failed. Each change has its own scratch copy, so `--jobs` of them (default: one per
CPU) run side by side; much of a test run waits on servers and subprocesses. The
committed project is never touched.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
UPSTREAM = ROOT / "openapi" / "upstream" / "magic-hour.json"
TESTS = ["tests/unit", "tests/cli", "tests/contract"]  # for `required-error-object`
SKIP = {".git", ".venv", "outputs", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__",
        ".hypothesis", "dist", "build"}  # fmt: skip


def task_schema(document: dict[str, Any]) -> dict[str, Any]:
    get = document["paths"]["/v1/face-detection/{id}"]["get"]
    schema: dict[str, Any] = get["responses"]["200"]["content"]["application/json"]["schema"]
    return schema


def required_error_object(document: dict[str, Any]) -> None:
    task = task_schema(document)
    task["properties"]["error"] = {
        "type": "object",
        "nullable": True,
        "description": "In the case of an error, this object will contain the error encountered",
        "required": ["message", "code"],
        "properties": {
            "message": {"type": "string", "example": "Please use an image with a detectable face"},
            "code": {"type": "string", "example": "no_source_face"},
        },
    }
    task["required"].append("error")


def new_status_value(document: dict[str, Any]) -> None:
    task_schema(document)["properties"]["status"]["enum"].append("canceled")


def new_request_parameter(document: dict[str, Any]) -> None:
    post = document["paths"]["/v1/face-detection"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    body["properties"]["max_faces"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Return at most this many faces.",
        "example": 10,
    }


def renamed_response_field(document: dict[str, Any]) -> None:
    task = task_schema(document)
    task["properties"]["credits"] = task["properties"].pop("credits_charged")
    task["required"] = ["credits" if r == "credits_charged" else r for r in task["required"]]


def new_error_status(document: dict[str, Any]) -> None:
    """429 on create, with its own inline body as the hosted document writes errors."""
    post = document["paths"]["/v1/face-detection"]["post"]
    post["responses"]["429"] = {
        "description": "Too Many Requests",
        "content": {"application/json": {"schema": {
            "type": "object",
            "properties": {"message": {"type": "string"}},
            "required": ["message"],
            "description": "Too many requests",
            "example": {"message": "Rate limit exceeded"},
        }}},
    }  # fmt: skip


def reworded_descriptions(document: dict[str, Any]) -> None:
    for item in document["paths"].values():
        for operation in item.values():
            operation["description"] = operation["description"].replace("faces", "the faces")
            operation["summary"] = operation["summary"] + " (v1)"


def field_shared_with_overlay(document: dict[str, Any]) -> None:
    """Upstream starts to define `score` on each face, which our overlay also adds."""
    face = task_schema(document)["properties"]["faces"]["items"]
    face["properties"]["score"] = {
        "type": "number",
        "description": "How confident the detector is that this is a face.",
        "example": 0.98,
    }


CHANGES: dict[str, Callable[[dict[str, Any]], None]] = {
    "required-error-object": required_error_object,
    "new-status-value": new_status_value,
    "new-request-parameter": new_request_parameter,
    "renamed-response-field": renamed_response_field,
    "new-error-status": new_error_status,
    "reworded-descriptions": reworded_descriptions,
    "field-shared-with-overlay": field_shared_with_overlay,
}
# The SDK's unit and contract tests run for every change; the command line's end-to-end
# tests (a minute of CPU each) only for the change that alters what a server must send
# (the required `error`, which the embedded server does not send yet). The others change
# nothing those tests exercise beyond the unit and contract tests.
UNIT_AND_CONTRACT = ["tests/unit", "tests/contract"]
TESTS_FOR: dict[str, list[str]] = {
    name: UNIT_AND_CONTRACT for name in CHANGES if name != "required-error-object"
}


def scratch_copy(work: Path) -> Path:
    """The project as it is, in `work`, sharing the virtual environment."""
    copy = work / "project"
    shutil.copytree(ROOT, copy, ignore=lambda _dir, names: [n for n in names if n in SKIP])
    (copy / ".venv").symlink_to(ROOT / ".venv")
    return copy


def run(name: str, work: Path) -> dict[str, Any]:
    project = scratch_copy(work)
    document = json.loads(UPSTREAM.read_text(encoding="utf-8"))
    CHANGES[name](document)
    source = work / f"{name}.json"
    source.write_text(json.dumps(document, indent=2), encoding="utf-8")
    # `-o install`: the scratch copy shares .venv, which must not be re-synced to it.
    update = subprocess.run(
        ["make", "-s", "-o", "install", "update-spec", f"FROM={source}"],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    status = _tool_status(update)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(project / p) for p in ("generated", "overlay", "server")),
    }
    env.pop("MAGIC_HOUR_DOCUMENT", None)
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "-o", "addopts=", f"--basetemp={work / 'pytest'}", *TESTS_FOR.get(name, TESTS)],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = tests.stdout.strip().splitlines()
    tail = lines[-1] if lines else tests.stderr.strip()[-500:]
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|errors?)", tail)}
    failed = [line.split(" ", 1)[1].split(" - ")[0] for line in lines
              if line.startswith(("FAILED ", "ERROR "))]  # fmt: skip
    return {
        "change": name,
        "update_exit": status,
        "report": update.stdout.strip(),
        "update_errors": update.stderr.strip() if status == 2 else "",
        "tests": tail,
        "passed": counts.get("passed", 0),
        "failed": counts.get("failed", 0),
        "errors": counts.get("error", 0) + counts.get("errors", 0),
        "failed_tests": failed,
    }


def run_in_scratch(name: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="api-change-drill-") as work:
        return run(name, Path(work))


def _tool_status(result: subprocess.CompletedProcess[str]) -> int:
    """The exit status of the spec tool under make (make itself exits 2 on any failure)."""
    if result.returncode == 0:
        return 0
    match = re.search(r"\] Error (\d+)", result.stderr)
    return int(match.group(1)) if match else result.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--change", action="append", choices=list(CHANGES))
    parser.add_argument("--json", type=Path, help="write the results here too")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="changes run side by side (default: one per CPU)")  # fmt: skip
    args = parser.parse_args()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run_in_scratch, args.change or list(CHANGES)))
    for result in results:
        name = result["change"]
        print(f"== {name}: make update-spec exit {result['update_exit']}; tests: {result['tests']}")
        print(result["report"] or result["update_errors"])
        for test in result["failed_tests"]:
            print(f"   failed: {test}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
