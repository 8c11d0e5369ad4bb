"""Fixtures every test folder may use. Nothing here imports more than pytest: the SDK's
unit tests run with the base install and the test tools alone (`make test-lowest`)."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.cluster.postgres import Postgres

if importlib.util.find_spec("PIL") is not None:
    # Before any test reads an image: the server must read HEIC through its own pi-heif.
    from benchmarks._photos import keep_pillow_heif_out

    keep_pillow_heif_out()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """A real PostgreSQL server, started on first use (the dev tools' pgserver)."""
    from tests.cluster.postgres import postgres_server

    with postgres_server() as running:
        yield running


@pytest.fixture(scope="session", autouse=True)
def nothing_written_into_the_checkout() -> Iterator[None]:
    """A test that downloads faces into the working directory (the SDK's default) would
    litter the checkout: every run ends by checking that its top level gained no file."""
    root = Path(__file__).resolve().parents[1]
    before = {path.name for path in root.iterdir() if path.is_file()}
    yield
    after = {path.name for path in root.iterdir() if path.is_file()}
    written = sorted(after - before - {"bench-results.json"})
    assert not written, f"tests wrote into {root}: {written}"
