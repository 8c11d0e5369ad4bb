"""`magic-hour contract` as a user runs it: on the embedded server, on broken doubles, and
with bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.cli.contract_doubles import TOKEN, broken_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
COMMAND = [sys.executable, "-c", "import sys; from magic_hour.cli import main; sys.exit(main())"]


def contract(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, "contract", "--max-examples", "5", *args],
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
        env=env,
    )


def test_the_embedded_server_keeps_the_contract(tmp_path: Path) -> None:
    report = tmp_path / "contract.xml"
    run = contract("--junit-xml", str(report))
    assert run.returncode == 0, run.stdout + run.stderr
    for row in (
        "POST /v1/face-detection",
        "GET /v1/face-detection/{id}",
        "POST /v1/files/upload-urls",
        "GET with a wrong token",
        "create -> get link",
    ):
        assert any(line.startswith(row) and line.endswith("ok") for line in run.stdout.splitlines())
    suite = ET.parse(report).getroot()  # noqa: S314 -- written by the run above
    assert suite.get("failures") == "0" and int(suite.get("tests", "0")) >= 9


@pytest.mark.parametrize(
    ("fault", "found"),
    [
        ("drop-status", "GET /v1/face-detection/{id}  FAIL"),
        ("500", "GET /v1/face-detection/{id}  FAIL"),
        ("no-auth", "GET without a token"),
    ],
)
def test_a_broken_deployment_is_caught(fault: str, found: str) -> None:
    with broken_server(fault) as url:
        # The token through the environment, as the docs say: never on a command line.
        run = contract("--base-url", url, env={**os.environ, "MAGIC_HOUR_API_TOKEN": TOKEN})
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert found in output
    assert any(
        line.startswith(found.split("  ")[0]) and "FAIL" in line for line in run.stdout.splitlines()
    )
    assert "Reproduce (with MAGIC_HOUR_API_TOKEN set):" in output
    assert TOKEN not in output  # the token is never printed


def test_an_unreachable_url_is_one_line_and_exit_2() -> None:
    run = contract("--base-url", "http://127.0.0.1:9", "--token", "t")
    assert run.returncode == 2
    assert run.stderr.startswith("magic-hour contract: cannot reach http://127.0.0.1:9")
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_a_refused_token_is_one_line_and_exit_2() -> None:
    with broken_server("none") as url:
        run = contract(
            "--base-url", url, env={**os.environ, "MAGIC_HOUR_API_TOKEN": "not-the-token"}
        )
    assert run.returncode == 2
    assert run.stderr.strip() == f"magic-hour contract: {url} refused the token (401)"


def test_a_document_that_does_not_parse_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "api.yaml"
    broken.write_text("openapi: 3.0.3\npaths: [unclosed\n")
    run = contract("--document", str(broken), "--base-url", "http://127.0.0.1:9", "--token", "t")
    assert run.returncode == 2
    assert run.stderr.startswith(f"magic-hour contract: the document {broken} does not parse")
    assert "Traceback" not in run.stderr


def test_the_embedded_server_does_not_warn_of_the_malformed_requests_it_is_sent(
    capfd: pytest.CaptureFixture[str],
) -> None:
    import argparse
    import socket

    import httpx
    from magic_hour.cli._contract import _deployment

    with _deployment(argparse.Namespace(base_url=None, token=None)) as (url, _):
        address = httpx.URL(url)
        with socket.create_connection((address.host, address.port or 80), timeout=10) as raw:
            raw.sendall(b"GET /v1/face-detection/x HTTP/1.1\r\nHost: \x01bad\r\n\r\n")
            assert raw.recv(1024).startswith(b"HTTP/1.1 400")
    assert "Invalid HTTP request" not in capfd.readouterr().err
