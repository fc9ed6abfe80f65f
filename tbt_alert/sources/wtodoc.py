"""Read the text of a WTO TBT notification form (G/TBT/N/...) by its box labels.

The text comes from the Word, PDF or HTML file of the notification, or from a copy of it. Three
generations of labels exist (1995-2000, 2000s, the current form) and the 1995-2000 forms run all boxes into
one paragraph, so each box is found by its label, never by its position or number. Missing labels
are reported in ``NotificationDoc.warnings``; text in which almost no label is found raises
``CrawlError`` (a changed layout must fail loudly, never parse into an empty success).
Addenda are read by :mod:`tbt_alert.sources.addenda`, re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.record import CanonicalRecord
from tbt_alert.sources.addenda import (
    AddendumDoc,
    AddendumEvent,
    EventKind,
    describe_event,
    parse_addendum_text,
)
from tbt_alert.text import scan as textscan
from tbt_alert.text.dates import parse_deadline
from tbt_alert.text.symbols import parse_symbol

_TAIL = r"(?:\s*\([^()]{0,400}\)\s*[:：]|\s*[:：])?"
_LABELS: dict[int, str] = {
    1: r"Notif\w*\s+Member|Member\s+to\s+(?:the\s+)?Agreement\s+notif\w*|Member\s+notif\w*",
    2: r"Agency\s+responsible",
    3: r"Notified\s+under\s+Articles?",
    4: r"Products?\s+covered",
    5: r"Details\s+of\s+(?:the\s+)?notified\s+documents?(?:\s*\(s\))?"
    r"|Title,?\s+number\s+of\s+pages\s+and\s+languages?(?:\s*\(s\))?\s+of\s+the\s+notified\s+document",
    6: r"Description\s+of\s+(?:the\s+)?content",
    7: r"Objectives?\s+and\s+rationale(?:,?\s+including\s+the\s+nature\s+of\s+urgent\s+problems"
    r"(?:\s+where\s+applicable)?)?",
    8: r"Relevant\s+documents?",
    9: r"Proposed\s+dates?\s+of\s+adoption",
    10: r"Final\s+date\s+for\s+(?:the\s+)?comments",
    11: r"Texts?\s+available\s+from",
}
BOX_NAMES = {
    1: "Notifying Member",
    2: "Agency responsible",
    3: "Notified under Article",
    4: "Products covered",
    5: "Title / details of notified document",
    6: "Description of content",
    7: "Objective and rationale",
    8: "Relevant documents",
    9: "Proposed date of adoption",
    10: "Final date for comments",
    11: "Texts available from",
}
_LABEL_RES = {
    box: re.compile(rf"(?:\b(?P<num>\d{{1,2}})\s*[.)]?\s*)?(?P<label>{pat}){_TAIL}", re.I)
    for box, pat in _LABELS.items()
}
_LABEL_CONTEXT = re.compile(r"(?:^|[\n.;:|\]])\s*$")
_MIN_BOXES = 3

_LOCAL_GOV = re.compile(
    r"If\s+applicable,?\s+name\s+of\s+local\s+government[^:]{0,80}?(?::|\.(?=\s|$)|$)", re.I
)
_AGENCY_END = re.compile(r"Name\s+and\s+address\b|Agency\s+or\s+authority\s+designated", re.I)
_LINK_LABEL = re.compile(r"Link\s+to\s+(?:the\s+)?notified\s+document", re.I)
_PAGES = re.compile(r"[\s;,]*\(\s*\d+\s*pages?\b.*$", re.I | re.S)
_ENTRY_INTO_FORCE = re.compile(r"Proposed\s+dates?\s+of\s+entry\s+into\s+force\s*[:：]?", re.I)
_ORIGINAL = re.compile(r"Original\s*:\s*([A-Za-z]+)")
_CHECKED = re.compile(r"(\d+\.\d+(?:\.\d+)?)\.?\s*(?:\[\s*[Xx✓✔■☒]\s*\]|[☒■⊠✓✔])")
_CHECKBOX = re.compile(r"\[[^\]\S]*[^\]]?\s*\]|[☐□☒■⊠]")
_ARTICLE = re.compile(r"\b(\d{1,2}\.\d{1,2}(?:\.\d)?)\b")


@dataclass(slots=True)
class NotificationDoc:
    """What one notification form says; text values as read, whitespace collapsed."""

    symbol: str | None
    distribution_date: date | None
    original_language: str | None
    boxes: dict[int, str]
    member: str | None = None
    local_government: str | None = None
    agency: str | None = None
    articles: list[str] = field(default_factory=list)
    products_text: str | None = None
    hs_codes: list[str] = field(default_factory=list)
    ics_codes: list[str] = field(default_factory=list)
    title: str | None = None
    description: str | None = None
    objective: str | None = None
    relevant_documents: str | None = None
    proposed_adoption: str | None = None
    proposed_entry_into_force: str | None = None
    comment_deadline_text: str | None = None
    comment_deadline: date | None = None
    texts_available_from: str | None = None
    document_links: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        """True when the text did not carry every label: a human should look at it."""
        return bool(self.warnings)

    def to_record(self, source_url: str | None = None) -> CanonicalRecord:
        """The canonical record; RecordError when symbol, member or title could not be read."""
        missing = [n for n in ("symbol", "member", "title") if not getattr(self, n)]
        if missing:
            raise RecordError(
                f"notification form lacks {', '.join(missing)}; warnings: {self.warnings}"
            )
        return CanonicalRecord(
            symbol=self.symbol or "",
            member=self.member or "",
            title=self.title or "",
            distribution_date=_iso(self.distribution_date),
            description=self.description,
            products_text=self.products_text,
            hs_codes=list(self.hs_codes),
            ics_codes=list(self.ics_codes),
            objective=self.objective,
            comment_deadline=self.comment_deadline_text,
            language="en",
            source_url=source_url,
            notification_type=textscan.notification_type(self.symbol),
            proposed_adoption=self.proposed_adoption,
            proposed_entry_into_force=self.proposed_entry_into_force,
            document_links=list(self.document_links),
            source="wto_document",
            extra=self._extra(),
        )

    def _extra(self) -> dict[str, object]:
        extra: dict[str, object] = {
            "articles": list(self.articles),
            "agency": self.agency,
            "original_language": self.original_language,
            "relevant_documents": self.relevant_documents,
            "texts_available_from": self.texts_available_from,
            "comment_deadline_date": _iso(self.comment_deadline),
        }
        if self.warnings:
            extra["parse_warnings"] = list(self.warnings)
        return {k: v for k, v in extra.items() if v}


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def parse_notification_text(text: str, *, symbol: str | None = None) -> NotificationDoc:
    """Parse a notification form. ``symbol``: the one the caller fetched, used when the text has none.

    Raises CrawlError when fewer than three box labels are found (not a form, or a new layout), and
    SymbolError when the given ``symbol`` cannot be read.
    """
    clean = textscan.clean_text(text)
    spans = _find_boxes(clean)
    if len(spans) < _MIN_BOXES:
        found = sorted(spans) or "none"
        raise CrawlError(f"not a TBT notification form: box labels found: {found}")
    first = min(start for start, _, _ in spans.values())
    boxes = _box_texts(clean, spans)
    doc = _header(clean[:first], symbol)
    doc.boxes = boxes
    doc.warnings += [
        f"box {b} ({BOX_NAMES[b]}) label not found" for b in BOX_NAMES if b not in spans
    ]
    _fill(doc, boxes)
    return doc


def _find_boxes(text: str) -> dict[int, tuple[int, int, int]]:
    """Box -> (label start, content start, order) for each label found, searching in box order."""
    spans: dict[int, tuple[int, int, int]] = {}
    pos = 0
    for box, pattern in _LABEL_RES.items():
        for m in pattern.finditer(text, pos):
            if m.group("num") or _LABEL_CONTEXT.search(text, max(0, m.start() - 40), m.start()):
                spans[box] = (m.start(), m.end(), len(spans))
                pos = m.end()
                break
    return spans


def _box_texts(text: str, spans: dict[int, tuple[int, int, int]]) -> dict[int, str]:
    ordered = sorted(spans.items(), key=lambda item: item[1][0])
    boxes: dict[int, str] = {}
    for i, (box, (_, content_start, _)) in enumerate(ordered):
        end = ordered[i + 1][1][0] if i + 1 < len(ordered) else len(text)
        boxes[box] = text[content_start:end].strip()
    return boxes


def _header(header: str, symbol: str | None) -> NotificationDoc:
    found = textscan.symbols_in(header)
    language = _ORIGINAL.search(header)
    doc = NotificationDoc(
        symbol=found[0] if found else None,
        distribution_date=textscan.header_date(header),
        original_language=language.group(1).capitalize() if language else None,
        boxes={},
    )
    if symbol is not None:
        wanted = parse_symbol(symbol).canonical
        if doc.symbol and doc.symbol != wanted:
            doc.warnings.append(f"symbol in text {doc.symbol} differs from expected {wanted}")
        doc.symbol = doc.symbol or wanted
    if doc.symbol is None:
        doc.warnings.append("no document symbol found in the header")
    return doc


def _fill(doc: NotificationDoc, boxes: dict[int, str]) -> None:
    one = textscan.one_line
    member_text, _, local = _split(boxes.get(1, ""), _LOCAL_GOV)
    doc.member = _strip_end(member_text.split("\n")[0])
    doc.local_government = _strip_end(local)
    doc.agency = _strip_end(_split(boxes.get(2, ""), _AGENCY_END)[0].split("\n")[0])
    doc.articles = _articles(boxes.get(3, ""))
    doc.products_text = one(boxes.get(4))
    doc.hs_codes, doc.ics_codes = textscan.find_codes(boxes.get(4, ""))
    title_text, _, link_text = _split(boxes.get(5, ""), _LINK_LABEL)
    doc.title = _strip_end(_PAGES.sub("", title_text))
    doc.description = one(boxes.get(6))
    doc.objective = one(boxes.get(7))
    doc.relevant_documents = one(boxes.get(8))
    adoption, _, entry = _split(boxes.get(9, ""), _ENTRY_INTO_FORCE)
    doc.proposed_adoption = _strip_end(adoption)
    doc.proposed_entry_into_force = _strip_end(entry)
    doc.comment_deadline_text = _strip_end(boxes.get(10, ""))
    doc.comment_deadline = parse_deadline(doc.comment_deadline_text, doc.distribution_date).date
    available = boxes.get(11) or link_text.partition(":")[2]
    doc.texts_available_from = one(available)
    doc.document_links = textscan.find_urls(f"{boxes.get(5, '')}\n{boxes.get(11, '')}")
    for name in ("member", "title"):
        if not getattr(doc, name):
            doc.warnings.append(f"{name} is empty")


def _split(text: str, pattern: re.Pattern[str]) -> tuple[str, str, str]:
    m = pattern.search(text)
    if not m:
        return text, "", ""
    return text[: m.start()], m.group(0), text[m.end() :]


def _strip_end(text: str | None) -> str | None:
    """Whitespace collapsed, trailing separators removed; None when nothing is left."""
    value = textscan.one_line(text)
    return (value or "").rstrip(" .;,").strip() or None


def _articles(box: str) -> list[str]:
    if _CHECKBOX.search(box):
        return list(dict.fromkeys(_CHECKED.findall(box)))
    return list(dict.fromkeys(_ARTICLE.findall(box)))


__all__ = [
    "BOX_NAMES",
    "AddendumDoc",
    "AddendumEvent",
    "EventKind",
    "NotificationDoc",
    "describe_event",
    "parse_addendum_text",
    "parse_notification_text",
]
