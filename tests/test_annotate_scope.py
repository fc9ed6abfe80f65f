"""A thin addendum stored after its parent inherits the parent's stored alert sectors."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

from sqlmodel import Session, select

from tbt_alert.classify.annotate import annotate_pending
from tbt_alert.classify.classifier import load_classifier
from tbt_alert.pipeline import import_jsonl
from tbt_alert.store.tables import Notification

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
PARENT = {
    "symbol": "G/TBT/N/KEN/9001",
    "member": "Kenya",
    "distribution_date": "2026-10-10",
    "title": "Draft Kenya Standard on consumer articles",
    "description": "Requirements for articles sold to consumers.",
}
CHILD = {
    "symbol": "G/TBT/N/KEN/9001/Add.1",
    "member": "Kenya",
    "distribution_date": "2026-11-10",
    "title": "Addendum",
    "description": "The date of adoption is postponed to 1 March 2027.",
}


def load(session: Session, *records: dict) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records)
    import_jsonl(session, io.StringIO(text), source="import", now=NOW)
    session.commit()


def test_thin_addendum_inherits_the_stored_parent_sectors(engine) -> None:
    classifier = load_classifier()
    with Session(engine) as session:
        load(session, PARENT)
        annotate_pending(session, classifier)
        parent = session.exec(
            select(Notification).where(Notification.symbol == PARENT["symbol"])
        ).one()
        assert parent.alert_sectors == []  # its own text names no products
        parent.alert_sectors = ["toys_playground"]  # as an analyst confirmed it
        session.add(parent)
        session.commit()
        load(session, CHILD)
        annotate_pending(session, classifier)
        session.commit()
        child = session.exec(
            select(Notification).where(Notification.symbol == CHILD["symbol"])
        ).one()
        assert child.alert_sectors == ["toys_playground"]
        reasons = child.classification["sectors"][0]["reasons"]
        inherited = [r for r in reasons if r["kind"] == "inherited"]
        assert [r["value"] for r in inherited] == [PARENT["symbol"]]
