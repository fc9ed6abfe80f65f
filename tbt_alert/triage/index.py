"""The full-text index over title, description, products and the classifier's reasons.

``search_doc`` holds each notification's indexed text (Chinese cut into words) and a stamp of
what it was built from (content hash and classifier version); ``refresh_index`` rebuilds only the
rows whose stamp changed, so the pipeline calls it after every ingest or classification, and
``rebuild_index`` starts over. SQLite reads it through FTS5, PostgreSQL through a GIN index on
``to_tsvector('simple', body)``: ``tbt_alert.triage.search`` queries it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, text
from sqlmodel import Session, col, or_, select

from tbt_alert.store.tables import Notification, SearchDoc
from tbt_alert.triage.segment import index_text

BATCH = 500


def _stamp_sql() -> Any:
    return func.coalesce(col(Notification.classified_hash), col(Notification.content_hash))


def document_body(row: Notification) -> str:
    """What is indexed: symbol, member, title, products, description, objective, reasons."""
    reasons = [
        r
        for s in (row.classification or {}).get("sectors", [])
        for r in s.get("reasons", [])
        if isinstance(r, str)
    ]
    parts = [
        row.symbol,
        row.member_name,
        row.title,
        row.products_text or "",
        row.description or "",
        row.objective or "",
        *reasons,
    ]
    return index_text(" ".join(p for p in parts if p))


def refresh_index(session: Session) -> int:
    """Index every notification whose text or classification changed; returns how many."""
    stale = (
        select(Notification)
        .outerjoin(SearchDoc, col(SearchDoc.notification_id) == col(Notification.id))
        .where(or_(col(SearchDoc.notification_id).is_(None), col(SearchDoc.stamp) != _stamp_sql()))
        .order_by(col(Notification.id))
    )
    ids = list(session.execute(stale.with_only_columns(col(Notification.id))).scalars())
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = session.exec(select(Notification).where(col(Notification.id).in_(chunk))).all()
        have = {
            d.notification_id: d
            for d in session.exec(
                select(SearchDoc).where(col(SearchDoc.notification_id).in_(chunk))
            ).all()
        }
        for row in rows:
            doc = have.get(row.id or 0) or SearchDoc(notification_id=row.id or 0, stamp="", body="")
            doc.stamp = row.classified_hash or row.content_hash
            doc.body = document_body(row)
            session.add(doc)
            done += 1
        session.flush()
    return done


def rebuild_index(session: Session) -> int:
    """Drop the whole index and build it again."""
    session.execute(delete(SearchDoc))
    if session.get_bind().dialect.name == "sqlite":
        session.flush()
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    return refresh_index(session)
