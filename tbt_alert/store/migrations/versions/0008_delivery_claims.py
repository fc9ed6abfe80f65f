"""delivery claims (status sending, claimed_by, lease_until) and hard-bounce counts

Revision ID: 0008
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tbt_alert.store.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", UTCDateTime(), nullable=True))
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("hard_bounces", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    # a delivery claimed when the schema goes back is simply due again
    op.execute("UPDATE delivery SET status = 'planned' WHERE status = 'sending'")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("hard_bounces")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("claimed_by")
