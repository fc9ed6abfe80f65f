"""room for a readable classification stamp (content hash and classifier version)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column(
            "classified_hash",
            existing_type=sa.String(length=64),
            type_=sa.String(length=160),
            existing_nullable=True,
        )
    # stamps of the old form can never match the new one: those rows are classified again


def downgrade() -> None:
    op.execute("UPDATE notification SET classified_hash = NULL")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.alter_column(
            "classified_hash",
            existing_type=sa.String(length=160),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
