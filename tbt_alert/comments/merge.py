"""One consolidated comment from a call's drafts, each concern kept with its source.

The consolidated comment is a plain-text document the analyst edits (``$EDITOR``) and export
reads back. Its shape::

    # General comments
    <paragraph>
    [source: sender | channel | date]

    # Specific comments
    ## <clause>
    Comment: ...
    Proposed change: ...
    Justification: ...
    [source: ...]

    # Requests
    <paragraph>
    [source: ...]

A paragraph of a draft that names a clause (Article 5, Clause 3.2, Annex II, 第5条) becomes a
specific comment; one that asks for a longer comment period or a transition period becomes a
request; the rest are general comments. ``[source: ...]`` lines never leave the house: the
export drops them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from tbt_alert.store.tables import CommentDraft

SECTIONS = ("General comments", "Specific comments", "Requests")
SOURCE = re.compile(r"^\s*\[source: [^\]]*\]\s*$")
CLAUSE = re.compile(
    r"^\s*(?:(?:Article|Art\.|Clause|Section|Annex|Paragraph|Point)\s+[\w.()-]+"
    r"|第[0-9一二三四五六七八九十百]+[条章款节]|附件[0-9一二三四五六七八九十IVX]+)",
    re.I,
)
REQUEST = re.compile(
    r"(?:extend|longer|additional time|more time)[^.]{0,60}(?:comment|period)"
    r"|transition(?:al)? period|延长[^。]{0,20}评议|过渡期",
    re.I,
)
FIELDS = {"comment": "Comment", "change": "Proposed change", "why": "Justification"}
_FIELD_LINE = re.compile(r"^(Comment|Proposed change|Justification):\s*(.*)$", re.I)


@dataclass
class Specific:
    clause: str
    comment: str = ""
    change: str = ""
    why: str = ""


@dataclass
class Consolidated:
    general: list[str] = field(default_factory=list)
    specific: list[Specific] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


def source_line(draft: CommentDraft) -> str:
    return f"[source: {draft.sender} | {draft.channel} | {draft.received_at.date().isoformat()}]"


def paragraphs(text: str) -> list[str]:
    """A draft's paragraphs; lines that would read as structure (a heading, a source) defused."""
    text = re.sub(r"(?m)^(\s*)#", r"\1 #", text.replace("\r\n", "\n"))
    text = re.sub(r"\[(\s*source\s*:)", r"(\1", text, flags=re.I)
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def merge_drafts(drafts: Sequence[CommentDraft]) -> str:
    """The consolidated comment, every paragraph followed by its source."""
    general: list[str] = []
    specific: list[str] = []
    requests: list[str] = []
    for draft in drafts:
        source = source_line(draft)
        for para in paragraphs(draft.text):
            if CLAUSE.match(para):
                clause, rest = _split_clause(para)
                specific.append(
                    f"## {clause.strip().rstrip(':')}\nComment: {rest.strip()}\n"
                    f"Proposed change: \nJustification: \n{source}"
                )
            elif REQUEST.search(para):
                requests.append(f"{para}\n{source}")
            else:
                general.append(f"{para}\n{source}")
    parts = []
    for title, blocks in zip(SECTIONS, (general, specific, requests), strict=True):
        parts.append(f"# {title}\n\n" + "\n\n".join(blocks))
    return "\n\n".join(parts).strip() + "\n"


def _split_clause(para: str) -> tuple[str, str]:
    match = CLAUSE.match(para)
    end = match.end() if match else 0
    return para[:end], para[end:].lstrip(" :：,，.-")


def parse_consolidated(text: str) -> Consolidated:
    """Read an (edited) consolidated comment back; source lines dropped."""
    out = Consolidated()
    section = ""
    current: Specific | None = None
    last = "comment"
    buffer: list[str] = []

    def flush() -> None:
        para = "\n".join(buffer).strip()
        buffer.clear()
        if not para:
            return
        if section == SECTIONS[0]:
            out.general.append(para)
        elif section == SECTIONS[2]:
            out.requests.append(para)

    for line in text.replace("\r\n", "\n").split("\n"):
        if SOURCE.match(line):
            continue
        if line.startswith("# "):
            flush()
            section, current = _section(line[2:].strip()), None
        elif line.startswith("## ") and section == SECTIONS[1]:
            current, last = Specific(clause=line[3:].strip()), "comment"
            out.specific.append(current)
        elif section == SECTIONS[1] and current is not None:
            last = _specific_line(current, line, last)
        elif not line.strip():
            flush()
        else:
            buffer.append(line)
    flush()
    return out


def _section(title: str) -> str:
    for name in SECTIONS:
        if title.casefold() == name.casefold():
            return name
    return ""


def _specific_line(item: Specific, line: str, last: str) -> str:
    """Fill one field of a specific comment; a line without a label continues the last one."""
    match = _FIELD_LINE.match(line.strip())
    if match:
        key = {v.casefold(): k for k, v in FIELDS.items()}[match.group(1).casefold()]
        setattr(item, key, match.group(2).strip())
        return key
    if line.strip():
        setattr(item, last, f"{getattr(item, last)}\n{line.strip()}".strip())
    return last
