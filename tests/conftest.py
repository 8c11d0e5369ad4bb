"""Fixtures every test folder may use: a real PostgreSQL server (started on first use)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cluster.postgres import Postgres, postgres_server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as running:
        yield running
