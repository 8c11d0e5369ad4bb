"""The task store: tasks, faces and uploads (`_records`), shared by the API and the
workers.

One set of queries (SQLAlchemy Core) over SQLite in the data directory (the default) or
PostgreSQL (`_database`). Workers claim a task under a lease that they renew while they
work; a task whose lease ran out (its worker died) is claimed again by another worker,
its partial faces first removed, and writes from a worker that lost its lease are refused,
so a task never completes twice and no face is stored twice. On PostgreSQL each change is
also announced with NOTIFY, so other processes wake at once (`_notify`).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from magic_hour_server.tasks import _statements as sql
from magic_hour_server.tasks._at_once import WORKER_CHECKPOINT_PAGES, AtOnce, Busy, file_of
from magic_hour_server.tasks._database import (
    READ_ONLY,
    assets,
    engine_for,
    faces,
    prepare,
    tasks,
)
from magic_hour_server.tasks._records import (
    Asset,
    Face,
    Task,
    face_row,
    new_id,
    task_from,
)

LEASE_SECONDS = 30.0
"""How long a worker's claim on a task lasts without a heartbeat; then another takes it."""
TASK_CHANGED = "magic_hour_task_changed"  # PostgreSQL NOTIFY channels
TASK_QUEUED = "magic_hour_task_queued"


class Store:
    """The task store. Thread-safe; every method is one short transaction."""

    def __init__(
        self,
        database: str | Path,
        on_change: Callable[[str], None] | None = None,
        *,
        migrate: bool = True,
        on_reclaim: Callable[[], None] | None = None,
    ) -> None:
        """`database` is a SQLite file or a database URL. `on_change(task_id)` is called
        after each committed change to a task's status, progress or faces (from the thread
        that made it). With `migrate`, the schema is brought up to date first.
        `on_reclaim()` is called when a claim takes over a task whose lease ran out."""
        url = database if isinstance(database, str) else f"sqlite:///{database}"
        self.url = url
        self._engine = engine_for(url)
        self.dialect = self._engine.dialect.name
        self._on_change = on_change or (lambda _task_id: None)
        self._on_reclaim = on_reclaim or (lambda: None)
        self._closed = threading.Event()
        # Built once: making a statement costs more than running it.
        self._face_upsert = sql.upsert(self.dialect, faces, sql.FACE_ROW, sql.FACE_KEY)
        prepare(self._engine, migrate=migrate)
        sqlite_file = file_of(url)
        self._at_once: AtOnce | None = None  # the event loop's
        self._workers_at_once: AtOnce | None = None  # the workers' claims and finishes
        if sqlite_file is not None:
            self._at_once = AtOnce(sqlite_file)
            self._workers_at_once = AtOnce(sqlite_file, checkpoint_pages=WORKER_CHECKPOINT_PAGES)

    @property
    def answers_at_once(self) -> bool:
        """Whether the methods that take `wait` can be asked not to wait (`wait=False`,
        see `_at_once`): a SQLite file. On PostgreSQL every statement is a network round
        trip: it is made from a thread that may wait."""
        return self._at_once is not None

    def _now(self) -> AtOnce:
        """The statements that never wait; `Busy` when this database has none."""
        if self._at_once is None:
            raise Busy("on this database every statement may wait")
        return self._at_once

    def readiness(self) -> str | None:
        """None when the database answers at this code's schema; else why not."""
        from ._database import current_revision, database_went_away, head_revision

        try:
            with self._reading() as db:
                revision = current_revision(db)
                db.rollback()
        except sa.exc.SQLAlchemyError as exc:
            if database_went_away(exc):
                return "the task database cannot be reached"
            return f"the task database fails: {type(exc).__name__}"
        head = head_revision()
        if revision != head:
            return f"the task database is at schema {revision or 'none'}, this server needs {head}"
        return None

    def identity(self) -> str:
        """Which database this is, the same from every process that uses it."""
        if self.dialect != "postgresql":
            return self.url
        with self._reading() as db:
            row = db.execute(
                sa.text(
                    "SELECT system_identifier::text, current_database() FROM pg_control_system()"
                )
            ).one()
            db.rollback()
        return f"postgresql:{row[0]}/{row[1]}"

    def close(self) -> None:
        self._closed.set()
        for statements in (self._at_once, self._workers_at_once):
            if statements is not None:
                statements.close()
        self._engine.dispose()

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        """A connection for reads only (on SQLite they take no write lock)."""
        with self._engine.connect() as db:
            yield db.execution_options(**{READ_ONLY: True})

    def _notify(self, db: sa.Connection, channel: str, payload: str) -> None:
        if self.dialect == "postgresql":
            db.execute(sa.select(sa.func.pg_notify(channel, payload)))

    def _changed(self, db: sa.Connection, task_id: str) -> None:
        self._notify(db, TASK_CHANGED, task_id)

    # Tasks

    def create_task(
        self,
        owner: str,
        target: str,
        threshold: float,
        idempotency_key: str | None = None,
        *,
        wait: bool = True,
    ) -> str:
        """A new queued task's id; with `idempotency_key`, the id of the task this owner
        already created with that key, if any (a create sent again after its answer was
        lost makes no second task). With `wait=False`, `Busy` is raised instead of
        waiting for the database, nothing created."""
        if idempotency_key is not None:
            existing = self._task_for_key(owner, idempotency_key, wait=wait)
            if existing is not None:
                return existing
        task_id, now = new_id(), time.time()
        values = {
            "id": task_id, "owner": owner, "status": "queued", "target": target,
            "threshold": threshold, "progress": 0.0, "created_at": now,
            "updated_at": now, "idempotency_key": idempotency_key,
        }  # fmt: skip
        try:
            if not wait:
                self._now().insert_task(values)
                return task_id
            with self._engine.begin() as db:
                db.execute(sql.INSERT_TASK, values)
                self._notify(db, TASK_QUEUED, task_id)
        except (sa.exc.IntegrityError, sqlite3.IntegrityError):
            # The same key, sent twice at once: the other request made the task.
            existing = (
                self._task_for_key(owner, idempotency_key, wait=wait) if idempotency_key else None
            )
            if existing is None:
                raise
            return existing
        return task_id

    def _task_for_key(self, owner: str, key: str, *, wait: bool = True) -> str | None:
        if not wait:
            return self._now().task_for_key(owner, key)
        with self._reading() as db:
            row = db.execute(sql.SELECT_TASK_BY_KEY, {"owner": owner, "key": key}).first()
            db.rollback()
        return None if row is None else str(row[0])

    def get_task(self, task_id: str, *, wait: bool = True) -> Task | None:
        """The task and its faces, or None. With `wait=False`, `Busy` is raised instead of
        waiting for the database (always, unless `answers_at_once`)."""
        if not wait:
            snapshot = self._now().task(task_id)
            return None if snapshot is None else task_from(*snapshot)
        with self._reading() as db:
            row = db.execute(sql.SELECT_TASK, {"task_id": task_id}).first()
            if row is None:
                return None
            found = db.execute(sql.SELECT_FACES, {"task_id": task_id}).all()
            db.rollback()
        return task_from(row, found)

    def claim_next(self, worker: str = "local", lease: float = LEASE_SECONDS) -> Task | None:
        """The oldest queued task, or one whose lease ran out, now `rendering` under a lease
        held by `worker`; None when there is none. A task taken over from a dead worker
        has its partial faces removed first (its files are the caller's to remove)."""
        now = time.time()
        if self._workers_at_once is not None:
            with contextlib.suppress(Busy):  # if so, claimed below: the engine waits
                claimed = self._workers_at_once.claim(worker, lease, now)
                return None if claimed is None else self._claimed(claimed)
        with self._engine.begin() as db:
            row = db.execute(sql.CLAIMABLE, {"now": now}).first()
            if row is None:
                return None
            task_id = row[0]
            if row[2] == "rendering":
                db.execute(sql.DELETE_FACES, {"task_id": task_id})
            db.execute(
                sql.CLAIM, {"task_id": task_id, "at": now, "claimer": worker, "until": now + lease}
            )
            self._changed(db, task_id)
        return self._claimed(row)

    def _claimed(self, row: Any) -> Task:
        task_id, owner, status, target, threshold, _, _, created_at = row
        if status == "rendering":  # its worker's lease ran out: taken over
            self._on_reclaim()
        self._on_change(task_id)
        return Task(task_id, owner, "rendering", target, threshold, 0.0, None, created_at)

    def renew_lease(self, task_id: str, worker: str, lease: float = LEASE_SECONDS) -> bool:
        """Extend `worker`'s lease on `task_id`; False when it is no longer theirs."""
        with self._engine.begin() as db:
            result = db.execute(
                tasks.update()
                .where(self._held(task_id, worker))
                .values(lease_until=time.time() + lease)
            )
        return bool(result.rowcount)

    def release(self, task_id: str, worker: str) -> bool:
        """Give `worker`'s task back at once (a graceful shutdown): its lease ends now, so
        the next claim takes it over (partial faces removed) without waiting for it to
        run out; idle workers are woken. False when the task was no longer theirs."""
        with self._engine.begin() as db:
            result = db.execute(
                tasks.update()
                .where(self._held(task_id, worker))
                .values(lease_until=0.0, updated_at=time.time())
            )
            if result.rowcount:
                self._notify(db, TASK_QUEUED, task_id)
        return bool(result.rowcount)

    @staticmethod
    def _held(task_id: str, worker: str | None) -> Any:
        condition = tasks.c.id == task_id
        if worker is not None:
            condition = (
                condition & (tasks.c.lease_owner == worker) & (tasks.c.status == "rendering")
            )
        return condition

    def requeue_interrupted(self) -> list[str]:
        """Put tasks left `rendering` by a stopped process back in the queue, without faces
        (for a single process on its own database, at start)."""
        with self._engine.begin() as db:
            ids = [
                r[0] for r in db.execute(sa.select(tasks.c.id).where(tasks.c.status == "rendering"))
            ]
            for task_id in ids:
                db.execute(faces.delete().where(faces.c.task_id == task_id))
                db.execute(
                    tasks.update()
                    .where(tasks.c.id == task_id)
                    .values(status="queued", progress=0.0, lease_owner=None, lease_until=None)
                )
        return ids

    def add_face(self, task_id: str, face: Face, worker: str | None = None) -> bool:
        """Store `face`; False (nothing stored) when `worker` no longer holds the task."""
        return self.add_faces(task_id, [face], worker)

    def add_faces(self, task_id: str, found: Sequence[Face], worker: str | None = None) -> bool:
        """Store `found` in one transaction; False (nothing stored) when `worker` no longer
        holds the task."""
        with self._engine.begin() as db:
            if worker is not None and not self._locked(db, task_id, worker):
                return False
            self._insert_faces(db, task_id, found)
            self._changed(db, task_id)
        self._on_change(task_id)
        return True

    def _insert_faces(self, db: sa.Connection, task_id: str, found: Sequence[Face]) -> None:
        if found:
            db.execute(self._face_upsert, [face_row(task_id, face) for face in found])

    def _locked(self, db: sa.Connection, task_id: str, worker: str) -> bool:
        """Whether `worker` holds `task_id`, locking its row until the transaction ends."""
        row = db.execute(
            sa.select(tasks.c.id).where(self._held(task_id, worker)).with_for_update()
        ).first()
        return row is not None

    def set_progress(self, task_id: str, fraction: float, worker: str | None = None) -> bool:
        with self._engine.begin() as db:
            result = db.execute(
                tasks.update()
                .where(self._held(task_id, worker))
                .values(progress=min(1.0, max(0.0, fraction)), updated_at=time.time())
            )
            if result.rowcount:
                self._changed(db, task_id)
        if result.rowcount:
            self._on_change(task_id)
        return bool(result.rowcount)

    def finish(
        self,
        task_id: str,
        *,
        error_message: str | None = None,
        worker: str | None = None,
        found: Sequence[Face] = (),
    ) -> bool:
        """End the task (`complete`, or `error` with the message), storing `found` in the
        same transaction; False, with nothing stored, when `worker` no longer holds it
        (another worker took it over: its outcome stands)."""
        status = "complete" if error_message is None else "error"
        values: dict[str, Any] = {
            "status": status, "error_message": error_message, "updated_at": time.time(),
            "lease_owner": None, "lease_until": None,
        }  # fmt: skip
        if status == "complete":
            values["progress"] = 1.0
        if worker is not None:
            # A worker ending its own task: the statement built once (the common case).
            statement = sql.COMPLETE_HELD if status == "complete" else sql.FAIL_HELD
            params = {"task_id": task_id, "claimer": worker, "message": error_message,
                      "at": values["updated_at"]}  # fmt: skip
            if self._workers_at_once is not None:
                rows = [face_row(task_id, face) for face in found]
                with contextlib.suppress(Busy):  # if so, ended below: the engine waits
                    held = self._workers_at_once.finish_held(
                        params, rows, complete=status == "complete"
                    )
                    if held:
                        self._on_change(task_id)
                    return held
        else:
            statement = tasks.update().where(self._held(task_id, None)).values(**values)
            params = {}
        with self._engine.begin() as db:
            result = db.execute(statement, params)
            if result.rowcount:
                self._insert_faces(db, task_id, found)
                self._changed(db, task_id)
        if result.rowcount:
            self._on_change(task_id)
        return bool(result.rowcount)

    def queue_stats(self) -> tuple[int, float | None]:
        """How many tasks are queued, and when the oldest of them was created."""
        with self._reading() as db:
            count, oldest = db.execute(sql.QUEUE_STATS).one()
            db.rollback()
        return int(count), None if oldest is None else float(oldest)

    def has_queued(self) -> bool:
        with self._reading() as db:
            row = db.execute(sa.select(tasks.c.id).where(tasks.c.status == "queued").limit(1))
            found = row.first() is not None
            db.rollback()
        return found

    # Uploaded assets

    def create_asset(self, owner: str, name: str, *, wait: bool = True) -> str:
        """A new upload's id. With `wait=False`, as for `create_task`."""
        asset_id = new_id()
        values = {"id": asset_id, "owner": owner, "name": name, "created_at": time.time()}
        if not wait:
            self._now().insert_asset(values)
            return asset_id
        with self._engine.begin() as db:
            db.execute(sql.INSERT_ASSET, values)
        return asset_id

    def get_asset(self, asset_id: str, name: str, *, wait: bool = True) -> Asset | None:
        """The upload, or None. With `wait=False`, as for `get_task`."""
        if not wait:
            row = self._now().asset(asset_id, name)
        else:
            with self._reading() as db:
                params = {"asset_id": asset_id, "asset_name": name}
                row = db.execute(sql.SELECT_ASSET, params).first()
                db.rollback()
        return None if row is None else Asset(row[0], row[1], row[2], row[3] is not None)

    def mark_uploaded(self, asset_id: str, size: int, *, wait: bool = True) -> None:
        """Record that the upload's file is in place. With `wait=False`, as for
        `create_task`."""
        values = {"asset_id": asset_id, "at": time.time(), "asset_size": size}
        if not wait:
            self._now().mark_uploaded(values)
            return
        with self._engine.begin() as db:
            db.execute(sql.MARK_UPLOADED, values)

    # Retention

    def older_than(self, cutoff: float) -> tuple[list[str], list[str]]:
        """Ids of finished tasks and of uploads created before `cutoff` (unix time)."""
        with self._reading() as db:
            old_tasks = db.execute(
                sa.select(tasks.c.id).where(
                    (tasks.c.created_at < cutoff) & tasks.c.status.in_(["complete", "error"])
                )
            ).all()
            old_assets = db.execute(
                sa.select(assets.c.id).where(assets.c.created_at < cutoff)
            ).all()
            db.rollback()
        return [r[0] for r in old_tasks], [r[0] for r in old_assets]

    def delete_task(self, task_id: str) -> None:
        with self._engine.begin() as db:
            db.execute(faces.delete().where(faces.c.task_id == task_id))
            db.execute(tasks.delete().where(tasks.c.id == task_id))

    def delete_asset(self, asset_id: str) -> None:
        with self._engine.begin() as db:
            db.execute(assets.delete().where(assets.c.id == asset_id))
