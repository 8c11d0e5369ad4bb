"""The official Magic Hour SDK (magic-hour 0.90.0, installed by `make install` into an
environment of its own) works against the local server: generate, get, create."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from magic_hour_server import LocalServer

from tests.server.images import astronaut, encode

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "official-sdk" / "bin" / "python"
SCRIPT = """
import json, os, sys
from magic_hour import Client
from importlib.metadata import version
url, photo, out = sys.argv[1:4]
client = Client(token=os.environ["API_TOKEN"], base_url=url)
res = client.v1.face_detection.generate(
    assets={"target_file_path": photo}, confidence_score=0.5,
    wait_for_completion=True, download_outputs=True, download_directory=out)
again = client.v1.face_detection.get(id=res.id)
created = client.v1.face_detection.create(
    assets={"target_file_path": again.faces[0].path}, confidence_score=0.5)
print(json.dumps({"version": version("magic_hour"), "status": res.status,
                  "faces": [f.path for f in res.faces],
                  "downloaded": [str(p) for p in res.downloaded_paths],
                  "get": again.status, "created": created.id}))
"""


@pytest.mark.e2e
def test_the_official_sdk_detects_gets_and_creates(tmp_path: Path) -> None:
    assert PYTHON.exists(), "the official SDK's environment is missing: run `make install`"
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(encode(astronaut(), "png"))
    out = tmp_path / "faces"
    out.mkdir()  # the official SDK does not create its download directory
    with LocalServer(tokens=["official-sdk-token"]) as server:
        run = subprocess.run(
            [str(PYTHON), "-c", SCRIPT, server.url, str(photo), str(out)],
            env={**os.environ, "API_TOKEN": server.token}, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert seen["version"] == "0.90.0"
    assert seen["status"] == "complete" and seen["get"] == "complete"
    assert seen["faces"] and all(path.startswith("api-assets/") for path in seen["faces"])
    assert [Path(p).name for p in seen["downloaded"]] == [Path(p).name for p in seen["faces"]]
    assert all(Path(p).stat().st_size > 1000 for p in seen["downloaded"])
    assert seen["created"]
