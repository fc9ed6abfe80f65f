"""digests: bulletins without a single notification, deliveries that list items

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items", sa.JSON(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("items")
    op.execute(
        "DELETE FROM delivery WHERE bulletin_id IN (SELECT id FROM bulletin WHERE notification_id IS NULL)"
    )
    op.execute("DELETE FROM bulletin WHERE notification_id IS NULL")
    with op.batch_alter_table("bulletin", schema=None) as batch_op:
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=False)
