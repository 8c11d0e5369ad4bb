"""`magic-hour contract`: test a deployment of the API against the document this package
ships, with schemathesis (the `contract` extra) and a few checks of our own.

Without `--base-url` it tests a local server started for the run (the `server` extra).
It is safe against the hosted API: it calls only the document's operations, starts a few
detections on one small image it uploads first, deletes nothing, and never prints the
token (reproducing commands read it from `$MAGIC_HOUR_API_TOKEN`).
"""

from __future__ import annotations

import argparse
import base64
import importlib.util
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

__all__ = ["add_contract_arguments", "run_contract"]

CONTRACT_EXTRA = "pip install 'magic-hour-face-detection[contract]'"
SERVER_EXTRA = "pip install 'magic-hour-face-detection[server]'"
# A 1x1 PNG: the input of the few detections the run starts.
_PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
)
_CHECK = re.compile(r"^- ([A-Z]+\d+|\w+) (.+)$", re.MULTILINE)
_CURL = re.compile(r"^\s*(curl .+)$", re.MULTILINE)


class ContractSetupError(Exception):
    """Bad input to the command: said in one line, exit code 2."""


@dataclass
class Row:
    """One operation (or one of our checks) and what failed on it."""

    name: str
    failures: list[str] = field(default_factory=list)  # check names
    reproduce: list[str] = field(default_factory=list)  # curl commands


def add_contract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--base-url",
        help="the deployment to test (default: a local server started for the run)",
    )
    parser.add_argument(
        "--token",
        help="its API token (default: $MAGIC_HOUR_API_TOKEN, which keeps it out of process "
        "lists; never printed)",
    )
    parser.add_argument(
        "--max-examples",
        type=int,
        default=20,
        help="generated requests per operation and phase (default 20)",
    )
    parser.add_argument("--junit-xml", type=Path, help="also write the results as JUnit XML")
    parser.add_argument("--document", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=20240725, help=argparse.SUPPRESS)


def run_contract(args: argparse.Namespace) -> int:
    """0 when the deployment keeps the contract, 1 when it does not, 2 on bad input."""
    if importlib.util.find_spec("schemathesis") is None:
        print(
            f"magic-hour contract needs the contract extra:\n    {CONTRACT_EXTRA}", file=sys.stderr
        )
        return 2
    token = ""
    try:
        document = _document(args.document)
        with _deployment(args) as (base_url, token):
            rows = _run(args, document, base_url, token)
    except ContractSetupError as err:
        print(f"magic-hour contract: {_redact(str(err), token)}", file=sys.stderr)
        return 2
    print(_redact(_table(rows), token))
    if args.junit_xml is not None:
        _write_junit(args.junit_xml, rows, token)
    failed = sum(len(row.failures) for row in rows)
    print(f"\n{'FAILED' if failed else 'OK'}: {failed} failed check(s) on {base_url}")
    return 1 if failed else 0


def _document(path: Path | None) -> Path:
    source = path or Path(str(resources.files("magic_hour").joinpath("openapi.yaml")))
    try:
        import yaml

        loaded = yaml.safe_load(source.read_text(encoding="utf-8"))
    except OSError as err:
        raise ContractSetupError(f"cannot read the document {source}: {err}") from err
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        raise ContractSetupError(f"the document {source} does not parse ({where})") from err
    if not isinstance(loaded, dict) or "paths" not in loaded:
        raise ContractSetupError(f"the document {source} is not an OpenAPI document")
    return source


@contextmanager
def _deployment(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.base_url:
        token = args.token or os.environ.get("MAGIC_HOUR_API_TOKEN", "")
        if not token:
            raise ContractSetupError("no token: pass --token or set MAGIC_HOUR_API_TOKEN")
        base_url = args.base_url.rstrip("/")
        _probe(base_url, token)
        yield base_url, token
        return
    try:
        from magic_hour_server import LocalServer
    except ImportError as err:
        raise ContractSetupError(
            f"testing a local server needs the server extra ({SERVER_EXTRA}), or pass --base-url"
        ) from err
    import logging

    uvicorn_log = logging.getLogger("uvicorn.error")
    with LocalServer(workers=1) as server:
        # Malformed requests are part of the test; the server need not warn of each one.
        # (Set once it runs: uvicorn sets its loggers' levels as it starts.)
        level = uvicorn_log.level
        uvicorn_log.setLevel(logging.ERROR)
        try:
            yield server.url, server.token
        finally:
            uvicorn_log.setLevel(level)


def _probe(base_url: str, token: str) -> None:
    """Say at once when the deployment cannot be reached or refuses the token."""
    url = f"{base_url}/v1/face-detection/contract-probe-{secrets.token_hex(4)}"
    try:
        reply = httpx.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=15)
    except httpx.HTTPError as err:
        raise ContractSetupError(f"cannot reach {base_url}: {type(err).__name__}: {err}") from err
    if reply.status_code in (401, 403):
        raise ContractSetupError(f"{base_url} refused the token ({reply.status_code})")


def _run(args: argparse.Namespace, document: Path, base_url: str, token: str) -> list[Row]:
    target = _upload(base_url, token)
    rows = _own_checks(base_url, token, target)
    with tempfile.TemporaryDirectory(prefix="magic-hour-contract-") as work:
        junit = Path(work) / "junit.xml"
        config = Path(str(resources.files("magic_hour.cli").joinpath("contract.toml")))
        command = [
            _schemathesis(),
            "--config-file",
            str(config),
            "run",
            "--no-color",  # here, not before `run`: schemathesis 4.0 takes it only here
            str(document),
            "--url",
            base_url,
            "--checks",
            "all",
            "--mode",
            "all",
            "--max-examples",
            str(args.max_examples),
            "--seed",
            str(args.seed),
            "--request-timeout",
            "30",
            "--report",
            "junit",
            "--report-junit-path",
            str(junit),
        ]
        env = {
            **os.environ,
            "MAGIC_HOUR_CONTRACT_TOKEN": token,
            "MAGIC_HOUR_CONTRACT_TARGET": target,
        }
        run = subprocess.run(
            command, cwd=work, env=env, capture_output=True, text=True, check=False
        )
        if not junit.is_file():
            tail = _redact((run.stdout + run.stderr).strip().splitlines()[-1:][0:1] or [""], token)
            raise ContractSetupError(f"schemathesis did not run: {tail}")
        rows = _schemathesis_rows(junit) + rows
    return rows


def _schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    return found or "schemathesis"


def _upload(base_url: str, token: str) -> str:
    from .. import Client

    try:
        with (
            Client(token=token, base_url=base_url, max_retries=1) as client,
            tempfile.TemporaryDirectory() as work,
        ):
            image = Path(work) / "contract.png"
            image.write_bytes(_PIXEL)
            return str(client.v1.files.upload_file(image))
    except Exception as err:  # any failure here means the run cannot start
        raise ContractSetupError(f"cannot upload the test image: {err}") from err


def _own_checks(base_url: str, token: str, target: str) -> list[Row]:
    """Authentication, documented error bodies and the create -> get link."""
    good = {"Authorization": f"Bearer {token}"}
    wrong = {"Authorization": "Bearer magic-hour-contract-wrong-token"}
    unknown = f"/v1/face-detection/contract-{secrets.token_hex(4)}"
    checks: list[tuple[str, str, str, dict[str, str], Any, Callable[[httpx.Response], str | None]]]
    checks = [
        ("GET without a token", "GET", unknown, {}, None, _error(401)),
        ("GET with a wrong token", "GET", unknown, wrong, None, _error(401)),
        ("POST without a token", "POST", "/v1/face-detection", {}, {"assets": {}}, _error(401)),
        ("GET an unknown task", "GET", unknown, good, None, _error(404)),
        (
            "POST an invalid body",
            "POST",
            "/v1/face-detection",
            good,
            {"assets": {}},
            _error(400, 422),
        ),
    ]
    rows = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for name, method, path, headers, body, check in checks:
            reply = http.request(method, path, headers=headers, json=body)
            rows.append(_row(name, check(reply), method, base_url + path, headers, body))
        rows.append(_link(http, base_url, good, target))
    return rows


def _error(*statuses: int) -> Callable[[httpx.Response], str | None]:
    def check(reply: httpx.Response) -> str | None:
        if reply.status_code not in statuses:
            return f"status {reply.status_code}, expected {' or '.join(map(str, statuses))}"
        try:
            body = reply.json()
        except ValueError:
            return "the error body is not JSON"
        if not isinstance(body, dict) or not isinstance(body.get("message"), str):
            return "the error body has no `message`"
        return None

    return check


def _link(http: httpx.Client, base_url: str, headers: dict[str, str], target: str) -> Row:
    body = {"assets": {"target_file_path": target}, "confidence_score": 0.5}
    created = http.post("/v1/face-detection", headers=headers, json=body)
    problem = None
    path = "/v1/face-detection"
    if created.status_code != 200 or not isinstance(created.json().get("id"), str):
        problem = f"create answered {created.status_code} without an id"
    else:
        path = f"/v1/face-detection/{created.json()['id']}"
        task = http.get(path, headers=headers)
        statuses = {"queued", "rendering", "complete", "error"}
        if task.status_code != 200:
            problem = f"get of the created task answered {task.status_code}"
        elif task.json().get("id") != created.json()["id"]:
            problem = "get returned another task's id"
        elif task.json().get("status") not in statuses:
            problem = f"unexpected status {task.json().get('status')!r}"
        return _row("create -> get link", problem, "GET", base_url + path, headers, None)
    return _row("create -> get link", problem, "POST", base_url + path, headers, body)


def _row(
    name: str, problem: str | None, method: str, url: str, headers: dict[str, str], body: Any
) -> Row:
    row = Row(name)
    if problem is not None:
        row.failures.append(problem)
        parts = ["curl", "-X", method]
        if "Authorization" in headers:
            parts += ["-H", "'Authorization: [Filtered]'"]
        if body is not None:
            import json

            parts += ["-H", "'Content-Type: application/json'", "-d", f"'{json.dumps(body)}'"]
        row.reproduce.append(" ".join([*parts, url]))
    return row


def _schemathesis_rows(junit: Path) -> list[Row]:
    rows = []
    # The report schemathesis just wrote in our own temporary directory.
    for case in ET.parse(junit).getroot().iter("testcase"):  # noqa: S314
        row = Row(case.get("name", "?"))
        for failure in [*case.iter("failure"), *case.iter("error")]:
            text = failure.text or failure.get("message") or ""
            row.failures += [f"{code} {title.strip()}" for code, title in _CHECK.findall(text)]
            if not _CHECK.findall(text):
                row.failures.append(failure.get("message", "error"))
            row.reproduce += _CURL.findall(text)
        rows.append(row)
    return rows


def _table(rows: list[Row]) -> str:
    width = max(len(row.name) for row in rows)
    lines = [f"{'operation / check'.ljust(width)}  result"]
    lines.append("-" * (width + 2 + 40))
    for row in rows:
        result = "ok" if not row.failures else "FAIL: " + "; ".join(sorted(set(row.failures)))
        lines.append(f"{row.name.ljust(width)}  {result}")
    reproduce = [command for row in rows for command in row.reproduce]
    if reproduce:
        lines.append("\nReproduce (with MAGIC_HOUR_API_TOKEN set):")
        lines += [f"  {_with_token_variable(command)}" for command in dict.fromkeys(reproduce)]
    return "\n".join(lines)


def _with_token_variable(command: str) -> str:
    return command.replace(
        "'Authorization: [Filtered]'", '"Authorization: Bearer $MAGIC_HOUR_API_TOKEN"'
    )


def _redact(text: str | list[str], token: str) -> str:
    joined = text if isinstance(text, str) else " ".join(text)
    return joined.replace(token, "[token]") if token else joined


def _write_junit(path: Path, rows: list[Row], token: str) -> None:
    suite = ET.Element("testsuite", name="magic-hour contract", tests=str(len(rows)))
    suite.set("failures", str(sum(1 for row in rows if row.failures)))
    for row in rows:
        case = ET.SubElement(suite, "testcase", name=row.name)
        if row.failures:
            failure = ET.SubElement(case, "failure", message="; ".join(row.failures))
            failure.text = _redact("\n".join(map(_with_token_variable, row.reproduce)), token)
    tree = ET.ElementTree(suite)
    tree.write(path, encoding="utf-8", xml_declaration=True)
