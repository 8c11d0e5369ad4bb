"""Secrets never on a command line nor in the server's output: API keys from the
environment or a file, the database URL from the environment, shown without password."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx
import pytest
from magic_hour_server._secrets import (
    SecretsError,
    redact_url,
    resolve_database,
    resolve_tokens,
    scrub,
)

from tests.server.conftest import wait_until_serving
from tests.server.test_cli import COMMAND, _free_port

PASSWORD = "s3cret-Pa55word"


def test_tokens_from_the_environment_a_file_or_the_flag_which_wins(tmp_path: Path) -> None:
    env = {"MAGIC_HOUR_SERVER_TOKENS": " a-1 , b-2 ,"}
    assert resolve_tokens(None, None, env) == (["a-1", "b-2"], [])
    assert resolve_tokens(None, None, {}) == ([], [])
    file = tmp_path / "tokens"
    file.write_text("f-1\nf-2\n\n")
    file.chmod(0o600)
    tokens, notes = resolve_tokens(["c-3"], file, env)
    assert tokens == ["c-3", "f-1", "f-2"]
    assert notes == ["--token/--token-file given: MAGIC_HOUR_SERVER_TOKENS is ignored"]
    file.chmod(0o644)
    _, notes = resolve_tokens(None, file, {})
    assert notes == [f"warning: --token-file {file} is readable by every user on this "
                     f"machine (chmod 600 {file})"]  # fmt: skip


@pytest.mark.parametrize(("content", "message"), [(None, "no such file"), ("\n \n", "is empty")])
def test_a_token_file_missing_or_empty_is_an_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    file = tmp_path / "tokens"
    if content is not None:
        file.write_text(content)
    with pytest.raises(SecretsError, match=message):
        resolve_tokens(None, file, {})


def test_the_database_url_from_the_environment_and_never_with_its_password() -> None:
    url = f"postgresql://mh:{PASSWORD}@db.internal:5432/tasks"
    assert resolve_database(None, {"MAGIC_HOUR_DATABASE_URL": url}) == (url, [])
    assert resolve_database("postgresql://x@y/z", {"MAGIC_HOUR_DATABASE_URL": url})[1] == [
        "--database given: MAGIC_HOUR_DATABASE_URL is ignored"
    ]
    assert redact_url(url) == "postgresql://mh:***@db.internal:5432/tasks"
    assert PASSWORD not in scrub(f"cannot log in with {PASSWORD} as mh", url)
    with pytest.raises(SecretsError) as caught:
        resolve_database(f"not a url {PASSWORD}", {})
    assert PASSWORD not in str(caught.value)


def serve(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MAGIC_HOUR_")}
    return subprocess.Popen(
        [*COMMAND, "serve", "--data-dir", str(tmp_path / "data"), *args],
        env={**clean, **env}, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_serve_takes_its_keys_from_the_environment_alone(tmp_path: Path) -> None:
    keys = ["env-key-0123456789", "env-key-abcdefghij"]
    port = _free_port()
    process = serve("--port", str(port), env={"MAGIC_HOUR_SERVER_TOKENS": ",".join(keys)},
                    tmp_path=tmp_path)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process)
        for key in keys:
            headers = {"Authorization": f"Bearer {key}"}
            assert httpx.get(f"{url}/v1/face-detection/x", headers=headers).status_code == 404
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode()
        assert not any(key in command_line for key in keys)
        assert not (tmp_path / "data" / "generated-api-key").exists()
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
    assert not any(key in out + err for key in keys)


def test_a_database_that_cannot_be_reached_is_named_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://mh:{PASSWORD}@127.0.0.1:9/tasks"
    process = serve("--role", "api", env={"MAGIC_HOUR_DATABASE_URL": url}, tmp_path=tmp_path)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot reach the database" in err
    assert PASSWORD not in out + err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--token-file", "/nonexistent/tokens"], "--token-file /nonexistent/tokens: no such file"),
        (
            ["--database", f"::{PASSWORD}::"],
            "the database URL does not parse: expected postgresql://user[:password]@host/db",
        ),
    ],
)
def test_bad_secrets_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    process = serve(*args, env={}, tmp_path=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip() == f"magic-hour serve: {message}"
    assert PASSWORD not in err
