"""The adapter every source's record passes through before it is stored: an addendum, revision or
corrigendum carries its change events (``events: [{"kind", "date", "text"}]``) read here, so ingest
only stores them.

A source that read the events from the document itself (the WTO document reader) gives them and
they are kept; otherwise they are read from the record's description (ePing, the EU database, a
feed entry, canonical JSON Lines given to ``tbt-alert import``). A regular notification has none,
and a record whose description states none gets no ``events`` key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from tbt_alert.errors import RecordError, SymbolError
from tbt_alert.record import CanonicalRecord, decode_lines, parse_line
from tbt_alert.sources.addenda import AddendumEvent, events_in_text
from tbt_alert.text.symbols import parse_symbol


def event_json(event: AddendumEvent) -> dict[str, Any]:
    """An event as a record (and the store) carries it."""
    return {
        "kind": event.kind.value,
        "date": event.date.isoformat() if event.date else None,
        "text": event.text,
    }


def is_follow_up(symbol: str) -> bool:
    """An addendum, revision, corrigendum or supplement (a symbol that cannot be read: no)."""
    try:
        return parse_symbol(symbol).kind != "regular"
    except SymbolError:
        return False


def with_events(record: CanonicalRecord) -> CanonicalRecord:
    """The record with the events its description states, unless it already carries some."""
    given = record.extra.get("events")
    if (isinstance(given, list) and given) or not is_follow_up(record.symbol):
        return record
    events = [event_json(e) for e in events_in_text(record.description or "")]
    if events:
        record.extra["events"] = events
    return record


def read_jsonl(
    stream: IO[bytes] | IO[str],
) -> Iterator[tuple[int, CanonicalRecord | RecordError]]:
    """Canonical JSON Lines (``tbt-alert import``): (line number, record with its events, or the
    error that line gave); blank lines are skipped. A line that is not UTF-8 is one bad line
    (see :func:`tbt_alert.record.decode_lines`)."""
    for number, line in decode_lines(stream):
        if isinstance(line, RecordError):
            yield number, line
            continue
        if not line.strip():
            continue
        try:
            yield number, with_events(parse_line(line))
        except RecordError as e:
            yield number, e
