"""SQLite statements that never wait, for the event loop to run itself.

A request that reads a task or records an upload spent more CPU on the thread hop around
its database call than on the call: under load a hop cost ~0.6 ms across the event loop
and a worker thread, where the statement itself is ~20 us of sqlite3. On SQLite in WAL
mode a reader takes no lock a writer holds (it reads the last committed snapshot), a
commit does not wait for the disk (synchronous=NORMAL), and a short insert can take the
write lock whenever no worker is in the middle of its own transaction. So the event loop
runs such statements itself, on a connection of its own that never waits: its busy
timeout is zero and it leaves checkpoints (which do wait for the disk) to the store's
other connections, unless nothing else writes (`CHECKPOINT_PAGES`). When SQLite would
make it wait (another writer holds the lock, or recovery after a crash), or anything
else goes wrong, `Busy` is raised at once, nothing is written, and the caller makes the
same call in a thread, through the store's engine, which waits and reports errors as
usual. The statements are the store's own (`_statements`), compiled once.

Workers claim and finish their tasks through it too, each on its own connection (which
checkpoints the log as the engine's do, `WORKER_CHECKPOINT_PAGES`): there SQLAlchemy's
connection checkout, events and result handling cost three times the statements (a claim
175 against 50 us of CPU, a finish 170 against 46), and a worker that meets the write lock
makes the same call through the engine, which waits.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from magic_hour_server.tasks import _statements as statements
from magic_hour_server.tasks._database import SQLITE_PRAGMAS, faces

CHECKPOINT_PAGES = 10_000
"""The log size (pages) past which the event loop's connection checkpoints it itself."""
WORKER_CHECKPOINT_PAGES = 1000
"""SQLite's own: the workers' connections checkpoint as the engine's do (they may wait on
the disk; the event loop's connection leaves that to them)."""


class Busy(Exception):
    """This call cannot be made without waiting (or failed here), and changed nothing:
    make it where waiting is allowed, through the store's engine, which also reports any
    error."""


def _compiled(statement: Any, keys: list[str] | None = None) -> str:
    dialect = sqlite.dialect(paramstyle="named")
    return str(statement.compile(dialect=dialect, column_keys=keys))


def _with_constants(statement: Any) -> tuple[str, dict[str, Any]]:
    """The statement's SQL and the values it was built with (its statuses, its LIMIT),
    which run with it beside the caller's."""
    compiled = statement.compile(dialect=sqlite.dialect(paramstyle="named"))
    return str(compiled), dict(compiled.params)


_SELECT_TASK = _compiled(statements.SELECT_TASK)
_SELECT_FACES = _compiled(statements.SELECT_FACES)
_SELECT_TASK_BY_KEY = _compiled(statements.SELECT_TASK_BY_KEY)
_SELECT_ASSET = _compiled(statements.SELECT_ASSET)
_INSERT_TASK = _compiled(statements.INSERT_TASK, statements.NEW_TASK)
_INSERT_ASSET = _compiled(statements.INSERT_ASSET, statements.NEW_ASSET)
_MARK_UPLOADED = _compiled(statements.MARK_UPLOADED)
_CLAIMABLE = _with_constants(statements.CLAIMABLE)
_CLAIM = _with_constants(statements.CLAIM)
_DELETE_FACES = _compiled(statements.DELETE_FACES)
_COMPLETE_HELD = _with_constants(statements.COMPLETE_HELD)
_FAIL_HELD = _with_constants(statements.FAIL_HELD)
_UPSERT_FACE = _compiled(
    statements.upsert("sqlite", faces, statements.FACE_ROW, statements.FACE_KEY),
    statements.FACE_ROW,
)


def file_of(url: str) -> str | None:
    """The file of a `sqlite:///<file>` URL; None for another database or SQLite in memory."""
    database = sa.engine.make_url(url)
    if database.get_backend_name() != "sqlite" or database.database in (None, "", ":memory:"):
        return None
    return database.database


class AtOnce:
    """Statements on one SQLite file that raise `Busy` rather than wait; a connection per
    thread (in practice the event loop's)."""

    def __init__(self, path: str, *, checkpoint_pages: int | None = None) -> None:
        """`checkpoint_pages`: the log size past which a commit on these connections
        checkpoints it (default `CHECKPOINT_PAGES`)."""
        self._path = path
        self._checkpoint_pages = checkpoint_pages
        self._local = threading.local()
        self._lock = threading.Lock()
        self._opened: list[sqlite3.Connection] = []
        self._closed = False

    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            with self._lock:
                if self._closed:
                    raise Busy("the store is closed")
                db = sqlite3.connect(
                    self._path, timeout=0, isolation_level=None, check_same_thread=False
                )
                for pragma in SQLITE_PRAGMAS:  # as the store's own connections
                    db.execute(f"PRAGMA {pragma}")
                # Checkpoints wait on the disk: the event loop's connection leaves them to
                # the others (at SQLite's 1000 pages), unless nothing else writes and the
                # log grows ten times past that.
                pages = self._checkpoint_pages or CHECKPOINT_PAGES
                db.execute(f"PRAGMA wal_autocheckpoint={pages}")
                self._opened.append(db)
            self._local.db = db
        return db

    @contextmanager
    def _transaction(self, begin: str) -> Iterator[sqlite3.Connection]:
        """A transaction that is committed whole, or rolled back with `Busy` raised (an
        IntegrityError is rolled back and raised as it is)."""
        try:
            db = self._connection()
            db.execute(begin)
        except (sqlite3.OperationalError, sqlite3.ProgrammingError) as err:
            raise Busy(str(err)) from err
        try:
            yield db
            db.execute("COMMIT")
        except BaseException as err:
            # Already rolled back by SQLite, or the connection is gone: nothing to undo.
            with suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(err, sqlite3.OperationalError | sqlite3.ProgrammingError):
                raise Busy(str(err)) from err
            raise

    def task(self, task_id: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]] | None:
        """The task's row (`statements.TASK_COLUMNS`) and its faces' rows, from one
        snapshot; None when there is no such task."""
        with self._transaction("BEGIN") as db:
            row = db.execute(_SELECT_TASK, {"task_id": task_id}).fetchone()
            faces = [] if row is None else db.execute(_SELECT_FACES, {"task_id": task_id})
            faces = list(faces)
        return None if row is None else (row, faces)

    def task_for_key(self, owner: str, key: str) -> str | None:
        """The id of the task `owner` created with idempotency key `key`, if any."""
        with self._transaction("BEGIN") as db:
            row = db.execute(_SELECT_TASK_BY_KEY, {"owner": owner, "key": key}).fetchone()
        return None if row is None else str(row[0])

    def asset(self, asset_id: str, name: str) -> tuple[Any, ...] | None:
        """The upload's row (`statements.SELECT_ASSET`), or None."""
        with self._transaction("BEGIN") as db:
            params = {"asset_id": asset_id, "asset_name": name}
            row: tuple[Any, ...] | None = db.execute(_SELECT_ASSET, params).fetchone()
        return row

    def insert_task(self, values: dict[str, Any]) -> None:
        """Insert a task (`statements.NEW_TASK` keys); IntegrityError for a key in use."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute(_INSERT_TASK, values)

    def insert_asset(self, values: dict[str, Any]) -> None:
        """Insert an upload (`statements.NEW_ASSET` keys)."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute(_INSERT_ASSET, values)

    def mark_uploaded(self, values: dict[str, Any]) -> None:
        """Record that an upload's file is in place (`values`: asset_id, at, asset_size)."""
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.execute(_MARK_UPLOADED, values)

    def claim(self, worker: str, lease: float, now: float) -> tuple[Any, ...] | None:
        """`Store.claim_next`'s transaction: the claimed task's row as it was
        (`statements.TASK_COLUMNS`), its partial faces deleted if it was taken over from
        a dead worker; None when no task is waiting."""
        sql, constants = _CLAIMABLE
        with self._transaction("BEGIN IMMEDIATE") as db:
            row: tuple[Any, ...] | None = db.execute(sql, {**constants, "now": now}).fetchone()
            if row is None:
                return None
            if row[2] == "rendering":
                db.execute(_DELETE_FACES, {"task_id": row[0]})
            sql, constants = _CLAIM
            values = {"task_id": row[0], "at": now, "claimer": worker, "until": now + lease}
            db.execute(sql, {**constants, **values})
        return row

    def finish_held(
        self, values: dict[str, Any], face_rows: list[dict[str, Any]], *, complete: bool
    ) -> bool:
        """`Store.finish`'s transaction for a worker ending its own task (`values`: task_id,
        claimer, message, at), its faces stored with it; False, nothing written, when the
        worker no longer holds the task."""
        sql, constants = _COMPLETE_HELD if complete else _FAIL_HELD
        with self._transaction("BEGIN IMMEDIATE") as db:
            held = db.execute(sql, {**constants, **values}).rowcount > 0
            if held and face_rows:
                db.executemany(_UPSERT_FACE, face_rows)
        return held

    def close(self) -> None:
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
