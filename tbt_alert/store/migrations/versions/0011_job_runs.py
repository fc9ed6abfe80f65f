"""job runs and source incidents: every finished job run, and operator alerts per source

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tbt_alert.store.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, tbt_alert.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "job_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        _utc("started_at", False),
        _utc("finished_at", False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_job_run_job", "job_run", ["job"])
    op.create_table(
        "source_incident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=40), nullable=False),
        _utc("opened_at", False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _utc("alerted_at", True),
        _utc("recovered_at", True),
        _utc("recovery_sent_at", True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_source_incident_source", "source_incident", ["source"])


def downgrade() -> None:
    op.drop_index("ix_source_incident_source", table_name="source_incident")
    op.drop_table("source_incident")
    op.drop_index("ix_job_run_job", table_name="job_run")
    op.drop_table("job_run")
