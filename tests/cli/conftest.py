"""Real inputs for the command line's tests, made by the demo's own sample script."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAGIC_HOUR = Path(sys.executable).with_name("magic-hour")


def make_samples(directory: Path) -> Path:
    """The demo's samples in `directory`: astronaut.png (1 face), group.jpg (5 faces),
    two-people.mp4 (2 people)."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo_samples.py"), str(directory)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return directory


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """astronaut.png (1 face), group.jpg (5 faces), two-people.mp4 (2 people)."""
    return make_samples(tmp_path_factory.mktemp("samples"))


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Magic Hour setting, so the embedded server is used."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAGIC_HOUR_")}
    env.pop("TERM", None)
    env.update(extra)
    return env


def run_cli(
    *args: str | Path, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAGIC_HOUR), *map(str, args)],
        capture_output=True,
        text=True,
        env=clean_env() if env is None else env,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def local_server() -> Iterator[tuple[str, str]]:
    """A local server started by the test, for the `--base-url` (remote) path."""
    from magic_hour_server import LocalServer

    with LocalServer() as server:
        yield server.url, server.token
