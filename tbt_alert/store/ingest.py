"""Validate canonical records and upsert them by stable id; link addenda to their parent.

A re-import updates, never duplicates. One bad record is reported with its line number and
skipped; the records already stored are untouched by it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from tbt_alert.errors import RecordError, SymbolError
from tbt_alert.record import CanonicalRecord, Facts, parse_record
from tbt_alert.status import NotificationKind
from tbt_alert.store.measure import parallel_key, record_events
from tbt_alert.store.shapes import read_payload
from tbt_alert.store.tables import Notification, SourceRecord
from tbt_alert.text.dates import parse_date, parse_deadline
from tbt_alert.text.members import normalise_member
from tbt_alert.text.symbols import Symbol, parse_symbol, split_joint

NOSYMBOL = re.compile(r"^NOSYMBOL-\d{1,6}$")
HASH_EXCLUDE = ("source", "source_id", "source_url")


@dataclass
class IngestReport:
    new: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0
    invalid: list[str] = field(default_factory=list)  # "line N: problem"
    warnings: list[str] = field(default_factory=list)  # stored, but a field was not understood
    gaps: list[str] = field(default_factory=list)  # enrichment the crawl could not add

    def summary(self) -> str:
        warned = f", {len(self.warnings)} with warnings" if self.warnings else ""
        return (
            f"{len(self.new)} new, {len(self.updated)} updated, {self.unchanged} unchanged, "
            f"{len(self.invalid)} invalid{warned}"
        )


_DATE_SHAPED = re.compile(r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{4})\s*$")


def date_warnings(record: CanonicalRecord) -> list[str]:
    """Dates that look like dates but are impossible (2024-02-30): stored as none, and said."""
    facts = read_facts(record)
    distributed, deadline = facts.distribution_date, facts.comment_deadline
    out = []
    for name, value, parsed in (
        ("distribution_date", record.distribution_date, distributed),
        ("comment_deadline", record.comment_deadline, deadline),
    ):
        if value and parsed is None and (name == "distribution_date" or _DATE_SHAPED.match(value)):
            out.append(f"field {name!r}: {value[:40]!r} is not a possible date; stored without one")
    return out


@dataclass(frozen=True)
class Keyed:
    """A record with its symbols read: what ingest stores."""

    symbol: str
    parent: str | None
    measure_key: str
    kind: NotificationKind
    member_code: str
    joint: tuple[str, ...]
    markets: tuple[str, ...]


def content_hash(record: CanonicalRecord) -> str:
    data = {k: v for k, v in record.to_dict().items() if k not in HASH_EXCLUDE}
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _read_symbol(text: str) -> Symbol:
    try:
        return parse_symbol(text)
    except SymbolError as e:
        raise RecordError(f"symbol {text!r} cannot be read: {e}") from e


def key_record(record: CanonicalRecord) -> Keyed:
    """Read the record's symbols. A joint notification is keyed by the first of its symbols in
    sorted order, so every parallel item of it lands on one row whatever order a source gives."""
    if NOSYMBOL.match(record.symbol):
        member = normalise_member(record.member).code
        return Keyed(
            record.symbol,
            None,
            record.symbol,
            NotificationKind.REGULAR,
            member,
            (),
            (member,) if member else (),
        )
    own = _read_symbol(record.symbol)
    joint = [own]
    for text in record.joint_symbols:
        try:
            joint.extend(split_joint(text))
        except SymbolError as e:
            raise RecordError(f"joint symbol list {text!r} cannot be read: {e}") from e
    canon = sorted({s.canonical: s for s in joint}.items())
    first = canon[0][1]
    markets = tuple(dict.fromkeys(s.member for _, s in canon if s.member))
    parent = first.parent.canonical if first.parent else None
    return Keyed(
        symbol=first.canonical,
        parent=parent,
        measure_key=first.base.canonical,
        kind=NotificationKind(first.kind),
        member_code=first.member or normalise_member(record.member).code,
        joint=tuple(c for c, _ in canon) if len(canon) > 1 else (),
        markets=markets,
    )


def read_facts(record: CanonicalRecord, keyed: Keyed | None = None) -> Facts:
    """The one reading of a record's member and dates (ingest stores it; a record classified
    without the store, as by ``tbt-alert classify``, is read the same way). A record that comes
    from the store already carries them."""
    if record.facts is not None:
        return record.facts
    if keyed is None:
        try:
            keyed = key_record(record)
        except RecordError:
            keyed = None
    member = normalise_member(record.member, (keyed.member_code or None) if keyed else None)
    distributed = parse_date(record.distribution_date)
    deadline = parse_deadline(record.comment_deadline, distributed).date
    force = parse_date(record.proposed_entry_into_force)
    return Facts(member.code, member.name_en or record.member, distributed, deadline, force)


def _apply(row: Notification, record: CanonicalRecord, keyed: Keyed, digest: str) -> None:
    facts = read_facts(record, keyed)
    distributed, deadline = facts.distribution_date, facts.comment_deadline
    row.measure_key, row.parent_symbol, row.kind = keyed.measure_key, keyed.parent, keyed.kind
    row.member_code, row.member_name = facts.member_code, facts.member_name
    row.markets = sorted(set(row.markets or []) | set(keyed.markets))
    row.joint_symbols = list(keyed.joint)
    row.distribution_date, row.comment_deadline = distributed, deadline
    row.comment_deadline_text = record.comment_deadline
    row.proposed_entry_into_force = facts.entry_into_force
    row.title, row.description, row.products_text = (
        record.title,
        record.description,
        record.products_text,
    )
    row.hs_codes, row.ics_codes = list(record.hs_codes), list(record.ics_codes)
    row.objective, row.language = record.objective, record.language
    row.document_url = record.document_url
    row.document_links = list(record.document_links)
    row.content_hash = digest
    row.events = record_events(record, keyed.kind)
    row.parallel_key = parallel_key(record.title, distributed) if not keyed.joint else None


def upsert(session: Session, record: CanonicalRecord, *, source: str, now: datetime) -> str:
    """Store one record from ``source``; return 'new', 'updated' or 'unchanged'.

    Every source's record is kept (SourceRecord); the notification is their merge, so a source
    that fills gaps (a parsed WTO document, the EU database) never fights the primary one and a
    re-crawl that brings nothing new changes nothing."""
    keyed = key_record(record)
    digest = content_hash(record)
    with session.no_autoflush:
        row = session.exec(select(Notification).where(Notification.symbol == keyed.symbol)).first()
        if row is None:  # the first source of a notification: its record is the merge
            row = Notification(
                symbol=keyed.symbol,
                measure_key=keyed.measure_key,
                title=record.title,
                content_hash=digest,
                first_seen_at=now,
                updated_at=now,
            )
            _apply(row, record, keyed, digest)
            session.add(row)
            session.flush()
            _record_source(session, row, record, source=source, digest=digest, now=now)
            return "new"
        sources = _record_source(session, row, record, source=source, digest=digest, now=now)
        merged = merge_records(sources)
        merged_digest = content_hash(merged)
        if row.content_hash == merged_digest:
            return "unchanged"
        _apply(row, merged, key_record(merged), merged_digest)
        row.updated_at = now
        return "updated"


# Which source speaks first for a field; the others fill what it leaves empty.
SOURCE_PRIORITY = {"eping": 0, "import": 0, "eutbt": 1, "feeds": 2, "wtodoc": 3}
UNION_FIELDS = ("joint_symbols", "document_links")
# The notification document's own checklist says what an addendum changes more surely than a
# description read by another source: for ``events`` the document reader speaks first.
DOCUMENT_FIRST = ("events",)
DOCUMENT_SOURCE = "wtodoc"


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def merge_records(sources: Iterable[SourceRecord]) -> CanonicalRecord:
    """One record from what every source said: by source priority, the first non-empty value of
    each field; joint symbols and document links are the union; extra keys first come first;
    an addendum's events are the document reader's when it read any."""
    ordered = sorted(
        sources, key=lambda s: (SOURCE_PRIORITY.get(s.source, 1), s.source, s.source_key)
    )
    merged: dict[str, Any] = {}
    for src in ordered:
        payload: dict[str, Any] = dict(read_payload(src.payload))
        for key, value in payload.items():
            if key in UNION_FIELDS:
                merged[key] = list(dict.fromkeys([*merged.get(key, []), *(value or [])]))
            elif key not in merged or (_empty(merged[key]) and not _empty(value)):
                merged[key] = value
    for key in DOCUMENT_FIRST:
        said = [read_payload(s.payload).get(key) for s in ordered if s.source == DOCUMENT_SOURCE]
        read = next((v for v in said if not _empty(v)), None)
        if read is not None:
            merged[key] = read
    return parse_record(merged)


def _record_source(
    session: Session,
    row: Notification,
    record: CanonicalRecord,
    *,
    source: str,
    digest: str,
    now: datetime,
) -> list[SourceRecord]:
    """Keep what ``source`` said; return every source's record of this notification."""
    key = record.source_id or record.symbol
    known = list(
        session.exec(select(SourceRecord).where(SourceRecord.notification_id == row.id)).all()
    )
    existing = next((s for s in known if s.source == source and s.source_key == key), None)
    if existing is None:
        moved = session.exec(
            select(SourceRecord).where(
                SourceRecord.source == source, SourceRecord.source_key == key
            )
        ).first()
        existing = moved or SourceRecord(
            source=source,
            source_key=key,
            notification_id=row.id or 0,
            content_hash=digest,
            first_seen_at=now,
            fetched_at=now,
        )
        session.add(existing)
        known.append(existing)
    existing.notification_id = row.id or 0
    existing.payload = record.to_dict()
    existing.content_hash = digest
    existing.fetched_at = now
    return known


def ingest_records(
    session: Session, records: Iterable[CanonicalRecord], *, source: str, now: datetime
) -> IngestReport:
    """Upsert records one by one; a bad one is reported and skipped, the others are kept."""
    report = IngestReport()
    for index, record in enumerate(records, start=1):
        _ingest_one(session, record, f"record {index}", report, source=source, now=now)
    return report


def _ingest_one(
    session: Session,
    record: CanonicalRecord,
    where: str,
    report: IngestReport,
    *,
    source: str,
    now: datetime,
) -> None:
    try:
        with session.begin_nested():
            outcome = upsert(session, record, source=source, now=now)
    except RecordError as e:
        report.invalid.append(f"{where}: {e}")
        return
    report.warnings.extend(f"{where} ({record.symbol}): {w}" for w in date_warnings(record))
    if outcome == "new":
        report.new.append(record.symbol)
    elif outcome == "updated":
        report.updated.append(record.symbol)
    else:
        report.unchanged += 1


def ingest_lines(
    session: Session,
    lines: Iterable[tuple[int, CanonicalRecord | RecordError]],
    *,
    source: str,
    now: datetime,
) -> IngestReport:
    """Upsert numbered records as a source adapter read them (``sources.canonical.read_jsonl``
    for canonical JSON Lines); a line that gave an error is reported with its number."""
    report = IngestReport()
    for number, item in lines:
        if isinstance(item, RecordError):
            report.invalid.append(f"line {number}: {item}")
            continue
        _ingest_one(session, item, f"line {number}", report, source=source, now=now)
    return report


def as_record(row: Notification) -> CanonicalRecord:
    """The stored notification as a canonical record (what the classifier reads), with the
    member and dates ingest normalised (``facts``), so nothing downstream reads them again."""
    data: dict[str, Any] = {
        "symbol": row.symbol,
        "member": row.member_name or row.member_code or "?",
        "title": row.title,
        "description": row.description,
        "products_text": row.products_text,
        "hs_codes": row.hs_codes,
        "ics_codes": row.ics_codes,
        "objective": row.objective,
        "distribution_date": row.distribution_date.isoformat() if row.distribution_date else None,
        "comment_deadline": row.comment_deadline.isoformat()
        if row.comment_deadline
        else row.comment_deadline_text,
        "language": row.language,
        "proposed_entry_into_force": row.proposed_entry_into_force.isoformat()
        if row.proposed_entry_into_force
        else None,
        "joint_symbols": row.joint_symbols,
        "document_url": row.document_url,
        "document_links": row.document_links,
        "facts": Facts(
            row.member_code,
            row.member_name,
            row.distribution_date,
            row.comment_deadline,
            row.proposed_entry_into_force,
        ),
    }
    return CanonicalRecord(**data)
