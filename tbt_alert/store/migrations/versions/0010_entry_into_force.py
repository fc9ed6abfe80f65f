"""the proposed date of entry into force, read once by ingest, so risk weighs it for stored rows

Revision ID: 0010
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from tbt_alert.text.dates import parse_date

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _payload(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def upgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("proposed_entry_into_force", sa.Date(), nullable=True))
    # rows stored before: the date as their sources gave it (the primary source first); their
    # classification is made again so that risk weighs it
    conn = op.get_bind()
    found: dict[int, Any] = {}
    rows = conn.execute(
        sa.text("SELECT notification_id, source, payload FROM source_record ORDER BY source")
    )
    for notification_id, source, payload in rows:
        day = parse_date(_payload(payload).get("proposed_entry_into_force"))
        if day is not None and (notification_id not in found or source in ("eping", "import")):
            found[notification_id] = day
    for notification_id, day in found.items():
        conn.execute(
            sa.text(
                "UPDATE notification SET proposed_entry_into_force = :day, classified_hash = NULL "
                "WHERE id = :id"
            ),
            {"day": day, "id": notification_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("proposed_entry_into_force")
