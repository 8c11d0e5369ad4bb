"""The statements the task store runs, built once: building a statement costs more than
running it (a task read took 180 us with its statements built on each call, 80 us without;
a claim 440 us against 190)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from magic_hour_server.tasks._database import assets, faces, tasks

TASK_COLUMNS = [
    tasks.c.id, tasks.c.owner, tasks.c.status, tasks.c.target, tasks.c.threshold,
    tasks.c.progress, tasks.c.error_message, tasks.c.created_at,
]  # fmt: skip
FACE_COLUMNS = [
    faces.c.frame, faces.c.idx, faces.c.x, faces.c.y, faces.c.width, faces.c.height,
    faces.c.score, faces.c.frame_time,
]  # fmt: skip


SELECT_TASK = sa.select(*TASK_COLUMNS).where(tasks.c.id == sa.bindparam("task_id"))
SELECT_FACES = (
    sa.select(*FACE_COLUMNS)
    .where(faces.c.task_id == sa.bindparam("task_id"))
    .order_by(faces.c.frame, faces.c.idx)
)
SELECT_TASK_BY_KEY = sa.select(tasks.c.id).where(
    (tasks.c.owner == sa.bindparam("owner")) & (tasks.c.idempotency_key == sa.bindparam("key"))
)
CLAIMABLE = (
    sa.select(*TASK_COLUMNS)
    .where(
        (tasks.c.status == "queued")
        | ((tasks.c.status == "rendering") & (tasks.c.lease_until < sa.bindparam("now")))
    )
    .order_by(tasks.c.created_at, tasks.c.id)
    .limit(1)
    .with_for_update(skip_locked=True)
)
QUEUE_STATS = sa.select(sa.func.count(), sa.func.min(tasks.c.created_at)).where(
    tasks.c.status == "queued"
)
DELETE_FACES = faces.delete().where(faces.c.task_id == sa.bindparam("task_id"))
CLAIM = (
    tasks.update()
    .where(tasks.c.id == sa.bindparam("task_id"))
    .values(
        status="rendering", progress=0.0, updated_at=sa.bindparam("at"),
        lease_owner=sa.bindparam("claimer"), lease_until=sa.bindparam("until"),
        attempts=tasks.c.attempts + 1,
    )
)  # fmt: skip
HELD = (
    (tasks.c.id == sa.bindparam("task_id"))
    & (tasks.c.lease_owner == sa.bindparam("claimer"))
    & (tasks.c.status == "rendering")
)
ENDED: dict[str, Any] = {
    "error_message": sa.bindparam("message"), "updated_at": sa.bindparam("at"),
    "lease_owner": None, "lease_until": None,
}  # fmt: skip
COMPLETE_HELD = tasks.update().where(HELD).values(status="complete", progress=1.0, **ENDED)
FAIL_HELD = tasks.update().where(HELD).values(status="error", **ENDED)
INSERT_TASK = tasks.insert()
NEW_TASK = [
    "id", "owner", "status", "target", "threshold", "progress", "created_at", "updated_at",
    "idempotency_key",
]  # fmt: skip
"""The values a new task is inserted with (`INSERT_TASK`)."""
INSERT_ASSET = assets.insert()
NEW_ASSET = ["id", "owner", "name", "created_at"]
"""The values a new upload is inserted with (`INSERT_ASSET`)."""
SELECT_ASSET = sa.select(assets.c.id, assets.c.owner, assets.c.name, assets.c.uploaded_at).where(
    (assets.c.id == sa.bindparam("asset_id")) & (assets.c.name == sa.bindparam("asset_name"))
)
MARK_UPLOADED = (
    assets.update()
    .where(assets.c.id == sa.bindparam("asset_id"))
    .values(uploaded_at=sa.bindparam("at"), size=sa.bindparam("asset_size"))
)

FACE_ROW = ["task_id", "frame", "idx", "x", "y", "width", "height", "score", "frame_time"]
FACE_KEY = ["task_id", "frame", "idx"]
"""A face's row is the one with these values (`upsert`)."""


def upsert(dialect: str, table: sa.Table, columns: list[str], keys: list[str]) -> Any:
    """INSERT, or UPDATE the row with the same `keys`: the same statement in either dialect.
    The values of `columns` are given when it runs (one dict, or a list of them)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    statement = insert(table)
    updates = {name: statement.excluded[name] for name in columns if name not in keys}
    return statement.on_conflict_do_update(index_elements=keys, set_=updates)
