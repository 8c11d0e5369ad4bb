"""Schemathesis against the live server: every operation, positive and negative data, and
the stateful create -> get link. Zero 5xx and zero responses that break the document."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from magic_hour_server import LocalServer

from tests.server.conftest import upload
from tests.server.images import astronaut, encode

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
CONFIG = Path(__file__).with_name("schemathesis.toml")
EXAMPLES = 15  # per operation and phase: enough to cover each schema branch, under a minute


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    assert found is not None, "schemathesis is a dev dependency: run `make install`"
    return found


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_server_keeps_the_contract(
    database: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    options = {}
    if database == "postgresql":
        options["database"] = request.getfixturevalue("postgres").new_database()
    with LocalServer(workers=1, **options) as server:
        headers = {"Authorization": f"Bearer {server.token}"}
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            target = upload(client, encode(astronaut()))
        env = {**os.environ, "MAGIC_HOUR_CONTRACT_TARGET": target}
        run = subprocess.run(
            [
                _schemathesis(),
                "--config-file",
                str(CONFIG),
                "--no-color",
                "run",
                f"{server.url}/openapi.yaml",
                "--header",
                f"Authorization: Bearer {server.token}",
                "--checks",
                "all",
                "--mode",
                "all",
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "20240725",
                "--request-timeout",
                "30",
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=200,
            check=False,
        )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-6000:]
    assert "API Links:    1 covered" in output, output[-3000:]
