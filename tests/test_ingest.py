import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from tbt_alert.errors import RecordError
from tbt_alert.pipeline import import_jsonl
from tbt_alert.record import parse_line, parse_record
from tbt_alert.store.ingest import key_record
from tbt_alert.store.tables import Notification, SourceRecord

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
DATA = Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"


def line(**fields) -> str:
    base = {
        "symbol": "G/TBT/N/EU/1097",
        "member": "European Union",
        "title": "Footwear labelling",
        "distribution_date": "2026-11-02",
        "comment_deadline": "2027-01-01",
        "hs_codes": ["6403"],
        "ics_codes": [],
    }
    base.update(fields)
    return json.dumps(base, ensure_ascii=False)


def count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Notification)).one()


def test_reimport_updates_and_never_duplicates(engine):
    with Session(engine) as session:
        first = import_jsonl(session, io.StringIO(line() + "\n"), source="import", now=NOW)
        session.commit()
        again = import_jsonl(session, io.StringIO(line() + "\n"), source="import", now=NOW)
        changed = import_jsonl(
            session,
            io.StringIO(line(title="Footwear labelling (revised)") + "\n"),
            source="import",
            now=NOW,
        )
        session.commit()
        assert (len(first.new), again.unchanged, len(changed.updated)) == (1, 1, 1)
        assert count(session) == 1
        row = session.exec(select(Notification)).one()
        assert row.title == "Footwear labelling (revised)"
        assert row.comment_deadline == date(2027, 1, 1)
        assert row.first_seen_at == NOW and row.first_seen_at.tzinfo is not None


def test_bad_lines_are_reported_with_their_number_and_nothing_stored_is_lost(engine):
    good = line()
    stream = io.StringIO(
        "\n".join(
            [
                good,
                "{not json",
                line(title="", description=None),
                '["a list"]',
                line(symbol="G/TBT/N/USA/1", hs_codes=5),
                line(symbol="nonsense"),
            ]
        )
        + "\n"
    )
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(good + "\n"), source="import", now=NOW)
        session.commit()
        report = import_jsonl(session, stream, source="import", now=NOW)
        session.commit()
        assert [p.split(":")[0] for p in report.invalid] == [
            "line 2",
            "line 3",
            "line 4",
            "line 5",
            "line 6",
        ]
        assert "title" in report.invalid[1] and "hs_codes" in report.invalid[3]
        assert "nonsense" in report.invalid[4]
        assert report.unchanged == 1
        assert count(session) == 1


def test_joint_notifications_are_one_measure_whatever_the_order(engine):
    joint = "G/TBT/N/BHR/780, G/TBT/N/ARE/703, G/TBT/N/KWT/764"
    a = line(symbol="G/TBT/N/BHR/780", member="Bahrain, Kingdom of", joint_symbols=[joint])
    b = line(
        symbol=" G/TBT/N/KWT/764",
        member="Kuwait, the State of",
        joint_symbols=["G/TBT/N/KWT/764, G/TBT/N/BHR/780, G/TBT/N/ARE/703"],
    )
    with Session(engine) as session:
        report = import_jsonl(session, io.StringIO(a + "\n" + b + "\n"), source="eping", now=NOW)
        session.commit()
        row = session.exec(select(Notification)).one()
        assert len(report.new) == 1
        assert row.symbol == "G/TBT/N/ARE/703"
        assert row.joint_symbols == ["G/TBT/N/ARE/703", "G/TBT/N/BHR/780", "G/TBT/N/KWT/764"]
        assert set(row.markets) == {"ARE", "BHR", "KWT"}


def test_addenda_are_linked_to_their_parent(engine):
    records = [
        line(symbol="G/TBT/N/BRA/312/Add.9", title="Addendum"),
        line(symbol="G/TBT/N/EU/1097/Add.1/Corr.1", title="Corrigendum"),
    ]
    with Session(engine) as session:
        import_jsonl(session, io.StringIO("\n".join(records) + "\n"), source="import", now=NOW)
        session.commit()
        rows = {r.symbol: r for r in session.exec(select(Notification)).all()}
        add = rows["G/TBT/N/BRA/312/Add.9"]
        corr = rows["G/TBT/N/EU/1097/Add.1/Corr.1"]
        assert (add.parent_symbol, add.measure_key, add.kind) == (
            "G/TBT/N/BRA/312",
            "G/TBT/N/BRA/312",
            "addendum",
        )
        assert (corr.parent_symbol, corr.measure_key, corr.kind) == (
            "G/TBT/N/EU/1097/Add.1",
            "G/TBT/N/EU/1097",
            "corrigendum",
        )


def test_every_bundled_real_notification_imports(engine):
    text = DATA.read_text(encoding="utf-8")
    with Session(engine) as session:
        report = import_jsonl(session, io.StringIO(text), source="labelled", now=NOW)
        session.commit()
        assert report.invalid == []
        total = count(session)
        sources = session.exec(select(func.count()).select_from(SourceRecord)).one()
    lines = [json.loads(x) for x in text.splitlines() if x.strip()]
    distinct = {key_record(parse_record(r)).symbol for r in lines}
    assert total == len(distinct) and len(report.new) == len(distinct)
    assert sources == len({r["symbol"] for r in lines})


def test_relative_deadlines_are_resolved_from_the_distribution_date(engine):
    rec = line(distribution_date="2026-11-02", comment_deadline="60 days after notification")
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(rec + "\n"), source="import", now=NOW)
        row = session.exec(select(Notification)).one()
        assert row.comment_deadline == date(2027, 1, 1)
        assert row.comment_deadline_text == "60 days after notification"


def test_hostile_record_values_are_refused_clearly():
    with pytest.raises(RecordError, match="title"):
        parse_line(line(title=None))
    derived = parse_line(
        line(title=None, description="Kenya informs Members that KS 2975 was adopted. It applies.")
    )
    assert derived.title == "Kenya informs Members that KS 2975 was adopted"
    with pytest.raises(RecordError, match="JSON object"):
        parse_line("42")
    with pytest.raises(RecordError, match="longer than"):
        parse_line(line(description="x" * 300_000))
    assert parse_line(line(title="a\x00b")).title == "ab"


def test_a_secondary_source_fills_gaps_and_a_recrawl_does_not_undo_it(engine):
    eping = line(
        symbol="G/TBT/N/KEN/1307/Add.1",
        title="Edible ices",
        description=None,
        hs_codes=[],
        comment_deadline=None,
        source_id="99001",
    )
    document = line(
        symbol="G/TBT/N/KEN/1307/Add.1",
        title="Addendum",
        description="Adopted text",
        hs_codes=["2105"],
        events=[{"kind": "adopted", "date": "2023-06-09", "text": "adopted"}],
        member="Kenya",
    )
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(eping + "\n"), source="eping", now=NOW)
        report = import_jsonl(session, io.StringIO(document + "\n"), source="wtodoc", now=NOW)
        assert report.updated == ["G/TBT/N/KEN/1307/Add.1"]
        again = import_jsonl(session, io.StringIO(eping + "\n"), source="eping", now=NOW)
        assert again.unchanged == 1 and again.updated == []
        session.commit()
        row = session.exec(select(Notification)).one()
        assert row.title == "Edible ices"  # the primary source speaks first
        assert row.description == "Adopted text" and row.hs_codes == ["2105"]  # gaps filled
        assert row.events == [{"kind": "adopted", "date": "2023-06-09", "text": "adopted"}]
        assert session.exec(select(func.count()).select_from(SourceRecord)).one() == 2


def test_the_merge_of_one_source_is_that_source_exactly():
    """Otherwise a re-import of unchanged records would count them as updated."""
    from tbt_alert.store.ingest import content_hash, merge_records

    for text in DATA.read_text(encoding="utf-8").splitlines():
        record = parse_record(json.loads(text))
        alone = SourceRecord(
            source="eping",
            source_key="1",
            notification_id=1,
            payload=record.to_dict(),
            content_hash="",
            first_seen_at=NOW,
            fetched_at=NOW,
        )
        assert content_hash(merge_records([alone])) == content_hash(record), record.symbol


def test_the_description_of_an_addendum_is_read_by_the_adapter_not_by_ingest(engine):
    """Events come from the source adapter (here the one ``import`` uses); a record handed to
    ingest without events is stored without events: storage only stores."""
    from tbt_alert.record import parse_record as plain
    from tbt_alert.store.ingest import ingest_records

    said = "Kenya informs Members that KS 2975 was adopted on 9 June 2023."
    addendum = line(symbol="G/TBT/N/KEN/1307/Add.1", description=said)
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(addendum + "\n"), source="import", now=NOW)
        ingest_records(
            session,
            [plain(json.loads(line(symbol="G/TBT/N/KEN/1307/Add.2", description=said)))],
            source="other",
            now=NOW,
        )
        session.commit()
        rows = {r.symbol: r for r in session.exec(select(Notification)).all()}
    events = rows["G/TBT/N/KEN/1307/Add.1"].events
    assert [(e["kind"], e["date"]) for e in events] == [("adopted", "2023-06-09")]
    assert rows["G/TBT/N/KEN/1307/Add.2"].events == []


def test_the_document_reader_s_events_win_over_a_description_s(engine):
    eping = line(
        symbol="G/TBT/N/KEN/1307/Add.1",
        description="The measure was published in the Gazette.",
        source_id="99001",
    )
    document = line(
        symbol="G/TBT/N/KEN/1307/Add.1",
        events=[{"kind": "adopted", "date": "2023-06-09", "text": "adopted"}],
    )
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(eping + "\n"), source="eping", now=NOW)
        assert session.exec(select(Notification)).one().events[0]["kind"] == "published"
        import_jsonl(session, io.StringIO(document + "\n"), source="wtodoc", now=NOW)
        session.commit()
        row = session.exec(select(Notification)).one()
    assert row.events == [{"kind": "adopted", "date": "2023-06-09", "text": "adopted"}]


def test_storage_never_reads_documents_or_descriptions():
    """No module of store/ imports the addendum readers or the adapters that call them."""
    import ast

    readers = {"events_in_text", "parse_addendum_text", "parse_notification_text"}
    for path in (Path(__file__).resolve().parent.parent / "tbt_alert" / "store").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = {a.name for a in node.names}
                assert not names & readers, f"{path.name} imports {names & readers}"
                assert node.module not in ("tbt_alert.sources.canonical",), path.name
