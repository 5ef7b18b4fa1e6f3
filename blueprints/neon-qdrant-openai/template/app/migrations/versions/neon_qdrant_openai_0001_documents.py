"""Documents: the text of every source the answers are grounded on (their vectors are in Qdrant).

Revision ID: neon_qdrant_openai_0001
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from app.schema import adopt

revision: str = "neon_qdrant_openai_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("neon_qdrant_openai",)
depends_on: str | Sequence[str] | None = "base_0001"


def upgrade() -> None:
    columns = {
        "id",
        "source",
        "title",
        "format",
        "content",
        "sha256",
        "chunks",
        "characters",
        "created_at",
        "updated_at",
    }
    if adopt("documents", columns):
        op.create_table(
            "documents",
            sa.Column("id", sa.Uuid(), nullable=False),
            sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
            sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
            sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
            sa.Column("content", sa.Text(), nullable=False),
            sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
            sa.Column("chunks", sa.Integer(), nullable=False),
            sa.Column("characters", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("source"),
        )
        op.create_index("ix_documents_updated_at", "documents", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_documents_updated_at", table_name="documents")
    op.drop_table("documents")
