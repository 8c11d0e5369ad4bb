"""Where the server's secrets come from: API keys and the database URL, read from the
environment or a file so that they never appear on a command line (every process list
shows those), and the database URL shown only without its password."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

__all__ = [
    "DATABASE_ENV",
    "TOKENS_ENV",
    "SecretsError",
    "redact_url",
    "resolve_database",
    "resolve_tokens",
]

TOKENS_ENV = "MAGIC_HOUR_SERVER_TOKENS"
DATABASE_ENV = "MAGIC_HOUR_DATABASE_URL"


class SecretsError(ValueError):
    """A secret that cannot be used; the message is one line and shows no secret."""


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def read_token_file(path: Path) -> tuple[list[str], list[str]]:
    """The API keys in `path` (one a line, or comma-separated), and warnings."""
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SecretsError(f"--token-file {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SecretsError(f"--token-file {path}: cannot be read ({type(err).__name__})") from None
    tokens = _split(text)
    if not tokens:
        raise SecretsError(f"--token-file {path} is empty: write one API key a line")
    warnings = []
    if mode & stat.S_IROTH:
        warnings.append(
            f"warning: --token-file {path} is readable by every user on this machine "
            f"(chmod 600 {path})"
        )
    return tokens, warnings


def resolve_tokens(
    flag_tokens: list[str] | None, token_file: Path | None, environ: Mapping[str, str]
) -> tuple[list[str], list[str]]:
    """The accepted API keys, and what to say about where they came from: `--token` and
    `--token-file` (either wins over the environment, said once), else
    MAGIC_HOUR_SERVER_TOKENS; an empty list means "make one"."""
    notes: list[str] = []
    tokens = list(flag_tokens or [])
    if token_file is not None:
        from_file, warnings = read_token_file(token_file)
        tokens += from_file
        notes += warnings
    from_env = _split(environ.get(TOKENS_ENV, ""))
    if tokens:
        if from_env:
            notes.append(f"--token/--token-file given: {TOKENS_ENV} is ignored")
        return tokens, notes
    return from_env, notes


def resolve_database(flag: str | None, environ: Mapping[str, str]) -> tuple[str | None, list[str]]:
    """The database URL: `--database`, else MAGIC_HOUR_DATABASE_URL; checked to parse."""
    from_env = environ.get(DATABASE_ENV, "").strip() or None
    notes = []
    if flag and from_env:
        notes.append(f"--database given: {DATABASE_ENV} is ignored")
    url = flag or from_env
    if url is not None:
        redact_url(url)  # raises, without the password, when it does not parse
    return url, notes


def redact_url(url: str) -> str:
    """`url` with its password replaced by ***; SecretsError when it is not a URL."""
    import sqlalchemy as sa

    try:
        parsed = sa.engine.make_url(url)
    except (sa.exc.ArgumentError, ValueError):
        raise SecretsError(
            "the database URL does not parse: expected postgresql://user[:password]@host/db"
        ) from None
    return parsed.render_as_string(hide_password=True)


def scrub(text: str, url: str | None) -> str:
    """`text` without the password of `url`, wherever it appears."""
    if not url:
        return text
    import sqlalchemy as sa

    try:
        password = sa.engine.make_url(url).password
    except (sa.exc.ArgumentError, ValueError):
        return text
    return text.replace(str(password), "***") if password else text


def is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def write_generated_token(data_dir: Path, token: str) -> Path:
    """Save a generated API key where only this user can read it; its path."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "generated-api-key"
    temporary = path.with_name(".generated-api-key.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    temporary.replace(path)
    return path
