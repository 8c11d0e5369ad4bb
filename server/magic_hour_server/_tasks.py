"""Task, face and upload records in SQLite (WAL), shared by the API and the workers."""

from __future__ import annotations

import base64
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    target TEXT NOT NULL,
    threshold REAL NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    error_message TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, created_at);
CREATE TABLE IF NOT EXISTS faces (
    task_id TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    frame INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    x INTEGER NOT NULL, y INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    score REAL NOT NULL,
    frame_time REAL,
    PRIMARY KEY (task_id, frame, idx)
);
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at REAL NOT NULL,
    uploaded_at REAL,
    size INTEGER
);
"""


def new_id() -> str:
    """A random, URL- and file-name-safe id (24 lower-case letters and digits)."""
    return base64.b32encode(secrets.token_bytes(15)).decode().lower()


@dataclass(frozen=True)
class Face:
    frame: int
    index: int
    box: tuple[int, int, int, int]
    score: float
    frame_time: float | None

    @property
    def name(self) -> str:
        return f"{self.frame}-{self.index}.png"


@dataclass(frozen=True)
class Task:
    id: str
    owner: str
    status: str
    target: str
    threshold: float
    progress: float
    error_message: str | None
    created_at: float
    faces: list[Face] = field(default_factory=list)


@dataclass(frozen=True)
class Asset:
    id: str
    owner: str
    name: str
    uploaded: bool


class Store:
    """One SQLite connection behind a lock: every statement here takes well under a millisecond."""

    def __init__(self, path: Path, on_change: Callable[[str], None] | None = None) -> None:
        """`on_change(task_id)` is called after each committed change to a task's status,
        progress or faces (from the thread that made it)."""
        self._on_change = on_change or (lambda _task_id: None)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # Tasks

    def create_task(self, owner: str, target: str, threshold: float) -> str:
        task_id, now = new_id(), time.time()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO tasks (id, owner, status, target, threshold, created_at, updated_at)"
                " VALUES (?, ?, 'queued', ?, ?, ?, ?)",
                (task_id, owner, target, threshold, now, now),
            )
        return task_id

    def get_task(self, task_id: str) -> Task | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, owner, status, target, threshold, progress, error_message, created_at"
                " FROM tasks WHERE id = ?",
                (task_id,),
            ).fetchone()
            if row is None:
                return None
            faces = [
                Face(frame, idx, (x, y, w, h), score, frame_time)
                for frame, idx, x, y, w, h, score, frame_time in self._db.execute(
                    "SELECT frame, idx, x, y, width, height, score, frame_time FROM faces"
                    " WHERE task_id = ? ORDER BY rowid",
                    (task_id,),
                )
            ]
        task_id, owner, status, target, threshold, progress, error_message, created_at = row
        return Task(
            task_id, owner, status, target, threshold, progress, error_message, created_at, faces
        )

    def claim_next(self) -> Task | None:
        """The oldest queued task, now `rendering`; None when none is waiting."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT id FROM tasks WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE tasks SET status = 'rendering', progress = 0, updated_at = ? WHERE id = ?",
                (time.time(), row[0]),
            )
        self._on_change(row[0])
        return self.get_task(row[0])

    def requeue_interrupted(self) -> list[str]:
        """Put tasks left `rendering` by a stopped process back in the queue, without faces."""
        with self._transaction() as db:
            ids = [r[0] for r in db.execute("SELECT id FROM tasks WHERE status = 'rendering'")]
            for task_id in ids:
                db.execute("DELETE FROM faces WHERE task_id = ?", (task_id,))
                db.execute(
                    "UPDATE tasks SET status = 'queued', progress = 0 WHERE id = ?", (task_id,)
                )
        return ids

    def add_face(self, task_id: str, face: Face) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO faces"
                " (task_id, frame, idx, x, y, width, height, score, frame_time)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (task_id, face.frame, face.index, *face.box, face.score, face.frame_time),
            )
        self._on_change(task_id)

    def set_progress(self, task_id: str, fraction: float) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE tasks SET progress = ?, updated_at = ? WHERE id = ?",
                (min(1.0, max(0.0, fraction)), time.time(), task_id),
            )
        self._on_change(task_id)

    def finish(self, task_id: str, *, error_message: str | None = None) -> None:
        status = "complete" if error_message is None else "error"
        with self._transaction() as db:
            db.execute(
                "UPDATE tasks SET status = ?, error_message = ?, updated_at = ?,"
                " progress = CASE WHEN ? = 'complete' THEN 1 ELSE progress END WHERE id = ?",
                (status, error_message, time.time(), status, task_id),
            )
        self._on_change(task_id)

    def has_queued(self) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM tasks WHERE status = 'queued' LIMIT 1")
            return row.fetchone() is not None

    # Uploaded assets

    def create_asset(self, owner: str, name: str) -> str:
        asset_id = new_id()
        with self._transaction() as db:
            db.execute(
                "INSERT INTO assets (id, owner, name, created_at) VALUES (?, ?, ?, ?)",
                (asset_id, owner, name, time.time()),
            )
        return asset_id

    def get_asset(self, asset_id: str, name: str) -> Asset | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, owner, name, uploaded_at IS NOT NULL FROM assets"
                " WHERE id = ? AND name = ?",
                (asset_id, name),
            ).fetchone()
        return None if row is None else Asset(row[0], row[1], row[2], bool(row[3]))

    def mark_uploaded(self, asset_id: str, size: int) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE assets SET uploaded_at = ?, size = ? WHERE id = ?",
                (time.time(), size, asset_id),
            )

    # Retention

    def older_than(self, cutoff: float) -> tuple[list[str], list[str]]:
        """Ids of finished tasks and of uploads created before `cutoff` (unix time)."""
        with self._lock:
            tasks = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM tasks WHERE created_at < ? AND status IN ('complete', 'error')",
                    (cutoff,),
                )
            ]
            assets = [
                r[0]
                for r in self._db.execute("SELECT id FROM assets WHERE created_at < ?", (cutoff,))
            ]
        return tasks, assets

    def delete_task(self, task_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM faces WHERE task_id = ?", (task_id,))
            db.execute("DELETE FROM tasks WHERE id = ?", (task_id,))

    def delete_asset(self, asset_id: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM assets WHERE id = ?", (asset_id,))
