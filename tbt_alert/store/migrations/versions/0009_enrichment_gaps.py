"""enrichment gaps: a detail endpoint or document that failed, retried by later cycles

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tbt_alert.store.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "enrichment_gap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("symbol", sa.String(length=120), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("error", sa.String(), nullable=False),
        sa.Column("distribution_date", sa.Date(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "first_seen_at", tbt_alert.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "last_tried_at", tbt_alert.store.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("resolved_at", tbt_alert.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "symbol", "what"),
    )
    op.create_index("ix_enrichment_gap_resolved_at", "enrichment_gap", ["resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_enrichment_gap_resolved_at", table_name="enrichment_gap")
    op.drop_table("enrichment_gap")
