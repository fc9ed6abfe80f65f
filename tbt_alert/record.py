"""The canonical notification record: one JSON object per line between every stage.

Spiders write it, ``tbt-alert import`` reads it, the classifier takes it. Values are kept as read
(``comment_deadline`` may be text such as "60 days after notification"); interpretation happens in
ingest. Unknown keys are kept in ``extra`` so nothing a source gave is lost.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import IO, Any

from tbt_alert.errors import RecordError

REQUIRED = ("symbol", "member")
TITLE_FROM_DESCRIPTION = 200  # characters of the description that stand in for a missing title
TEXT_FIELDS = (
    "symbol",
    "member",
    "distribution_date",
    "title",
    "description",
    "products_text",
    "objective",
    "comment_deadline",
    "language",
    "source_url",
    "notification_type",
    "proposed_adoption",
    "proposed_entry_into_force",
    "document_url",
    "source",
    "source_id",
)
LIST_FIELDS = ("hs_codes", "ics_codes", "joint_symbols", "document_links")
MAX_TEXT = 200_000  # characters; a longer field is hostile or broken input


@dataclass(frozen=True, slots=True)
class Facts:
    """What ingest read from a record, once: the notifying member (code and English name) and
    the dates as dates. Carried with the record downstream so no stage reads them again."""

    member_code: str
    member_name: str
    distribution_date: date | None
    comment_deadline: date | None
    entry_into_force: date | None = None  # the proposed date of entry into force


@dataclass(slots=True)
class CanonicalRecord:
    symbol: str
    member: str
    title: str
    distribution_date: str | None = None
    description: str | None = None
    products_text: str | None = None
    hs_codes: list[str] = field(default_factory=list)
    ics_codes: list[str] = field(default_factory=list)
    objective: str | None = None
    comment_deadline: str | None = None
    language: str | None = None
    source_url: str | None = None
    joint_symbols: list[str] = field(default_factory=list)
    notification_type: str | None = None
    proposed_adoption: str | None = None
    proposed_entry_into_force: str | None = None
    document_url: str | None = None
    document_links: list[str] = field(default_factory=list)
    source: str | None = None
    source_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # set when the record comes from the store (``as_record``): not part of the record's JSON
    facts: Facts | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("facts")
        extra = data.pop("extra")
        data.update({k: v for k, v in extra.items() if k not in data})
        return data

    def text(self) -> str:
        """All the words a classifier may read, title first."""
        parts = [self.title, self.products_text, self.description, self.objective]
        return "\n".join(p for p in parts if p)


def _text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise RecordError(f"field {name!r} must be a string, got {type(value).__name__}")
    if len(value) > MAX_TEXT:
        raise RecordError(f"field {name!r} is longer than {MAX_TEXT} characters")
    if not value.isascii() and _has_surrogate(value):
        raise RecordError(f"field {name!r} holds a lone surrogate (text that is not Unicode)")
    value = value.replace("\x00", "").strip()
    return value or None


def _list(name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise RecordError(f"field {name!r} must be a list of strings, got {type(value).__name__}")
    out: list[str] = []
    for item in value:
        text = _text(name, item)
        if text:
            out.append(text)
    return out


def parse_record(data: Any) -> CanonicalRecord:
    """Validate one decoded JSON value; raise RecordError naming the problem."""
    if not isinstance(data, dict):
        raise RecordError(f"a record must be a JSON object, got {type(data).__name__}")
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        values[name] = _text(name, data.get(name))
    for name in LIST_FIELDS:
        values[name] = _list(name, data.get(name))
    for name in REQUIRED:
        if not values[name]:
            raise RecordError(f"required field {name!r} is missing or empty")
    if not values["title"]:
        values["title"] = title_from(values["description"] or values["products_text"])
    known = set(TEXT_FIELDS) | set(LIST_FIELDS)
    values["extra"] = {k: v for k, v in data.items() if k not in known}
    for key, value in values["extra"].items():
        if _has_surrogate(json.dumps([key, value], ensure_ascii=False, default=str)):
            raise RecordError(f"field {key!r} holds a lone surrogate (text that is not Unicode)")
    return CanonicalRecord(**values)


def title_from(text: str | None) -> str:
    """Real addenda often carry no title: the first sentence of the description stands in.
    Raise RecordError when there is no text at all to show a reader."""
    if not text:
        raise RecordError("required field 'title' is missing or empty, and there is no description")
    first = " ".join(text.split()).split(". ")[0].strip()
    if len(first) > TITLE_FROM_DESCRIPTION:
        first = first[: TITLE_FROM_DESCRIPTION - 1].rstrip() + "…"
    return first


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


BINARY_SNIFF = 8192


def decode_lines(stream: IO[bytes] | IO[str]) -> Iterator[tuple[int, str | RecordError]]:
    """Yield (line number, text or the error that line gave) from a stream of JSON Lines (bytes,
    or text already decoded).

    A UTF-8 byte-order mark at the start is accepted; a line that is not UTF-8 is an error of its
    own, never of the whole file. A stream whose start holds NUL bytes is not text at all:
    RecordError before any line."""
    peek = getattr(stream, "peek", None)
    head = peek(BINARY_SNIFF)[:BINARY_SNIFF] if callable(peek) else b""
    if b"\x00" in head:
        raise RecordError("this is a binary file, not JSON Lines text (it holds NUL bytes)")
    lines: Iterator[bytes | str] = iter(stream)
    for number, raw in enumerate(lines, start=1):
        if isinstance(raw, str):
            yield number, raw.removeprefix("\ufeff") if number == 1 else raw
            continue
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield number, RecordError(f"not valid UTF-8 (byte {e.start + 1} of the line)")


def parse_line(line: str) -> CanonicalRecord:
    """Decode one JSON Lines line into a record; raise RecordError on bad JSON or fields."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as e:
        raise RecordError(f"not valid JSON: {e.msg} at column {e.colno}") from e
    return parse_record(data)
