"""A notification's effective state: its decisions replayed over the classifier's labels, and the
read-only queries the analysts' commands run for it through the DB-API driver (store.dbapi).

Nothing here imports SQLAlchemy or SQLModel: ``replay`` takes anything shaped like a
notification row and its decisions (the ORM rows of ``tbt_alert.store.tables`` are)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

from tbt_alert.status import DecisionKind, ReviewMode
from tbt_alert.store.dbapi import Reader
from tbt_alert.store.shapes import tier_sectors

CHUNK = 500  # ids per IN (...) list


class NotificationLike(Protocol):
    """What replaying decisions reads of a notification."""

    @property
    def id(self) -> int | None: ...
    @property
    def classification(self) -> dict[str, Any] | None: ...
    @property
    def alert_sectors(self) -> list[str]: ...


class DecisionLike(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def value(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def undone_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Effective:
    """A notification's state once its decisions are replayed over the classifier's labels."""

    alert: frozenset[str]  # the classifier's alert tier
    possible: frozenset[str]  # the classifier's possible tier
    added: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()
    status: str | None = None  # "accept", "dismiss" or None (undecided)
    assignee: str | None = None
    risk: str | None = None  # the analyst's level, if any
    decisions: tuple[DecisionLike, ...] = field(default=(), compare=False)

    @property
    def labels(self) -> frozenset[str]:
        """Effective labels: the classifier's (both tiers) with the analyst's changes."""
        return (self.alert | self.possible | self.added) - self.removed

    @property
    def relabelled(self) -> bool:
        return bool(self.added or self.removed)


def replay(row: NotificationLike, decisions: Iterable[DecisionLike]) -> Effective:
    """Fold the notification's live decisions, oldest first, into its effective state."""
    result = row.classification or {}
    added: set[str] = set()
    removed: set[str] = set()
    status = assignee = risk = None
    kept = sorted((d for d in decisions if d.undone_at is None), key=lambda d: (d.at, d.id or 0))
    for d in kept:
        if d.kind == DecisionKind.LABEL_ADD:
            added.add(d.value)
            removed.discard(d.value)
        elif d.kind == DecisionKind.LABEL_REMOVE:
            removed.add(d.value)
            added.discard(d.value)
        elif d.kind in (DecisionKind.ACCEPT, DecisionKind.DISMISS):
            status = str(d.kind)
        elif d.kind == DecisionKind.ASSIGN:
            assignee = d.value or None
        elif d.kind == DecisionKind.RISK:
            risk = d.value
    return Effective(
        alert=frozenset(row.alert_sectors or ()),
        possible=frozenset(tier_sectors(result, "possible")),
        added=frozenset(added),
        removed=frozenset(removed),
        status=status,
        assignee=assignee,
        risk=risk,
        decisions=tuple(kept),
    )


def sendable(state: Effective, mode: ReviewMode) -> frozenset[str]:
    """The sectors a warning about the notification may be sent for now (see
    tbt_alert.triage.decisions)."""
    if state.status == DecisionKind.DISMISS:
        return frozenset()
    accepted = state.status == DecisionKind.ACCEPT
    if mode == ReviewMode.ALL and not accepted:
        return frozenset()
    base = state.alert | state.added
    if accepted and mode != ReviewMode.AUTO:
        base |= state.possible
    return base - state.removed


@dataclass(frozen=True)
class NotificationRow:
    """The columns of ``notification`` that the queue, search and export show or replay."""

    id: int | None
    symbol: str
    member_code: str
    member_name: str
    title: str
    distribution_date: date | None
    comment_deadline: date | None
    document_url: str | None
    classification: dict[str, Any] | None
    alert_sectors: list[str]
    kind: str
    measure_key: str

    @classmethod
    def of(cls, row: Any) -> NotificationRow:
        """The same fields of an ORM ``Notification``."""
        return cls(*(getattr(row, name) for name in NOTIFICATION_COLUMNS))


NOTIFICATION_COLUMNS = tuple(NotificationRow.__dataclass_fields__)
SELECT_NOTIFICATION = "SELECT " + ", ".join(f"n.{c}" for c in NOTIFICATION_COLUMNS)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def notification_row(values: Sequence[Any]) -> NotificationRow:
    """A ``NotificationRow`` from the driver's values of NOTIFICATION_COLUMNS (SQLite gives
    dates and JSON as text, psycopg as Python values)."""
    (id_, symbol, code, name, title, distributed, deadline, url, result, alert, kind, key) = values
    return NotificationRow(
        id=id_,
        symbol=symbol,
        member_code=code,
        member_name=name,
        title=title,
        distribution_date=_day(distributed),
        comment_deadline=_day(deadline),
        document_url=url,
        classification=_json(result),
        alert_sectors=_json(alert) or [],
        kind=kind,
        measure_key=key,
    )


def placeholders(n: int) -> str:
    return ", ".join("?" * n)


def notifications_by_id(reader: Reader, ids: Sequence[int]) -> dict[int, NotificationRow]:
    out: dict[int, NotificationRow] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        sql = (
            f"{SELECT_NOTIFICATION} FROM notification n WHERE n.id IN ({placeholders(len(chunk))})"
        )
        for values in reader.rows(sql, chunk):
            row = notification_row(values)
            out[row.id or 0] = row
    return out


@dataclass(frozen=True)
class DecisionRow:
    id: int | None
    kind: str
    value: str
    at: datetime
    undone_at: datetime | None


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def read_decisions(reader: Reader, ids: Sequence[int]) -> dict[int, list[DecisionRow]]:
    """Every decision (undone ones too) per notification id, oldest first."""
    out: dict[int, list[DecisionRow]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        sql = (
            "SELECT notification_id, id, kind, value, at, undone_at FROM decision "  # noqa: S608
            f"WHERE notification_id IN ({placeholders(len(chunk))}) ORDER BY at, id"
        )
        for key, id_, kind, value, at, undone in reader.rows(sql, chunk):
            moment = _utc(at)
            assert moment is not None  # the column is NOT NULL
            out.setdefault(key, []).append(DecisionRow(id_, kind, value, moment, _utc(undone)))
    return out


def effective_states(reader: Reader, rows: Sequence[NotificationLike]) -> dict[int, Effective]:
    """Each row's effective state, by id."""
    found = read_decisions(reader, [r.id or 0 for r in rows])
    return {r.id or 0: replay(r, found.get(r.id or 0, [])) for r in rows}
