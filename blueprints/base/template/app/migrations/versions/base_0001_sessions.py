"""Sessions, and when each was last used: the tables every backend shares.

Revision ID: base_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.schema import adopt

revision: str = "base_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("base",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if adopt("sessions", {"id", "token_hash", "created_at"}):
        op.create_table(
            "sessions",
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_sessions_token_hash", "sessions", ["token_hash"], unique=True)
    if adopt("session_activity", {"session_id", "last_seen_at"}):
        op.create_table(
            "session_activity",
            sa.Column("session_id", sa.Uuid(), nullable=False),
            sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
            sa.PrimaryKeyConstraint("session_id"),
        )


def downgrade() -> None:
    op.drop_table("session_activity")
    op.drop_index("ix_sessions_token_hash", table_name="sessions")
    op.drop_table("sessions")
