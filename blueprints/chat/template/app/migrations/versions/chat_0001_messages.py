"""Chat messages: every question and answer of a session, kept in order.

Revision ID: chat_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.schema import adopt

revision: str = "chat_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("chat",)
depends_on: str | Sequence[str] | None = "base_0001"


def upgrade() -> None:
    if adopt("chat_messages", {"id", "session_id", "role", "content", "complete", "created_at"}):
        op.create_table(
            "chat_messages",
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("session_id", sa.Uuid(), nullable=False),
            sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("complete", sa.Boolean(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_chat_messages_created_at", "chat_messages", ["created_at"])
        op.create_index("ix_chat_messages_session_id", "chat_messages", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_chat_messages_session_id", table_name="chat_messages")
    op.drop_index("ix_chat_messages_created_at", table_name="chat_messages")
    op.drop_table("chat_messages")
