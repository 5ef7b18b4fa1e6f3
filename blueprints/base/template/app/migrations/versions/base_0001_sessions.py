"""Sessions, and when each was last used: the tables every backend shares.

A database made before the revisions keeps its tables. The first release's sessions had an id
and no token: no client can prove one is theirs, so each gets a token hash no token has
(``retired-<id>``, not hex) and can no longer be used; what they own is kept.

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


def _has_column(table: str, column: str) -> bool:
    inspector = sa.inspect(op.get_bind())
    return inspector.has_table(table) and any(
        c["name"] == column for c in inspector.get_columns(table)
    )


def _retire_sessions_without_tokens() -> None:
    token_hash = sqlmodel.sql.sqltypes.AutoString(length=64)
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("token_hash", token_hash, nullable=True))
    op.execute("UPDATE sessions SET token_hash = 'retired-' || CAST(id AS TEXT)")
    with op.batch_alter_table("sessions") as batch:
        batch.alter_column("token_hash", existing_type=token_hash, nullable=False)
        batch.create_index("ix_sessions_token_hash", ["token_hash"], unique=True)


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("sessions") and not _has_column("sessions", "token_hash"):
        _retire_sessions_without_tokens()
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
