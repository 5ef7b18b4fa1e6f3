"""Tasks, each belonging to the session that created it.

Revision ID: sqlite_demo_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.schema import adopt

revision: str = "sqlite_demo_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sqlite_demo",)
depends_on: str | Sequence[str] | None = "base_0001"


def upgrade() -> None:
    columns = {"id", "title", "description", "done", "session_id", "created_at", "updated_at"}
    if adopt("tasks", columns):
        op.create_table(
            "tasks",
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
            sa.Column("done", sa.Boolean(), nullable=False),
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("session_id", sa.Uuid(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_tasks_created_at", "tasks", ["created_at"], unique=False)
        op.create_index("ix_tasks_session_id", "tasks", ["session_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_tasks_session_id", table_name="tasks")
    op.drop_index("ix_tasks_created_at", table_name="tasks")
    op.drop_table("tasks")
