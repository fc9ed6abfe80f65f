from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbt_alert.text.dates import (
    Deadline,
    parse_date,
    parse_deadline,
    relative_days,
    to_utc,
    utc_from_date,
)

LABELLED = (
    Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
)
D = dt.date


def _records() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-10-20", D(2017, 10, 20)),
        ("  2017-10-20\n", D(2017, 10, 20)),
        ("2026-07-02T00:00:00+00:00", D(2026, 7, 2)),
        ("2026-07-01T23:30:00-05:00", D(2026, 7, 1)),
        ("2026-07-02 12:00:00", D(2026, 7, 2)),
        ("2026-07-02T00:00:00Z", D(2026, 7, 2)),
        ("2003/12/16", D(2003, 12, 16)),
        ("2013/6/19", D(2013, 6, 19)),
        ("2013.6.19", D(2013, 6, 19)),
        ("2007 May 09", D(2007, 5, 9)),
        ("2024 November 22", D(2024, 11, 22)),
        ("Final date for comments: 2017 August 27", D(2017, 8, 27)),
        ("21 October 2025", D(2025, 10, 21)),
        ("1 October 1997", D(1997, 10, 1)),
        ("4 May 2005", D(2005, 5, 4)),
        ("31 August 1997. 11. Texts available from", D(1997, 8, 31)),
        ("21 Oct. 2025", D(2025, 10, 21)),
        ("June 12, 2019", D(2019, 6, 12)),
        ("Sept 3rd, 2019", D(2019, 9, 3)),
        ("1er février 2025", D(2025, 2, 1)),
        ("3 mars 2025", D(2025, 3, 3)),
        ("21 de octubre de 2025", D(2025, 10, 21)),
        ("21. Oktober 2025", D(2025, 10, 21)),
        ("3. März 2025", D(2025, 3, 3)),
        ("2025年11月9日", D(2025, 11, 9)),
        ("2025 年 11 月 9 日", D(2025, 11, 9)),
        ("２０２５年１１月９日", D(2025, 11, 9)),
        ("2025年11月9日;[X]距通报60天", D(2025, 11, 9)),
        ("2025년 11월 9일", D(2025, 11, 9)),
        ("12/06/2019", D(2019, 6, 12)),
        ("19-04-2010", D(2010, 4, 19)),
        ("19.04.2010", D(2010, 4, 19)),
        ("05/13/2020", D(2020, 5, 13)),
        ("16-10-2020NA No", D(2020, 10, 16)),
        ("20250101", D(2025, 1, 1)),
        ("45123", D(2023, 7, 16)),
        ("45123.0", D(2023, 7, 16)),
        ("36526", D(2000, 1, 1)),
        ("between 2 May 2025 and 2025-01-01", D(2025, 5, 2)),
        ("2025-01-01 or 2 May 2025", D(2025, 1, 1)),
    ],
)
def test_parse_date_reads_absolute_dates(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "60 days after Notification",
        "通报后60天",
        "不适用",
        "NA - six-month transitional period",
        "To be determined",
        "批准的文件中确定",
        "2025-02-30",
        "2025-13-01",
        "31/02/2020",
        "0001-01-01",
        "9999-12-31",
        "1907/2006",
        "Regulation (EC) No 1907/2006",
        "12345",
        "99999",
        "2025",
        "May 2025",
        "32 October 2025",
    ],
)
def test_parse_date_returns_none_for_non_dates(text: str | None) -> None:
    assert parse_date(text) is None


def test_every_labelled_iso_date_reads_as_itself() -> None:
    for record in _records():
        for field in ("distribution_date", "comment_deadline"):
            value = record.get(field)
            if value and len(value) == 10 and value[4] == "-":
                assert parse_date(value) == D.fromisoformat(value)


DIST = D(2025, 9, 10)
PLUS_60 = D(2025, 11, 9)


@pytest.mark.parametrize(
    ("text", "date", "days"),
    [
        ("1996-03-22", D(1996, 3, 22), None),
        ("2003/10/31", D(2003, 10, 31), None),
        ("2007 May 09", D(2007, 5, 9), None),
        ("2013/6/19", D(2013, 6, 19), None),
        ("21 October 2025", D(2025, 10, 21), None),
        ("2025年11月9日;[X]距通报60天", D(2025, 11, 9), 60),
        ("60 days after Notification", PLUS_60, 60),
        ("60 days from notification", PLUS_60, 60),
        ("Sixty (60) days from the date of circulation", PLUS_60, 60),
        ("60 calendar days after distribution", PLUS_60, 60),
        ("90 days after notification", DIST + dt.timedelta(days=90), 90),
        ("60 jours après la notification", PLUS_60, 60),
        ("60 días después de la notificación", PLUS_60, 60),
        ("60 Tage nach der Notifizierung", PLUS_60, 60),
        ("WTO秘书处分发后60天", PLUS_60, 60),
        ("WTO秘書處分發後60天。", PLUS_60, 60),
        ("自分发日期起60天", PLUS_60, 60),
        ("自通報日期起60天", PLUS_60, 60),
        ("自通報日起60天", PLUS_60, 60),
        ("自通报之日起60天", PLUS_60, 60),
        ("自通报日期起60天", PLUS_60, 60),
        ("自通报日起60天", PLUS_60, 60),
        ("自通报起60天", PLUS_60, 60),
        ("通報之后60天", PLUS_60, 60),
        ("通報分發之后60天", PLUS_60, 60),
        ("通報後60天", PLUS_60, 60),
        ("通报之后60天", PLUS_60, 60),
        ("通报发布之后60天", PLUS_60, 60),
        ("通报后60天", PLUS_60, 60),
        ("通报后６０天", PLUS_60, 60),
        ("60天（自通报之日起）", PLUS_60, 60),
        ("不适用", None, None),
        ("不適用", None, None),
        ("批准的文件中确定", None, None),
        ("NA - six-month transitional period", None, None),
        ("To be determined", None, None),
        ("60 working days after notification", None, None),
        ("通报后60个工作日", None, None),
        ("60 days", None, None),
        ("0 days after notification", None, None),
        ("999 days after notification", None, None),
    ],
)
def test_parse_deadline(text: str, date: dt.date | None, days: int | None) -> None:
    deadline = parse_deadline(text, DIST)
    assert deadline == Deadline(date, days, text.strip())


def test_relative_deadline_without_distribution_keeps_days_only() -> None:
    assert parse_deadline("通报后60天", None) == Deadline(None, 60, "通报后60天")


def test_absolute_deadline_ignores_distribution() -> None:
    assert parse_deadline("2017-10-20", None).date == D(2017, 10, 20)
    assert parse_deadline("2017-10-20", D(2000, 1, 1)).date == D(2017, 10, 20)


def test_deadline_from_datetime_distribution_is_a_date() -> None:
    moment = dt.datetime(2025, 9, 10, 23, 0, tzinfo=dt.UTC)
    deadline = parse_deadline("60 days after notification", moment)
    assert deadline.date == PLUS_60 and type(deadline.date) is dt.date


@pytest.mark.parametrize("text", [None, "", "  \n "])
def test_empty_deadline(text: str | None) -> None:
    assert parse_deadline(text, DIST) == Deadline(None, None, None)


def test_deadline_text_is_stripped_original() -> None:
    assert parse_deadline("  21 October 2025 \n", None) == Deadline(
        D(2025, 10, 21), None, "21 October 2025"
    )


def test_every_labelled_deadline() -> None:
    """Every real value either gives a date (relative ones given a distribution) or is a known
    non-date; none is silently lost."""
    non_dates = {"不适用", "不適用", "批准的文件中确定", "NA - six-month transitional period"}
    seen = 0
    for record in _records():
        text = record.get("comment_deadline")
        if not text:
            continue
        seen += 1
        deadline = parse_deadline(text, DIST)
        assert deadline.text == text
        if text in non_dates:
            assert deadline.date is None and deadline.relative_days is None
        else:
            assert deadline.date is not None, text
            if "60" in text and not text[:4].isdigit():
                assert deadline.relative_days == 60 and deadline.date == PLUS_60, text
    assert seen > 60


def test_relative_days() -> None:
    assert relative_days("60 days after Notification") == 60
    assert relative_days("通报后60天") == 60
    assert relative_days("2025-01-01") is None
    assert relative_days(None) is None


def test_to_utc() -> None:
    shanghai = dt.datetime(2025, 1, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert to_utc(shanghai) == dt.datetime(2025, 1, 1, 0, 0, tzinfo=dt.UTC)
    assert to_utc(shanghai).tzinfo == dt.UTC
    assert to_utc(shanghai).hour == 0
    with pytest.raises(ValueError, match="naive"):
        to_utc(dt.datetime(2025, 1, 1, 8, 0))


def test_utc_from_date() -> None:
    moment = utc_from_date(D(2025, 11, 9))
    assert moment == dt.datetime(2025, 11, 9, 0, 0, tzinfo=dt.UTC)
    assert moment.tzinfo == dt.UTC
    assert utc_from_date(dt.datetime(2025, 11, 9, 23, 59)).hour == 0


@settings(max_examples=300)
@given(st.text(max_size=200), st.one_of(st.none(), st.dates()))
def test_arbitrary_text_never_raises(text: str, distribution: dt.date | None) -> None:
    parsed = parse_date(text)
    assert parsed is None or 1980 <= parsed.year <= 2100
    deadline = parse_deadline(text, distribution)
    assert deadline.text == (text.strip() or None)
    assert deadline.relative_days is None or 0 < deadline.relative_days <= 366


@given(st.dates(D(1980, 1, 1), D(2100, 12, 31)))
def test_iso_and_written_forms_round_trip(day: dt.date) -> None:
    assert parse_date(day.isoformat()) == day
    assert parse_date(day.strftime("%Y %B %d")) == day
    assert parse_date(day.strftime("%d %B %Y")) == day
    assert parse_date(f"{day.year}年{day.month}月{day.day}日") == day
    assert parse_date(day.strftime("%d/%m/%Y")) == day


@given(st.integers(1, 366), st.dates(D(1995, 1, 1), D(2090, 1, 1)))
def test_relative_deadline_adds_days(days: int, distribution: dt.date) -> None:
    deadline = parse_deadline(f"{days} days after notification", distribution)
    assert deadline.date == distribution + dt.timedelta(days=days)
    assert parse_deadline(f"自通报之日起{days}天", distribution).relative_days == days
