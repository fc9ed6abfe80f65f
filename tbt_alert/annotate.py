"""Apply the classifier to stored notifications whose content changed since last time."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlmodel import Session, col, or_, select

from tbt_alert.ingest import as_record
from tbt_alert.models import Notification
from tbt_alert.record import CanonicalRecord


class ClassificationLike(Protocol):
    horizontal: bool

    def to_json(self) -> dict: ...


class ClassifierLike(Protocol):
    version: str

    def classify(self, record: CanonicalRecord, parent: CanonicalRecord | None = None,
                 now: datetime | None = None) -> ClassificationLike: ...


@dataclass
class AnnotateReport:
    classified: int = 0
    with_alert: int = 0


def _stamp(row: Notification, classifier_version: str) -> str:
    return hashlib.sha256(f"{row.content_hash}:{classifier_version}".encode()).hexdigest()


def alert_sectors(result: dict) -> list[str]:
    return [s["sector"] for s in result.get("sectors", []) if s.get("tier") == "alert"]


def annotate_pending(session: Session, classifier: ClassifierLike, *, now: datetime) -> AnnotateReport:
    """Classify every notification not yet classified with this content and classifier version.
    Addenda, corrigenda and revisions are read together with their parent when it is stored."""
    report = AnnotateReport()
    rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
    by_symbol = {r.symbol: r for r in rows}
    version = getattr(classifier, "version", "0")
    for row in rows:
        stamp = _stamp(row, version)
        if row.classified_hash == stamp:
            continue
        parent_row = by_symbol.get(row.measure_key) if row.measure_key != row.symbol else None
        parent = as_record(parent_row) if parent_row is not None else None
        result = classifier.classify(as_record(row), parent=parent, now=now).to_json()
        row.classification = result
        row.alert_sectors = alert_sectors(result)
        row.horizontal = bool(result.get("horizontal"))
        row.classified_hash = stamp
        session.add(row)
        report.classified += 1
        report.with_alert += bool(row.alert_sectors)
    session.flush()
    return report


def unclassified_count(session: Session) -> int:
    stmt = select(Notification.id).where(or_(col(Notification.classified_hash).is_(None)))
    return len(session.exec(stmt).all())
