"""Risk level per (measure, sector) with reasons; time is a parameter."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tbt_alert.classify.reasons import Reason, ReasonKind
from tbt_alert.classify.risk import assess, comment_deadline, member_code, parse_date
from tbt_alert.record import CanonicalRecord

NOW = datetime(2025, 3, 1, tzinfo=UTC)


def rec(**kw: str) -> CanonicalRecord:
    base = {"symbol": "G/TBT/N/EU/1", "member": "European Union", "title": "x", **kw}
    return CanonicalRecord(**base)  # type: ignore[arg-type]


def test_eu_ban_with_closing_comment_window_is_red() -> None:
    risk = assess(
        rec(
            title="Draft Commission Regulation: restriction of chromium VI in leather footwear",
            comment_deadline="2025-03-20",
        ),
        "footwear_leather",
        NOW,
    )
    assert risk.level == "red"
    assert Reason(ReasonKind.MARKET, "EU", strength="major") in risk.reasons
    assert Reason(ReasonKind.MEASURE_KIND, "ban") in risk.reasons
    assert (
        Reason(ReasonKind.COMMENT_PERIOD, "2025-03-20", strength="closing", detail={"days": "19"})
        in risk.reasons
    )


def test_small_market_voluntary_labelling_standard_is_green() -> None:
    risk = assess(
        rec(
            symbol="G/TBT/N/UGA/9",
            member="Uganda",
            title="Voluntary standard for labelling of textiles",
        ),
        "apparel_textiles",
        NOW,
    )
    assert risk.level == "green"
    assert Reason(ReasonKind.VOLUNTARY) in risk.reasons


def test_russia_weighs_more_for_footwear_than_for_pumps() -> None:
    r = rec(
        symbol="G/TBT/N/RUS/5",
        member="Russian Federation",
        title="Technical regulation on products",
    )
    assert assess(r, "footwear_leather", NOW).reasons[0].strength == "major"
    assert assess(r, "pumps_valves", NOW).reasons[0].strength == "significant"


def test_time_left_depends_on_now_only() -> None:
    r = rec(title="Technical regulation: certification of toys", comment_deadline="2025-04-15")
    assert any(
        x.strength == "closing"
        for x in assess(r, "toys_playground", datetime(2025, 4, 1, tzinfo=UTC)).reasons
    )
    assert any(
        x.strength == "open"
        for x in assess(r, "toys_playground", datetime(2025, 1, 1, tzinfo=UTC)).reasons
    )
    assert any(
        x.strength == "closed"
        for x in assess(r, "toys_playground", datetime(2025, 5, 1, tzinfo=UTC)).reasons
    )


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
    assert comment_deadline(
        rec(comment_deadline="60 days after Notification", distribution_date="2010-04-09")
    ) == date(2010, 6, 8)
    assert comment_deadline(
        rec(comment_deadline="自分发日期起60天", distribution_date="2020-01-01")
    ) == date(2020, 3, 1)


def test_member_code() -> None:
    assert member_code(rec(symbol="G/TBT/N/USA/1")) == "USA"
    assert member_code(rec(symbol="G/TBT/Notif.97.323", member="美国")) == "USA"
