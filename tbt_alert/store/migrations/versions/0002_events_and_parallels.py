"""addendum events and parallel notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("events", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("parallel_key", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_notification_parallel_key"), ["parallel_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_parallel_key"))
        batch_op.drop_column("parallel_key")
        batch_op.drop_column("events")
