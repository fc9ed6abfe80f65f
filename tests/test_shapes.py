"""Stored JSON columns: declared shapes, one reader each, and facts carried from ingest."""

import io
import json
from datetime import UTC, date, datetime

from sqlmodel import Session, select

from tbt_alert.classify.classifier import load_classifier
from tbt_alert.pipeline import import_jsonl
from tbt_alert.store.ingest import as_record
from tbt_alert.store.shapes import (
    read_classification,
    read_digest_snapshot,
    read_events,
    read_warning_snapshot,
    tier_sectors,
)
from tbt_alert.store.tables import Notification

NOW = datetime(2026, 11, 26, tzinfo=UTC)


def test_classification_reader_takes_junk_and_old_rows():
    assert read_classification(None)["sectors"] == []
    assert read_classification({"sectors": [1, "x", {"tier": "alert"}]})["sectors"] == []
    old = {
        "symbol": "G/TBT/N/EU/1",
        "horizontal": False,
        "sectors": [
            {
                "sector": "footwear_leather",
                "tier": "alert",
                "score": 0.9,
                "reasons": ["rule score 7", {"kind": "hs", "value": "6403"}, 3],
                "risk": {"level": "red", "reasons": ["3 points"]},
            },
            {"sector": "toys_playground", "tier": "possible"},
        ],
    }
    got = read_classification(old)
    assert got["sectors"][0]["reasons"] == ["rule score 7", {"kind": "hs", "value": "6403"}]
    assert got["sectors"][0]["risk"] == {"reasons": ["3 points"], "level": "red"}
    assert got["sectors"][1]["risk"] == {"reasons": []} and got["sectors"][1]["score"] == 0.0
    assert tier_sectors(old) == ["footwear_leather"]
    assert tier_sectors(old, "possible") == ["toys_playground"]


def test_the_stored_classification_has_the_declared_shape():
    clf = load_classifier()
    [result] = clf.classify_many([as_record_of("Safety footwear", ["6403"])])
    stored = json.loads(json.dumps(result.to_json()))
    assert read_classification(stored) == stored  # the reader changes nothing it wrote


def as_record_of(title, hs):
    from tbt_alert.record import CanonicalRecord

    return CanonicalRecord(symbol="G/TBT/N/EU/9", member="European Union", title=title, hs_codes=hs)


def test_event_and_snapshot_readers():
    events = [{"kind": "adopted", "date": "2026-01-01", "text": "x"}, {"date": 1}, "junk"]
    assert read_events(events) == [{"kind": "adopted", "date": "2026-01-01", "text": "x"}]
    snap = read_warning_snapshot({"kind": "update", "events": events})
    assert snap["kind"] == "update" and snap["symbols"] == [] and len(snap["events"]) == 1
    assert snap["classification"]["sectors"] == []
    assert read_digest_snapshot({"period": "2026-W48"})["period"] == "2026-W48"


def test_as_record_carries_what_ingest_normalised(engine):
    record = {
        "symbol": "G/TBT/N/EU/1097",
        "member": "European Union",
        "title": "Footwear labelling",
        "distribution_date": "2026-11-20",
        "comment_deadline": "60 days after notification",
    }
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="import", now=NOW)
        row = session.exec(select(Notification)).one()
        facts = as_record(row).facts
    assert facts is not None
    assert facts.member_code == "EU" and facts.comment_deadline == date(2027, 1, 19)
    assert facts.comment_deadline == row.comment_deadline


def test_a_source_payload_reads_as_a_canonical_record_or_not_at_all():
    from tbt_alert.store.shapes import read_payload

    stored = {"symbol": "G/TBT/N/EU/1097", "member": "European Union", "title": "Shoes"}
    read = read_payload({**stored, "dol_link": "q:/G/TBT/N/EU1097.pdf"})
    assert read["symbol"] == "G/TBT/N/EU/1097" and read["dol_link"] == "q:/G/TBT/N/EU1097.pdf"
    assert read["hs_codes"] == [] and read["document_url"] is None  # every declared field is there
    for junk in (None, [], "text", {"symbol": "G/TBT/N/EU/1097"}, {**stored, "hs_codes": 7}):
        assert read_payload(junk) == {}
