"""self-service subscription: a company name on subscribers, signups awaiting confirmation

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tbt_alert.store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.add_column(sa.Column("company", sa.String(length=200), nullable=True))
    op.create_table(
        "signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("mailed_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signup_subscriber_id"), ["subscriber_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_subscriber_id"))
    op.drop_table("signup")
    with op.batch_alter_table("subscriber", schema=None) as batch_op:
        batch_op.drop_column("company")
