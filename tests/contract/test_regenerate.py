"""The "API changed, regenerate" workflow: a new optional field appears in the generated client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from scripts.apispec._examples import named_schemas
from tests.document import example

ROOT = Path(__file__).resolve().parents[2]


def test_new_optional_field_is_generated_and_parsed(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "openapi" / "face-detection.yaml").read_text())
    named_schemas(document)["FaceDetection"]["properties"]["model_version"] = {
        "type": "string",
        "description": "The detector's version.",
    }
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(document))
    out = tmp_path / "pkg" / "magic_hour_client"
    subprocess.run(
        [str(ROOT / "scripts" / "generate"), str(spec), str(out)], check=True, timeout=120
    )

    body = example("FaceDetection", faces=[], model_version="centerface-1")
    probe = (
        "import json, sys, magic_hour_client\n"
        "from magic_hour_client.models import FaceDetection\n"
        "task = FaceDetection.from_dict(json.loads(sys.argv[1]))\n"
        "print(json.dumps({'file': magic_hour_client.__file__, 'value': task.model_version,\n"
        "                  'extra': task.additional_keys}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(out.parent)}
    result = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(body)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    seen = json.loads(result.stdout)
    assert Path(seen["file"]).is_relative_to(out)
    # A typed attribute, not a leftover in additional_properties.
    assert seen["value"] == "centerface-1"
    assert seen["extra"] == []


def test_committed_client_does_not_know_the_field() -> None:
    from magic_hour_client.models import FaceDetection

    task = FaceDetection.from_dict(example("FaceDetection", faces=[], model_version="v"))
    assert not hasattr(task, "model_version")
    assert task.additional_keys == ["model_version"]


def test_the_generated_package_says_it_is_typed() -> None:
    import magic_hour_client

    # Without py.typed, a user's type checker would see every re-exported model as Any.
    assert (Path(magic_hour_client.__file__).parent / "py.typed").is_file()
