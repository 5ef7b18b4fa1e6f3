"""Tasks, each belonging to the session that created it.

A database made before the revisions keeps its tasks. The first release's tasks belonged to no
session: they are given to one new session, whose token is written to the log once, at this
revision (``tasks made before sessions belong to a session of their own…``): keep it, since the
server stores only its hash.

Revision ID: sqlite_demo_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.schema import adopt

revision: str = "sqlite_demo_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("sqlite_demo",)
depends_on: str | Sequence[str] | None = "base_0001"


logger = logging.getLogger("app.schema")


def _give_tasks_without_sessions_a_session() -> None:
    bind = op.get_bind()
    token = secrets.token_urlsafe(32)
    owner = uuid.uuid4()
    sessions = sa.table(
        "sessions",
        sa.column("id", sa.Uuid()),
        sa.column("token_hash", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    token_hash = hashlib.sha256(token.encode("utf-8")).hexdigest()
    op.bulk_insert(
        sessions, [{"id": owner, "token_hash": token_hash, "created_at": datetime.now(UTC)}]
    )
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("session_id", sa.Uuid(), nullable=True))
    tasks = sa.table("tasks", sa.column("session_id", sa.Uuid()))
    moved = bind.execute(tasks.update().values(session_id=owner)).rowcount
    with op.batch_alter_table("tasks") as batch:
        batch.alter_column("session_id", existing_type=sa.Uuid(), nullable=False)
        batch.create_foreign_key("fk_tasks_session_id_sessions", "sessions", ["session_id"], ["id"])
        batch.create_index("ix_tasks_session_id", ["session_id"], unique=False)
    logger.warning(
        "%d tasks made before sessions belong to a session of their own; its token, shown "
        "this once (the server keeps only its hash): %s",
        moved,
        token,
    )


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if inspector.has_table("tasks") and not any(
        c["name"] == "session_id" for c in inspector.get_columns("tasks")
    ):
        _give_tasks_without_sessions_a_session()
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
