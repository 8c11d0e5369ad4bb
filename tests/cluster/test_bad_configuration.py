"""A misconfigured cluster process says what is wrong in one line and exits 2, before it
serves or detects anything."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa
from magic_hour_server.tasks._database import _alembic, engine_for, prepare

from tests.cli.conftest import clean_env
from tests.cluster.postgres import Postgres
from tests.faults._process import free_port, magic_hour_command

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def serve(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    command = [*magic_hour_command(), "serve", "--port", str(free_port())]
    return subprocess.run(
        [*command, *map(str, arguments)],
        capture_output=True,
        text=True,
        env=clean_env(MAGIC_HOUR_SERVER_TOKENS="t-0123"),
        timeout=90,
    )


def one_clear_line(result: subprocess.CompletedProcess[str], words: str) -> str:
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("magic-hour serve:")]
    assert len(lines) == 1 and words in lines[0], result.stderr
    return lines[0]


def test_an_unreachable_database(tmp_path: Path) -> None:
    database = "postgresql://postgres@127.0.0.1:9/tasks?connect_timeout=5"
    result = serve("--role", "api", "--database", database, "--data-dir", tmp_path)
    one_clear_line(result, "cannot reach the database")


def test_a_worker_on_a_database_older_than_its_code(postgres: Postgres, tmp_path: Path) -> None:
    database = postgres.new_database()
    engine = engine_for(database)
    with engine.begin() as connection:
        from alembic import command

        command.upgrade(_alembic(connection), "0001")  # what an older release left
    engine.dispose()
    result = serve("--role", "worker", "--database", database, "--data-dir", tmp_path)
    line = one_clear_line(result, "schema revision 0001")
    assert "--role api or all" in line
    with engine_for(database).connect() as connection:  # the worker changed nothing
        assert "lease_owner" not in {c["name"] for c in sa.inspect(connection).get_columns("tasks")}


@pytest.mark.parametrize("role", ["api", "worker"])
def test_a_cluster_process_without_a_shared_directory(role: str) -> None:
    result = serve("--role", role, "--database", "postgresql://postgres@127.0.0.1:9/tasks")
    one_clear_line(result, "needs --data-dir")


def test_two_clusters_pointed_at_one_directory(postgres: Postgres, tmp_path: Path) -> None:
    first, second = postgres.new_database(), postgres.new_database()
    engine = engine_for(first)
    prepare(engine, migrate=True)  # as the first cluster's API process did
    engine.dispose()
    # The first cluster's worker marks the directory as its own, then stops.
    worker = subprocess.Popen(
        [*magic_hour_command(), "serve", "--role", "worker", "--database", first,
         "--data-dir", str(tmp_path)],
        stderr=subprocess.PIPE, text=True, env=clean_env(),
    )  # fmt: skip
    assert worker.stderr is not None
    for line in worker.stderr:
        if "Magic Hour worker started" in line:
            break
    worker.terminate()
    assert worker.wait(30) == 0
    assert (tmp_path / "cluster.json").exists()
    result = serve("--role", "api", "--database", second, "--data-dir", tmp_path)
    one_clear_line(result, "give each cluster its own directory")


def test_a_database_newer_than_the_code(postgres: Postgres, tmp_path: Path) -> None:
    database = postgres.new_database()
    engine = engine_for(database)
    prepare(engine, migrate=True)
    with engine.begin() as connection:  # as a later release would leave it
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    result = serve("--role", "api", "--database", database, "--data-dir", tmp_path)
    one_clear_line(result, "newer than this server knows")
