"""The database behind the task store: SQLite in the data directory (the default) or
PostgreSQL, through SQLAlchemy Core, its schema kept by Alembic migrations.

Alembic because the queries are SQLAlchemy Core already: one tool knows both dialects,
keeps a version table, and can alter SQLite tables (batch mode). A database made before
migrations existed (the baseline schema, no version table) is stamped as revision 0001
and upgraded from there.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON")
"""Set on every SQLite connection: readers beside the writer, commits that do not wait
for the disk (WAL with synchronous=NORMAL: durable at the next checkpoint), and foreign
keys."""
READ_ONLY = "magic_hour_read_only"
"""An execution option: this connection's transactions only read (`Store._reading`)."""


class DatabaseError(RuntimeError):
    """The database cannot be used: unreachable, or at a schema this code does not run."""


metadata = sa.MetaData()
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("error_message", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.Text),
    sa.Column("lease_until", sa.Float),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("idempotency_key", sa.Text),
    sa.Index("tasks_owner_idempotency_key", "owner", "idempotency_key", unique=True),
)
faces = sa.Table(
    "faces",
    metadata,
    sa.Column("task_id", sa.Text, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("frame", sa.Integer, nullable=False),
    sa.Column("idx", sa.Integer, nullable=False),
    sa.Column("x", sa.Integer, nullable=False),
    sa.Column("y", sa.Integer, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("frame_time", sa.Float),
    sa.PrimaryKeyConstraint("task_id", "frame", "idx"),
)
assets = sa.Table(
    "assets",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("owner", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("uploaded_at", sa.Float),
    sa.Column("size", sa.Integer),
)


def engine_for(url: str) -> sa.Engine:
    """An engine for `url`: `sqlite:///path` or `postgresql://...` (psycopg 3)."""
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 5})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # transactions are begun below, IMMEDIATE
            for pragma in SQLITE_PRAGMAS:
                dbapi.execute(f"PRAGMA {pragma}")
            dbapi.execute("PRAGMA busy_timeout=5000")

        @sa.event.listens_for(engine, "begin")
        def _begin(connection: Any) -> None:
            # Writers take the write lock at once: two never deadlock upgrading a read lock.
            # Readers take none: in WAL mode they read a snapshot beside the writer, instead
            # of queueing behind every worker's write (and SQLite's busy-wait sleeps).
            if connection.get_execution_options().get(READ_ONLY):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True)


log = logging.getLogger(__name__)


def _alembic(connection: sa.Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    config = _alembic(None)  # type: ignore[arg-type]
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


def current_revision(connection: sa.Connection) -> str | None:
    from alembic.migration import MigrationContext

    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def prepare(engine: sa.Engine, *, migrate: bool) -> None:
    """Bring the schema to this code's revision (`migrate`), or check that it is there."""
    from alembic import command

    head = head_revision()
    try:
        with engine.begin() as connection:
            revision = current_revision(connection)
            tables = set(sa.inspect(connection).get_table_names())
            known = {path.stem.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("0*.py")}
            if revision is not None and revision not in known:
                raise DatabaseError(
                    f"the database is at schema revision {revision}, newer than this server "
                    f"knows ({head}): upgrade magic-hour-face-detection"
                )
            if revision == head:
                return
            if not migrate:
                raise DatabaseError(
                    f"the database is at schema revision {revision or 'none'}, this server "
                    f"needs {head}: start a process with --role api or all, which migrates it"
                )
            config = _alembic(connection)
            if revision is None and "tasks" in tables:
                command.stamp(config, "0001")  # made before migrations existed
            command.upgrade(config, "head")
            log.info("database schema migrated from revision %s to %s", revision or "none", head)
    except sa.exc.OperationalError as err:
        raise DatabaseError(f"cannot reach the database: {err.orig}") from err


def database_went_away(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database server cannot be reached (a
    restart, a crash, a failover), as opposed to a mistake in a query or a full SQLite
    disk."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa.exc.OperationalError | sa.exc.InterfaceError) and not (
            isinstance(current.orig, sqlite3.Error)
        ):
            return True
        if isinstance(current, sa.exc.PendingRollbackError):
            return True  # a connection lost mid-transaction, not yet rolled back
        current = current.__cause__ or current.__context__
    return False


def claim_directory(data_dir: Path, identity: str) -> None:
    """Mark `data_dir` as the files of the cluster on database `identity`; DatabaseError when
    another cluster's database marked it first (two clusters must not share files)."""
    import json

    marker = data_dir / "cluster.json"
    try:
        known = json.loads(marker.read_text(encoding="utf-8")).get("database")
    except FileNotFoundError:
        known = None
    except (OSError, ValueError) as err:
        raise DatabaseError(f"{marker} cannot be read: {err}") from err
    if known is None:
        temporary = marker.with_suffix(".tmp")
        temporary.write_text(json.dumps({"database": identity}), encoding="utf-8")
        temporary.replace(marker)
    elif known != identity and not (known.startswith("sqlite") and identity.startswith("sqlite")):
        raise DatabaseError(
            f"the data directory {data_dir} belongs to the cluster on {known}, not {identity}: "
            "give each cluster its own directory"
        )
