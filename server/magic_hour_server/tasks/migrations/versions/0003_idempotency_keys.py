"""Idempotency keys: a create sent again with the same key returns the same task.

Revision ID: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("idempotency_key", sa.Text))
    op.create_index(
        "tasks_owner_idempotency_key", "tasks", ["owner", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index("tasks_owner_idempotency_key", table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("idempotency_key")
