"""Apply the classifier to stored notifications whose content changed since last time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session, col, or_, select

from tbt_alert.classify.classifier import ParentScope
from tbt_alert.record import CanonicalRecord
from tbt_alert.store.ingest import as_record
from tbt_alert.store.shapes import ClassificationJSON, tier_sectors
from tbt_alert.store.tables import Notification


class ClassificationLike(Protocol):
    horizontal: bool

    def to_json(self) -> ClassificationJSON: ...


class ClassifierLike(Protocol):
    @property
    def version(self) -> str: ...

    def classify_many(
        self,
        records: Sequence[CanonicalRecord],
        parents: Sequence[CanonicalRecord | None] | None = None,
        scopes: Sequence[ParentScope | None] | None = None,
    ) -> Sequence[ClassificationLike]: ...

    def sector_names(self) -> dict[str, tuple[str, str]]: ...


@dataclass
class AnnotateReport:
    classified: int = 0
    with_alert: int = 0


def _stamp(row: Notification, classifier_version: str) -> str:
    return f"{row.content_hash}:{classifier_version}"


def _stamp_sql(classifier_version: str) -> Any:
    return Notification.content_hash + f":{classifier_version}"


BATCH = 500  # the model vectorises a batch at once: much faster than one by one


def annotate_pending(session: Session, classifier: ClassifierLike) -> AnnotateReport:
    """Classify every notification not yet classified with this content and classifier version.
    Addenda, corrigenda and revisions are read together with their parent when it is stored."""
    report = AnnotateReport()
    version = classifier.version
    pending = session.exec(
        select(Notification)
        .where(
            or_(
                col(Notification.classified_hash).is_(None),
                col(Notification.classified_hash) != _stamp_sql(version),
            )
        )
        .order_by(col(Notification.id))
    ).all()
    for start in range(0, len(pending), BATCH):
        batch = pending[start : start + BATCH]
        by_symbol = _parents_of(session, batch)
        parents = [_parent(by_symbol, r) for r in batch]
        scopes = [_scope(by_symbol, r) for r in batch]
        results = classifier.classify_many([as_record(r) for r in batch], parents, scopes)
        for row, result in zip(batch, results, strict=True):
            _store(session, row, result.to_json(), _stamp(row, version))
            report.classified += 1
            report.with_alert += bool(row.alert_sectors)
    session.flush()
    return report


def _parents_of(session: Session, rows: Sequence[Notification]) -> dict[str, Notification]:
    keys = {r.measure_key for r in rows if r.measure_key != r.symbol}
    if not keys:
        return {}
    found = session.exec(select(Notification).where(col(Notification.symbol).in_(keys))).all()
    return {r.symbol: r for r in found}


def _parent(by_symbol: dict[str, Notification], row: Notification) -> CanonicalRecord | None:
    parent_row = by_symbol.get(row.measure_key) if row.measure_key != row.symbol else None
    return as_record(parent_row) if parent_row is not None else None


def _scope(by_symbol: dict[str, Notification], row: Notification) -> ParentScope | None:
    """The parent's stored alert sectors: an addendum with thin text inherits them."""
    parent_row = by_symbol.get(row.measure_key) if row.measure_key != row.symbol else None
    if parent_row is None or not parent_row.alert_sectors:
        return None
    return ParentScope(parent_row.symbol, tuple(parent_row.alert_sectors))


def _store(session: Session, row: Notification, result: ClassificationJSON, stamp: str) -> None:
    row.classification = dict(result)
    row.alert_sectors = tier_sectors(result)
    row.horizontal = result["horizontal"]
    row.classified_hash = stamp
    session.add(row)
