"""Read a WTO TBT addendum (G/TBT/N/.../Add.n) into change events, for "update" alerts.

Two layouts: the free-text one used until about 2016 ("The following
communication, dated ..., is being circulated at the request of ..."), whose events are inferred from
phrases, and the "Reason for Addendum" checklist used since about 2019, where only ticked boxes
count. An addendum from which no event can be read still yields one ``other`` event carrying its
text, plus a warning: an update is never silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from tbt_alert.errors import CrawlError
from tbt_alert.text import scan as textscan
from tbt_alert.text.dates import parse_date
from tbt_alert.text.symbols import find_symbols, parse_symbol


class EventKind(StrEnum):
    comment_period_changed = "comment_period_changed"
    adopted = "adopted"
    published = "published"
    enters_into_force = "enters_into_force"
    final_text_available = "final_text_available"
    withdrawn = "withdrawn"
    scope_changed = "scope_changed"
    interpretive_guidance = "interpretive_guidance"
    other = "other"


@dataclass(frozen=True, slots=True)
class AddendumEvent:
    kind: EventKind
    date: dt.date | None
    text: str


@dataclass(slots=True)
class AddendumDoc:
    """``date`` is the distribution date of the header; ``communication_date`` the "dated ..." one."""

    symbol: str | None
    parent_symbol: str | None
    date: dt.date | None
    layout: Literal["checklist", "free_text"]  # which of the two layouts was read
    events: list[AddendumEvent] = field(default_factory=list)
    communication_date: dt.date | None = None
    member: str | None = None
    title: str | None = None
    description: str | None = None
    warnings: list[str] = field(default_factory=list)


_COMMUNICATION = re.compile(
    r"communication,?\s+dated\s+(?P<date>[^,\n]{4,40}),?\s+is\s+being\s+circulated\s+at\s+the\s+"
    r"request\s+of\s+(?:the\s+)?(?:delegation\s+of\s+)?(?:the\s+)?(?P<member>[^.\n]{2,80})\.?",
    re.I,
)
_REASON = re.compile(r"Reason\s+for\s+(?:the\s+)?Addendum\s*[:：]?", re.I)
_ADDENDUM = re.compile(r"\bAddendum\b", re.I)
_TITLE = re.compile(r"^[ \t]*Title\s*[:：]\s*(?P<title>.{1,2000})$", re.I | re.M)
_DESCRIPTION = re.compile(r"^\W{0,5}Description\s*[:：]", re.I | re.M)
_TEXT_AVAILABLE = re.compile(r"\bTexts?\s+(?:is\s+)?available\s+from\s*[:：]", re.I)
_BOX = re.compile(r"\[\s{0,3}(?P<mark>[^\]\s]?)\s{0,3}\]|(?P<sym>[☐□☒■⊠✓✔])")
_TICKED = set("xX✓✔■☒⊠")
_CHECKLIST_KINDS: list[tuple[EventKind, re.Pattern[str]]] = [
    (EventKind.comment_period_changed, re.compile(r"comment\s+period\s+changed", re.I)),
    (EventKind.adopted, re.compile(r"measure\s+adopted", re.I)),
    (EventKind.published, re.compile(r"measure\s+published", re.I)),
    (EventKind.enters_into_force, re.compile(r"enters?\s+into\s+force", re.I)),
    (EventKind.final_text_available, re.compile(r"text\s+of\s+(?:the\s+)?final\s+measure", re.I)),
    (EventKind.withdrawn, re.compile(r"withdrawn|revoked", re.I)),
    (EventKind.scope_changed, re.compile(r"content\s+or\s+scope", re.I)),
    (EventKind.interpretive_guidance, re.compile(r"interpretive\s+guidance", re.I)),
    (EventKind.other, re.compile(r"^\W{0,3}other\b", re.I)),
]
_PHRASES: list[tuple[EventKind, re.Pattern[str]]] = [
    (
        EventKind.comment_period_changed,
        re.compile(
            r"\b(?:extend\w*|prolong\w*|reopen\w*|postpone\w*)\b[^.]{0,80}?\b(?:comment|deadline)"
            r"|\bnew\s+(?:final\s+)?(?:date|deadline|period)\s+for\s+(?:the\s+)?(?:receipt\s+of\s+)?comments"
            r"|\bnew\s+comment\w*\s+(?:period|deadline)"
            r"|\b(?:comment\w*\s+period|deadline\s+for\s+(?:the\s+)?(?:receipt\s+of\s+)?comments"
            r"|final\s+date\s+for\s+comments)\b[^.]{0,80}?\b(?:extend|prolong|reopen|postpone|chang)",
            re.I,
        ),
    ),
    (
        EventKind.withdrawn,
        re.compile(r"\b(?:withdr[ae]wn?|withdrawal|revoked|repealed|rescinded)\b", re.I),
    ),
    (
        EventKind.final_text_available,
        re.compile(
            r"\bfinal\s+(?:text|rule|version|measure|regulation)\b[^.]{0,80}?\bavailable\b", re.I
        ),
    ),
    (EventKind.published, re.compile(r"\bpublished\b", re.I)),
    (
        EventKind.enters_into_force,
        re.compile(
            r"\b(?:enter\w*|entry|came|come|comes)\s+into\s+(?:force|effect)\b"
            r"|\beffective\s+(?:on|as\s+of|from)\b",
            re.I,
        ),
    ),
    (EventKind.adopted, re.compile(r"\b(?:adopted|promulgated|approved)\b", re.I)),
]
_SECONDARY: list[tuple[EventKind, re.Pattern[str]]] = [
    (
        EventKind.interpretive_guidance,
        re.compile(r"\b(?:clarifi\w*|interpretive|guidance)\b", re.I),
    ),
    (
        EventKind.scope_changed,
        re.compile(r"\b(?:amend\w*|modifi\w*|revised|revision|changed)\b", re.I),
    ),
]
_QUOTED = re.compile(r"\"[^\"\n]{0,400}\"|“[^”]{0,400}”")
_SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-Z(])")
_MAX_EVENT_TEXT = 500
_MIN_DRIFT_BOXES = 3


def parse_addendum_text(text: str, *, symbol: str | None = None) -> AddendumDoc:
    """Parse an addendum; ``symbol``: the one the caller fetched, used when the text has none.

    Raises CrawlError when the text is neither addendum layout, SymbolError when the given
    ``symbol`` cannot be read.
    """
    clean = textscan.clean_text(text)
    reason = _REASON.search(clean)
    comm = _COMMUNICATION.search(clean)
    if reason is None and comm is None and _ADDENDUM.search(clean) is None:
        raise CrawlError(
            "not a TBT addendum: no 'Reason for Addendum', 'Addendum' or 'communication, dated'"
        )
    doc = _header(clean, comm, symbol, "checklist" if reason else "free_text")
    if reason is not None:
        _read_checklist(doc, clean[reason.end() :])
        return _ensure_event(doc)
    body = clean[comm.end() :] if comm else _after_heading(clean)
    if len(_BOX.findall(body)) >= _MIN_DRIFT_BOXES:
        raise CrawlError(
            "addendum has check boxes but no 'Reason for Addendum' label: layout changed?"
        )
    _read_free_text(doc, body)
    return _ensure_event(doc)


def _ensure_event(doc: AddendumDoc) -> AddendumDoc:
    if not doc.events:
        doc.warnings.append("no addendum event recognised; kept as 'other'")
        body = doc.description or doc.title or "addendum"
        doc.events.append(AddendumEvent(EventKind.other, None, _clip(body)))
    return doc


Layout = Literal["checklist", "free_text"]


def _header(
    text: str, comm: re.Match[str] | None, symbol: str | None, layout: Layout
) -> AddendumDoc:
    head = text[: comm.start()] if comm else text[:600]
    found = [s for s in find_symbols(head) if any(name == "Add" for name, _ in s.suffixes)]
    own = found[0] if found else (parse_symbol(symbol) if symbol else None)
    title = _TITLE.search(text)
    doc = AddendumDoc(
        symbol=own.canonical if own else None,
        parent_symbol=own.parent.canonical if own and own.parent else None,
        date=textscan.header_date(head),
        layout=layout,
        communication_date=parse_date(comm.group("date")) if comm else None,
        member=textscan.one_line(comm.group("member")) if comm else None,
        title=textscan.one_line(title.group("title").strip(" |")) if title else None,
    )
    if own is None:
        doc.warnings.append("no addendum symbol (…/Add.n) found")
    elif not own.is_addendum:
        doc.warnings.append(f"{own} is not an addendum symbol")
    return doc


def _after_heading(text: str) -> str:
    m = _ADDENDUM.search(text)
    return text[m.end() :] if m else text


def _clip(text: str) -> str:
    value = textscan.one_line(text) or ""
    return value if len(value) <= _MAX_EVENT_TEXT else value[: _MAX_EVENT_TEXT - 1] + "…"


def _read_checklist(doc: AddendumDoc, section: str) -> None:
    desc = _DESCRIPTION.search(section)
    if desc:
        doc.description = textscan.one_line(section[desc.end() :].strip(" |\n"))
        section = section[: desc.start()]
    boxes = list(_BOX.finditer(section))
    if not boxes:
        doc.warnings.append("'Reason for Addendum' has no check boxes")
    for i, box in enumerate(boxes):
        end = boxes[i + 1].start() if i + 1 < len(boxes) else len(section)
        if (box.group("mark") or box.group("sym") or "") not in _TICKED:
            continue
        item = section[box.end() : end].replace("|", " ")
        doc.events.append(_checklist_event(doc, item))


def _checklist_event(doc: AddendumDoc, item: str) -> AddendumEvent:
    label, _, value = item.partition(":")
    kind = next((k for k, p in _CHECKLIST_KINDS if p.search(label)), None)
    if kind is None:
        doc.warnings.append(f"unknown ticked reason {textscan.one_line(label)!r}")
        kind = EventKind.other
    text = value if value.strip() else label
    return AddendumEvent(kind, parse_date(value), _clip(text))


def _read_free_text(doc: AddendumDoc, body: str) -> None:
    body = body.lstrip(" ._-\n")
    available = _TEXT_AVAILABLE.search(body)
    if available:
        body = body[: available.start()]
    doc.description = textscan.one_line(body)
    for sentence in _SENTENCE_END.split(body):
        doc.events.extend(_sentence_events(sentence))


def _sentence_events(sentence: str) -> list[AddendumEvent]:
    plain = _QUOTED.sub(lambda m: " " * len(m.group(0)), sentence)
    found = _match_phrases(plain, _PHRASES) or _match_phrases(plain, _SECONDARY)[:1]
    return [AddendumEvent(kind, _date_near(sentence, pos), _clip(sentence)) for kind, pos in found]


def _match_phrases(
    text: str, table: list[tuple[EventKind, re.Pattern[str]]]
) -> list[tuple[EventKind, int]]:
    return [(kind, m.end()) for kind, pattern in table if (m := pattern.search(text))]


def _date_near(sentence: str, pos: int) -> dt.date | None:
    """The first date after the trigger phrase, else the first one in the sentence."""
    return parse_date(sentence[pos:]) or parse_date(sentence)


_SUMMARY: dict[EventKind, tuple[str, str, str, str]] = {
    # kind: (en with date, en without, zh with date, zh without); {d} = ISO date
    EventKind.comment_period_changed: (
        "comment deadline extended to {d}",
        "comment period changed",
        "评议截止日期延长至{d}",
        "评议期已变更",
    ),
    EventKind.adopted: ("adopted on {d}", "adopted", "已于{d}通过", "已通过"),
    EventKind.published: ("published on {d}", "published", "已于{d}公布", "已公布"),
    EventKind.enters_into_force: (
        "enters into force on {d}",
        "entry into force announced",
        "于{d}生效",
        "已公布生效日期",
    ),
    EventKind.final_text_available: (
        "final text available ({d})",
        "final text available",
        "最终文本已发布（{d}）",
        "最终文本已发布",
    ),
    EventKind.withdrawn: (
        "withdrawn on {d}",
        "withdrawn or revoked",
        "已于{d}撤回",
        "已撤回或废止",
    ),
    EventKind.scope_changed: (
        "content or scope changed; new comment deadline {d}",
        "content or scope changed",
        "内容或范围已变更，新的评议截止日期{d}",
        "内容或范围已变更",
    ),
    EventKind.interpretive_guidance: (
        "interpretive guidance issued on {d}",
        "interpretive guidance issued",
        "已于{d}发布解释性指南",
        "已发布解释性指南",
    ),
    EventKind.other: ("other change ({d})", "other change", "其他变更（{d}）", "其他变更"),
}
_SHORTENED = re.compile(r"\b(?:shorten\w*|reduc\w*)\b", re.I)
_DETAIL_KINDS = (EventKind.final_text_available, EventKind.other)
_MAX_DETAIL = 120


def describe_event(event: AddendumEvent, lang: Literal["zh", "en"]) -> str:
    """One line saying what changed, for an "update" alert (e.g. "adopted on 2026-03-01")."""
    if lang not in ("zh", "en"):
        raise ValueError(f"lang must be 'zh' or 'en', not {lang!r}")
    en, en_bare, zh, zh_bare = _SUMMARY[event.kind]
    if event.kind is EventKind.comment_period_changed and _SHORTENED.search(event.text):
        en, zh = "comment deadline changed to {d}", "评议截止日期变更为{d}"
    if event.date is not None:
        line = (en if lang == "en" else zh).format(d=event.date.isoformat())
    else:
        line = en_bare if lang == "en" else zh_bare
    if event.kind in _DETAIL_KINDS:
        line += (": " if lang == "en" else "：") + _detail(event.text)
    return line


def _detail(text: str) -> str:
    urls = textscan.find_urls(text)
    value = urls[0] if urls else (textscan.one_line(text) or "")
    return value if len(value) <= _MAX_DETAIL else value[: _MAX_DETAIL - 1] + "…"


# Chinese phrasing of the same events, as Chinese enquiry points and mirrors write them.
_PHRASES_ZH: list[tuple[EventKind, re.Pattern[str]]] = [
    (EventKind.withdrawn, re.compile(r"撤回|撤销|废止|撤銷|廢止")),
    (
        EventKind.comment_period_changed,
        re.compile(r"(?:评议|評議|意见|意見)[^。]{0,12}(?:延长|延長|延期|截止)"),
    ),
    (EventKind.enters_into_force, re.compile(r"生效|实施|實施|施行")),
    (EventKind.adopted, re.compile(r"(?:获得|獲得|予以|已|被)?通过|批准|採用|采用")),
    (EventKind.published, re.compile(r"颁布|頒布|公布|发布|發布|刊登")),
    (EventKind.final_text_available, re.compile(r"最终文本|最終文本")),
    (EventKind.scope_changed, re.compile(r"修订|修訂|修改|修正")),
]
_SENTENCE_END_ZH = re.compile(r"(?<=[。；;])")


def events_in_text(text: str) -> list[AddendumEvent]:
    """The events an addendum's description states, as sources such as ePing give it: no form
    header, possibly the checklist, possibly free text in English or Chinese. Empty when none."""
    clean = textscan.clean_text(text)
    doc = AddendumDoc(symbol=None, parent_symbol=None, date=None, layout="free_text")
    reason = _REASON.search(clean)
    if reason is not None:
        _read_checklist(doc, clean[reason.end() :])
        return _one_per_kind(doc.events)
    _read_free_text(doc, clean)
    if not doc.events and re.search(r"[\u4e00-\u9fff]", clean):
        for sentence in _SENTENCE_END_ZH.split(clean):
            doc.events.extend(_sentence_events_zh(sentence))
    return _one_per_kind(doc.events)


def _one_per_kind(events: list[AddendumEvent]) -> list[AddendumEvent]:
    """Free text repeats itself: keep one event per kind, the first that carries a date."""
    best: dict[EventKind, AddendumEvent] = {}
    for event in events:
        kept = best.get(event.kind)
        if kept is None or (kept.date is None and event.date is not None):
            best[event.kind] = event
    return [best[k] for k in dict.fromkeys(e.kind for e in events)]


def _sentence_events_zh(sentence: str) -> list[AddendumEvent]:
    found = [(kind, m.end()) for kind, p in _PHRASES_ZH if (m := p.search(sentence))]
    return [
        AddendumEvent(kind, _date_near(sentence, pos), _clip(sentence)) for kind, pos in found[:2]
    ]
