"""Reads of a SQLite task database that never wait, for the event loop to make itself.

A request that only reads a task or an upload spent more on the thread hop around the
read than on the read: under load a task read cost ~0.6 ms of CPU across the event loop
and a worker thread, where the read itself is ~20 us of sqlite3. In WAL mode a reader
takes no lock that a writer holds: it reads the last committed snapshot beside the
writer. So the event loop reads directly, on a connection of its own whose busy timeout
is zero: in the rare case where SQLite would make a reader wait (recovery after a crash,
a checkpoint resetting the log), `Busy` is raised at once and the caller reads through
its thread instead. The statements are the store's own (`_statements`), compiled once.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite

from magic_hour_server.tasks import _statements as statements


class Busy(Exception):
    """This read cannot be answered without waiting (or failed here): make it where
    waiting is allowed, through the store's own engine, which also reports any error."""


def _compiled(statement: Any) -> str:
    return str(statement.compile(dialect=sqlite.dialect(paramstyle="named")))


_SELECT_TASK = _compiled(statements.SELECT_TASK)
_SELECT_FACES = _compiled(statements.SELECT_FACES)
_SELECT_ASSET = _compiled(statements.SELECT_ASSET)


def file_of(url: str) -> str | None:
    """The file of a `sqlite:///<file>` URL; None for another database or SQLite in memory."""
    database = sa.engine.make_url(url)
    if database.get_backend_name() != "sqlite" or database.database in (None, "", ":memory:"):
        return None
    return database.database


class SnapshotReader:
    """Reads of one SQLite file that raise `Busy` rather than wait; a connection per thread."""

    def __init__(self, path: str) -> None:
        self._path = path
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
                db.execute("PRAGMA query_only=ON")
                self._opened.append(db)
            self._local.db = db
        return db

    def task(self, task_id: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]] | None:
        """The task's row (`statements.TASK_COLUMNS`) and its faces' rows, from one
        snapshot; None when there is no such task."""
        db = self._connection()
        try:
            db.execute("BEGIN")
            try:
                row = db.execute(_SELECT_TASK, {"task_id": task_id}).fetchone()
                found = [] if row is None else db.execute(_SELECT_FACES, {"task_id": task_id})
                faces = list(found)
            finally:
                db.execute("COMMIT")
        except (sqlite3.OperationalError, sqlite3.ProgrammingError) as err:
            raise Busy(str(err)) from err
        return None if row is None else (row, faces)

    def asset(self, asset_id: str, name: str) -> tuple[Any, ...] | None:
        """The upload's row (`statements.SELECT_ASSET`), or None."""
        try:
            row: tuple[Any, ...] | None = (
                self._connection()
                .execute(_SELECT_ASSET, {"asset_id": asset_id, "asset_name": name})
                .fetchone()
            )
        except (sqlite3.OperationalError, sqlite3.ProgrammingError) as err:
            raise Busy(str(err)) from err
        return row

    def close(self) -> None:
        with self._lock:
            self._closed = True
            opened, self._opened = self._opened, []
        for db in opened:
            db.close()
