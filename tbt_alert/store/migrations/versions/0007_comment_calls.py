"""comment calls, drafts, attachments and reminders

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import tbt_alert.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _utc(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, tbt_alert.store.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "comment_call",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("symbol", sa.String(length=120), nullable=False),
        sa.Column("wto_deadline", sa.Date(), nullable=False),
        sa.Column("internal_deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("analyst", sa.String(length=320), nullable=True),
        sa.Column("analyst_told", sa.Date(), nullable=True),
        sa.Column("consolidated", sa.Text(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=True),
        _utc("created_at", False),
        _utc("updated_at", False),
        sa.ForeignKeyConstraint(["notification_id"], ["notification.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_id"),
    )
    with op.batch_alter_table("comment_call", schema=None) as batch_op:
        for column in ("symbol", "wto_deadline", "internal_deadline", "status"):
            batch_op.create_index(batch_op.f(f"ix_comment_call_{column}"), [column], unique=False)
    op.create_table(
        "comment_draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("subscriber_id", sa.Integer(), nullable=True),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        _utc("received_at", False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=250), nullable=True),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["comment_call.id"]),
        sa.ForeignKeyConstraint(["subscriber_id"], ["subscriber.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    with op.batch_alter_table("comment_draft", schema=None) as batch_op:
        for column in ("call_id", "subscriber_id"):
            batch_op.create_index(batch_op.f(f"ix_comment_draft_{column}"), [column], unique=False)
    op.create_table(
        "comment_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("draft_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["draft_id"], ["comment_draft.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("comment_attachment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_attachment_draft_id"), ["draft_id"])
    op.create_table(
        "comment_reminder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        _utc("sent_at", False),
        sa.ForeignKeyConstraint(["call_id"], ["comment_call.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id", "recipient", "deadline"),
    )
    with op.batch_alter_table("comment_reminder", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_comment_reminder_call_id"), ["call_id"])


def downgrade() -> None:
    op.drop_table("comment_reminder")
    op.drop_table("comment_attachment")
    op.drop_table("comment_draft")
    op.drop_table("comment_call")
