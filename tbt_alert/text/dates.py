"""Dates as sources write them: read tolerantly, never raise on text.

Absolute dates read (the first one in the text wins): ISO dates and datetimes (the date as written,
not shifted to UTC), ``2003/12/16``, ``2007 May 09``, ``21 October 2025``, ``June 12, 2019``,
``2025年11月9日``, English/French/Spanish/German month names, ``12/06/2019`` and ``19-04-2010`` read
day first (WTO, EU and Indian sources) unless only the month-first reading is valid, ``20250101``,
and Excel serial day numbers (epoch 1899-12-30) given alone. Years outside 1980-2100 are refused.

Relative deadlines ("60 days after notification", "自通报之日起60天", "WTO秘書處分發後60天",
"60 jours après la notification", "60 días después de la notificación") give a number of calendar
days counted from the distribution date; "working days" are not read.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

MAX_DATE_TEXT = 2000  # characters looked at; a date field is short
MIN_YEAR, MAX_YEAR = 1980, 2100
EXCEL_EPOCH = dt.date(1899, 12, 30)

_MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan janvier enero ene januar jan",
        "february feb fevrier fev febrero februar",
        "march mar mars marzo marz",
        "april apr avril avr abril abr",
        "may mai mayo",
        "june jun juin junio juni",
        "july jul juillet juil julio juli",
        "august aug aout agosto ago",
        "september sept sep septembre septiembre setiembre set",
        "october oct octobre octubre oktober okt",
        "november nov novembre noviembre",
        "december dec decembre diciembre dic dezember dez",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS[_name] = _number
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")(?![a-z])\.?"
_D, _Y = r"(?P<d>[0-9]{1,2})(?![0-9])", r"(?<![0-9])(?P<y>[0-9]{4})(?![0-9])"

_PATTERNS = tuple(
    re.compile(p)
    for p in (
        rf"{_Y}\s*[-/.]\s*(?P<m>[0-9]{{1,2}})\s*[-/.]\s*{_D}",
        rf"{_Y}\s*[年년]\s*(?P<m>[0-9]{{1,2}})\s*[月월]\s*{_D}",
        rf"{_Y},?\s+{_MON},?\s*{_D}",
        rf"(?<![0-9]){_D}(?:st|nd|rd|th|er|o|\.)?\s*(?:de\s+)?{_MON},?\s*(?:de\s+)?{_Y}",
        rf"(?<![a-z]){_MON}\s*{_D}(?:st|nd|rd|th)?,?\s*{_Y}",
        rf"(?<![0-9/.-])(?P<a>[0-9]{{1,2}})\s*(?P<sep>[-/.])\s*(?P<b>[0-9]{{1,2}})\s*(?P=sep)\s*{_Y}",
    )
)
_COMPACT = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})")
_SERIAL = re.compile(r"(?P<n>[0-9]{5})(?:\.[0-9]+)?")

_NUMBER_WORDS = {
    "thirty": "30",
    "forty-five": "45",
    "forty five": "45",
    "sixty": "60",
    "ninety": "90",
    "trente": "30",
    "soixante": "60",
    "quatre-vingt-dix": "90",
    "treinta": "30",
    "sesenta": "60",
    "noventa": "90",
    "sechzig": "60",
}
_RELATIVE = tuple(
    re.compile(p)
    for p in (
        r"(?<![0-9])([0-9]{1,3})\s*(?:\(\s*[0-9]{1,3}\s*\)\s*)?(?:calendar\s+)?"
        r"(?:days?|jours?|dias?|tagen?)(?![a-z])[^.;0-9]{0,60}?(?:notif|circulat|distribu|diffusion)",
        r"(?:通[报報]|分[发發]|notif)[^0-9]{0,15}?(?<![0-9])([0-9]{1,3})\s*[个個]?(?:日[历曆])?[天日](?![工])",
        r"(?<![0-9月])([0-9]{1,3})\s*[个個]?天[^0-9]{0,8}?(?:通[报報]|分[发發])",
    )
)


@dataclass(frozen=True)
class Deadline:
    """A comment deadline: the date (absolute, or computed), the relative days stated, the text."""

    date: dt.date | None
    relative_days: int | None
    text: str | None


def _fold(text: str) -> str:
    """NFKC, accents removed, case folded: "Février" -> "fevrier", "２０２５" -> "2025"."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text[:MAX_DATE_TEXT]))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", text).casefold()


def _make(year: int, month: int, day: int) -> dt.date | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _from_match(match: re.Match[str]) -> dt.date | None:
    parts = match.groupdict()
    year = int(parts["y"])
    if parts.get("a") is not None:
        first, second = int(parts["a"]), int(parts["b"])
        return _make(year, second, first) or _make(year, first, second)
    month = _MONTHS[parts["mon"]] if parts.get("mon") else int(parts["m"])
    return _make(year, month, int(parts["d"]))


def _whole(text: str) -> dt.date | None:
    """Forms accepted only as the whole field: ``20250101`` and Excel serials."""
    compact = _COMPACT.fullmatch(text)
    if compact:
        return _make(int(compact["y"]), int(compact["m"]), int(compact["d"]))
    serial = _SERIAL.fullmatch(text)
    if serial:
        day = EXCEL_EPOCH + dt.timedelta(days=int(serial["n"]))
        return _make(day.year, day.month, day.day)
    return None


def parse_date(text: str | None) -> dt.date | None:
    """The first absolute date in ``text``, or None; never raises on text."""
    if not isinstance(text, str):
        return None
    folded = _fold(text).strip()
    found = _whole(folded)
    if found:
        return found
    best: tuple[int, dt.date] | None = None
    for pattern in _PATTERNS:
        for match in pattern.finditer(folded):
            day = _from_match(match)
            if day is not None:
                if best is None or match.start() < best[0]:
                    best = (match.start(), day)
                break
    return best[1] if best else None


def relative_days(text: str | None) -> int | None:
    """Days after distribution stated by text such as "60 days after notification", or None."""
    if not isinstance(text, str):
        return None
    folded = _fold(text)
    for word, digits in _NUMBER_WORDS.items():
        folded = folded.replace(word, digits)
    for pattern in _RELATIVE:
        match = pattern.search(folded)
        if match and 0 < int(match.group(1)) <= 366:
            return int(match.group(1))
    return None


def parse_deadline(text: str | None, distribution: dt.date | None) -> Deadline:
    """An absolute date wins; otherwise a relative period counted from ``distribution``.

    ``relative_days`` is filled whenever the text states one, even next to an absolute date.
    """
    clean = text.strip() if isinstance(text, str) else None
    if not clean:
        return Deadline(None, None, None)
    days = relative_days(clean)
    when = parse_date(clean)
    if when is None and days is not None and distribution is not None:
        start = distribution.date() if isinstance(distribution, dt.datetime) else distribution
        when = start + dt.timedelta(days=days)
    return Deadline(when, days, clean)


def to_utc(moment: dt.datetime) -> dt.datetime:
    """The same instant in UTC; a naive datetime is refused (its zone is unknown)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} has no time zone")
    return moment.astimezone(dt.UTC)


def utc_from_date(day: dt.date) -> dt.datetime:
    """Midnight UTC at the start of ``day``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
