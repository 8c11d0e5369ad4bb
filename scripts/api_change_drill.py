"""The change-the-API drill: apply a realistic change to a copy of the document, regenerate
the client from it, and run the SDK's unit tests and the document/model contract tests
against the result. It says how many tests each change breaks.

    .venv/bin/python scripts/api_change_drill.py [--change NAME]... [--keep DIR]

Changes (all by default):
  required-object  FaceDetection gains `model`, a required, nullable object with an example
  new-enum-value   FaceDetectionStatus gains `canceled`
  removed-field    DetectedFace loses its optional `frame_time`
The committed client and document are not touched: the regenerated package and the changed
document live in a temporary directory (`--keep DIR` keeps them there).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/unit", "tests/contract/test_models.py", "tests/cli/test_detect_unit.py"]


def required_object(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["FaceDetection"]
    model = {"name": "centerface", "version": "1.0"}
    schema["properties"]["model"] = {
        "type": "object",
        "nullable": True,
        "description": "The model that ran the detection.",
        "required": ["name"],
        "properties": {"name": {"type": "string"}, "version": {"type": "string"}},
        "example": model,
    }
    schema["required"].append("model")
    schema["example"]["model"] = model


def new_enum_value(document: dict[str, Any]) -> None:
    document["components"]["schemas"]["FaceDetectionStatus"]["enum"].append("canceled")


def removed_field(document: dict[str, Any]) -> None:
    schema = document["components"]["schemas"]["DetectedFace"]
    schema["properties"].pop("frame_time")
    schema.get("example", {}).pop("frame_time", None)


CHANGES = {
    "required-object": required_object,
    "new-enum-value": new_enum_value,
    "removed-field": removed_field,
}


def run(changes: list[str], work: Path) -> dict[str, int]:
    document = yaml.safe_load((ROOT / "openapi" / "face-detection.yaml").read_text())
    for name in changes:
        CHANGES[name](document)
    spec = work / "face-detection.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False))
    package = work / "pkg" / "magic_hour_client"
    subprocess.run([str(ROOT / "scripts" / "generate"), str(spec), str(package)], check=True)
    env = {**os.environ, "PYTHONPATH": str(package.parent), "MAGIC_HOUR_DOCUMENT": str(spec)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         *TESTS],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error)", tail)}
    print(f"{', '.join(changes)}: {tail}")
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--change", action="append", choices=list(CHANGES))
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    changes = args.change or list(CHANGES)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        counts = run(changes, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="api-change-drill-") as work:
            counts = run(changes, Path(work))
    return 1 if counts.get("failed", 0) or counts.get("error", 0) else 0


if __name__ == "__main__":
    sys.exit(main())
