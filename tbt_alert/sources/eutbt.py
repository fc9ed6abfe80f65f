"""Read a notification page of the EU TBT database (the EU enquiry point).

Both sites are read: the new ``technical-barriers-trade.ec.europa.eu/en/notification/<id>`` and the
old ``ec.europa.eu/growth/tools-databases/tbt/...search.detail`` whose pages also list "Comments,
answers or reactions". Input is the page's HTML, or its text (one block per line); HTML is turned
into text first, so one reader serves both. Values are found by their labels and headings
("Date of arrival", "Final date for comments", "Description", ...), never by position.
A page without a TBT symbol raises ``CrawlError``; missing labels go to ``EuTbtNotice.warnings``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

import lxml.etree
import lxml.html

from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.record import CanonicalRecord
from tbt_alert.sources.canonical import with_events
from tbt_alert.text import scan as textscan
from tbt_alert.text.codes import codes_listed
from tbt_alert.text.dates import parse_date
from tbt_alert.text.members import member_by_code
from tbt_alert.text.symbols import find_symbols

CommentKind = Literal["comment", "answer", "reaction"]
_HTML = re.compile(
    r"<\s*(?:!doctype|html|head|body|div|p|h[1-6]|span|table|br|main|section)\b", re.I
)
_HEADINGS = {
    "description": "description",
    "objectives": "objectives",
    "objective": "objectives",
    "fields of activity": "fields",
    "products": "products",
    "products covered": "products",
    "keywords": "keywords",
    "hs codes": "hs",
    "ics codes": "ics",
    "full notification form text": "end",
    "full text of the announced text or any other relevant text": "end",
    "comments, answers or reactions": "comments",
    "disclaimer": "end",
    "documents": "end",
}
_ARRIVAL = re.compile(r"Date\s+of\s+arrival\s*:?", re.I)
_FINAL = re.compile(r"Final\s+date\s+for\s+comments\s*:?", re.I)
_MEMBER = re.compile(r"^(?:Notifying\s+)?Member\s*:\s*(?P<name>.{2,120})$", re.I | re.M)
_COMMENT = re.compile(
    r"^(?P<kind>Comment|Answer|Reaction)s?\s*-\s*(?P<member>[^\n()]{2,120}?)\s*-\s*\(\s*(?P<date>[^)\n]{4,40})\)",
    re.I | re.M,
)
_CHROME_LINES = {"notification detail", "notification", "-", ""}
_DATE_WINDOW = 60


@dataclass(frozen=True, slots=True)
class EuComment:
    kind: CommentKind
    member: str
    date: date | None


@dataclass(slots=True)
class EuTbtNotice:
    symbol: str
    url: str
    member: str | None = None
    title: str | None = None
    description: str | None = None
    date_of_arrival: date | None = None
    final_date_for_comments: date | None = None
    objectives: str | None = None
    products: str | None = None
    fields_of_activity: str | None = None
    hs_codes: list[str] = field(default_factory=list)
    ics_codes: list[str] = field(default_factory=list)
    comments: list[EuComment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_record(self) -> CanonicalRecord:
        """The canonical record, an addendum's with the events its description states;
        RecordError when member or title could not be read."""
        if not self.member or not self.title:
            raise RecordError(
                f"EU TBT page {self.url} lacks member or title; warnings: {self.warnings}"
            )
        extra: dict[str, object] = {
            "date_of_arrival": self.date_of_arrival.isoformat() if self.date_of_arrival else None,
            "fields_of_activity": self.fields_of_activity,
            "comments": [
                {"kind": c.kind, "member": c.member, "date": c.date.isoformat() if c.date else None}
                for c in self.comments
            ],
            "parse_warnings": list(self.warnings),
        }
        record = CanonicalRecord(
            symbol=self.symbol,
            member=self.member,
            title=self.title,
            description=self.description,
            products_text=self.products or self.fields_of_activity,
            hs_codes=list(self.hs_codes),
            ics_codes=list(self.ics_codes),
            objective=self.objectives,
            comment_deadline=_iso(self.final_date_for_comments),
            language="en",
            source_url=self.url,
            notification_type=textscan.notification_type(self.symbol),
            source="eu_tbt_db",
            extra={k: v for k, v in extra.items() if v},
        )
        return with_events(record)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def parse_eu_tbt_page(html_or_text: str, url: str) -> EuTbtNotice:
    """Parse one notification page (HTML or its text); CrawlError when no TBT symbol is on it."""
    heading: str | None = None
    if _HTML.search(html_or_text[:5000]):
        root = _html_root(html_or_text)
        heading, raw = _h1(root), textscan.html_lines(root)
    else:
        raw = html_or_text
    text = textscan.clean_text(raw)
    lines = [line for line in text.split("\n") if line]
    symbol_at = _symbol_line(lines)
    if symbol_at is None:
        raise CrawlError(f"EU TBT page {url}: no TBT notification symbol found (layout changed?)")
    index, symbol = symbol_at
    sections = _sections(lines)
    notice = EuTbtNotice(symbol=symbol, url=url)
    notice.title = heading or _title(lines[:index])
    notice.member = _member(text, symbol)
    notice.date_of_arrival = _labelled_date(text, _ARRIVAL, "Date of arrival", notice.warnings)
    notice.final_date_for_comments = _labelled_date(
        text, _FINAL, "Final date for comments", notice.warnings
    )
    _fill_sections(notice, sections)
    notice.comments = _comments(sections.get("comments", ""))
    if not notice.title:
        notice.warnings.append("no title found before the symbol")
    return notice


def _html_root(html: str) -> lxml.html.HtmlElement:
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as e:
        raise CrawlError(f"EU TBT page is not readable HTML: {e}") from e


def _h1(root: lxml.html.HtmlElement) -> str | None:
    for h1 in root.iter("h1"):
        text = textscan.one_line(h1.text_content())
        if text and text.lower() not in _CHROME_LINES:
            return text.rstrip(".")
    return None


def _symbol_line(lines: list[str]) -> tuple[int, str] | None:
    for i, line in enumerate(lines):
        found = find_symbols(line)
        if found:
            return i, found[0].canonical
    return None


def _title(before: list[str]) -> str | None:
    for line in reversed(before):
        if line.strip().lower() not in _CHROME_LINES:
            return (textscan.one_line(line) or "").rstrip(".") or None
    return None


def _member(text: str, symbol: str) -> str | None:
    m = _MEMBER.search(text)
    if m:
        return textscan.one_line(m.group("name"))
    parts = find_symbols(symbol)
    known = member_by_code(parts[0].member or "") if parts else None
    return known.name_en if known else None


def _labelled_date(
    text: str, label: re.Pattern[str], name: str, warnings: list[str]
) -> date | None:
    m = label.search(text)
    if m is None:
        warnings.append(f"label {name!r} not found")
        return None
    found = parse_date(text[m.end() : m.end() + _DATE_WINDOW])
    if found is None:
        warnings.append(f"no date after {name!r}")
    return found


def _sections(lines: list[str]) -> dict[str, str]:
    """Heading key -> the lines under it, up to the next known heading."""
    out: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        head, _, rest = line.partition(":")
        key = _HEADINGS.get(line.rstrip(":").strip().lower()) or (
            _HEADINGS.get(head.strip().lower()) if rest.strip() else None
        )
        if key is not None:
            current = None if key == "end" else out.setdefault(key, [])
            if current is not None and rest.strip() and key != "comments":
                current.append(rest.strip())
        elif current is not None:
            current.append(line)
    return {k: "\n".join(v) for k, v in out.items()}


def _fill_sections(notice: EuTbtNotice, sections: dict[str, str]) -> None:
    one = textscan.one_line
    notice.description = one(sections.get("description"))
    notice.objectives = one(sections.get("objectives"))
    notice.products = one(sections.get("products"))
    notice.fields_of_activity = one(sections.get("fields"))
    hs, ics = textscan.find_codes(notice.products or "")
    notice.hs_codes = hs or codes_listed(sections.get("hs"))
    notice.ics_codes = ics or codes_listed(sections.get("ics"))
    if notice.description is None:
        notice.warnings.append("heading 'Description' not found")


def _comments(section: str) -> list[EuComment]:
    out: list[EuComment] = []
    for m in _COMMENT.finditer(section):
        kind: CommentKind = "comment"
        if m.group("kind").lower() == "answer":
            kind = "answer"
        elif m.group("kind").lower() == "reaction":
            kind = "reaction"
        out.append(EuComment(kind, m.group("member").strip(), parse_date(m.group("date"))))
    return out
