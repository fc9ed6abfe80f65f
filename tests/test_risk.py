"""Risk per (measure, sector): points from the content are stored; the level and the timing are
worked out for the day shown."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from tbt_alert.classify.reasons import Reason, ReasonKind
from tbt_alert.classify.risk import assess, content_points, risk_from_json
from tbt_alert.record import CanonicalRecord, Facts
from tbt_alert.store.ingest import read_facts
from tbt_alert.text.dates import parse_date

NOW = datetime(2025, 3, 1, tzinfo=UTC)
TODAY = NOW.date()


def rec(**kw: str) -> CanonicalRecord:
    base = {"symbol": "G/TBT/N/EU/1", "member": "European Union", "title": "x", **kw}
    return CanonicalRecord(**base)  # type: ignore[arg-type]


def test_eu_ban_with_closing_comment_window_is_red() -> None:
    stored = assess(
        rec(
            title="Draft Commission Regulation: restriction of chromium VI in leather footwear",
            comment_deadline="2025-03-20",
        ),
        "footwear_leather",
    )
    risk = stored.at(TODAY)
    assert risk.level == "red"
    assert Reason(ReasonKind.MARKET, "EU", strength="major") in risk.reasons
    assert Reason(ReasonKind.MEASURE_KIND, "ban") in risk.reasons
    closing = Reason(
        ReasonKind.COMMENT_PERIOD, "2025-03-20", strength="closing", detail={"days": "19"}
    )
    assert closing in risk.reasons
    # stored: the deadline as a fact, no day count, no level
    assert Reason(ReasonKind.COMMENT_PERIOD, "2025-03-20") in stored.reasons
    assert "level" not in stored.to_json() and "days" not in str(stored.to_json())


def test_small_market_voluntary_labelling_standard_is_green() -> None:
    risk = assess(
        rec(
            symbol="G/TBT/N/UGA/9",
            member="Uganda",
            title="Voluntary standard for labelling of textiles",
        ),
        "apparel_textiles",
    ).at(TODAY)
    assert risk.level == "green"
    assert Reason(ReasonKind.VOLUNTARY) in risk.reasons


def test_russia_weighs_more_for_footwear_than_for_pumps() -> None:
    r = rec(
        symbol="G/TBT/N/RUS/5",
        member="Russian Federation",
        title="Technical regulation on products",
    )
    assert assess(r, "footwear_leather").reasons[0].strength == "major"
    assert assess(r, "pumps_valves").reasons[0].strength == "significant"


def test_time_is_weighed_on_the_day_shown_not_when_classified() -> None:
    r = rec(title="Technical regulation: certification of toys", comment_deadline="2025-04-15")
    stored = risk_from_json(json.loads(json.dumps(assess(r, "toys_playground").to_json())))

    def state(day: date) -> tuple[str, str | None]:
        now = stored.at(day)
        period = next(x for x in now.reasons if x.kind == ReasonKind.COMMENT_PERIOD)
        return now.level, period.strength

    # EU market 2 + mandatory 1 + certification 1 = 4 stored points; + 1 while closing
    assert state(date(2025, 4, 1)) == ("red", "closing")
    assert state(date(2025, 1, 1)) == ("amber", "open")
    assert state(date(2025, 5, 1)) == ("amber", "closed")
    # the notification's own deadline, when given, is the one weighed
    moved = stored.at(date(2025, 4, 1), date(2025, 6, 30))
    assert moved.level == "amber"
    assert any(x.detail.get("days") == "90" for x in moved.reasons)


def test_entry_into_force_counts_only_within_six_months_of_the_day_shown() -> None:
    r = rec(title="Voluntary code for toys", proposed_entry_into_force="2025-12-01")
    stored = assess(r, "toys_playground")
    assert stored.at(date(2025, 3, 1)).points == stored.points
    assert stored.at(date(2025, 7, 1)).points == stored.points + 1


def test_a_risk_stored_by_an_earlier_version_still_reads() -> None:
    old = {"level": "red", "reasons": ["3 points", "major market for Wenzhou exports (EU)"]}
    risk = risk_from_json(old).at(TODAY)
    assert risk.level == "red"
    assert [x.kind for x in risk.reasons] == [ReasonKind.LEGACY, ReasonKind.LEGACY]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-01-15", date(2017, 1, 15)),
        ("2013/6/19", date(2013, 6, 19)),
        ("2007 May 09", date(2007, 5, 9)),
        ("2025年5月5日", date(2025, 5, 5)),
        ("60 days after notification", None),
        (None, None),
    ],
)
def test_parse_date(text: str | None, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_days_after_distribution() -> None:
    assert read_facts(
        rec(comment_deadline="60 days after Notification", distribution_date="2010-04-09")
    ).comment_deadline == date(2010, 6, 8)
    assert read_facts(
        rec(comment_deadline="自分发日期起60天", distribution_date="2020-01-01")
    ).comment_deadline == date(2020, 3, 1)


def test_member_code() -> None:
    assert read_facts(rec(symbol="G/TBT/N/USA/1")).member_code == "USA"
    assert read_facts(rec(symbol="G/TBT/Notif.97.323", member="美国")).member_code == "USA"


def test_risk_takes_the_member_and_deadline_ingest_read() -> None:
    """A record from the store carries what ingest normalised: risk does not read the text
    again (here the stored facts deliberately disagree with the text)."""
    facts = Facts("USA", "United States", date(2025, 1, 1), date(2025, 3, 10))
    record = rec(member="Uganda", comment_deadline="60 days after notification")
    record = replace(record, facts=facts)
    risk = assess(record, "toys_playground")
    assert risk.reasons[0] == Reason(ReasonKind.MARKET, "USA", strength="major")
    assert Reason(ReasonKind.COMMENT_PERIOD, "2025-03-10") in risk.reasons


def test_a_stored_notification_s_entry_into_force_reaches_risk(engine) -> None:
    import io

    from sqlmodel import Session, select

    from tbt_alert.pipeline import import_jsonl
    from tbt_alert.store.ingest import as_record
    from tbt_alert.store.tables import Notification

    data = {
        "symbol": "G/TBT/N/USA/2001",
        "member": "United States",
        "title": "Toys: safety requirements",
        "proposed_entry_into_force": "1 December 2025",
    }
    now = datetime(2025, 1, 1, tzinfo=UTC)
    with Session(engine) as session:
        import_jsonl(session, io.StringIO(json.dumps(data) + "\n"), source="import", now=now)
        session.commit()
        row = session.exec(select(Notification)).one()
    assert row.proposed_entry_into_force == date(2025, 12, 1)
    record = as_record(row)
    assert record.facts is not None and record.facts.entry_into_force == date(2025, 12, 1)
    stored = assess(record, "toys_playground")
    assert Reason(ReasonKind.ENTRY_INTO_FORCE, "2025-12-01") in stored.reasons
    assert stored.at(date(2025, 7, 1)).points == stored.points + 1


def test_content_points_given_once_per_record_give_the_same_risk() -> None:
    """The classifier reads the text's points once per record and passes them to every sector."""
    r = rec(
        symbol="G/TBT/N/RUS/5",
        member="Russian Federation",
        title="Technical regulation prohibiting lead in footwear; labelling and certification",
        comment_deadline="2025-03-20",
    )
    content = content_points(r)
    assert content[0] == 1 + 2 + 1  # mandatory, ban, testing (labelling weighs nothing)
    for sector in ("footwear_leather", "pumps_valves"):
        assert assess(r, sector, read_facts(r), content) == assess(r, sector)
    assert assess(r, "footwear_leather").points == assess(r, "pumps_valves").points + 1


@pytest.mark.parametrize(
    ("title", "mandatory", "ban"),
    [
        ("Regulation on toys; ban on lead", True, True),
        ("Regulations (EU) banning lead", True, False),  # 'banning' is not the word 'ban'
        ("Deregulation of the urban taxi market", False, False),  # words inside other words
        ("Mandatory-labelling decree, Bans", True, False),  # 'bans' is not 'ban' either
        ("Quality control order: ban", True, True),
    ],
)
def test_mandatory_and_ban_are_whole_words(title: str, mandatory: bool, ban: bool) -> None:
    reasons = assess(rec(title=title), "toys_playground").reasons
    assert (Reason(ReasonKind.MANDATORY) in reasons) == mandatory
    assert (Reason(ReasonKind.MEASURE_KIND, "ban") in reasons) == ban
