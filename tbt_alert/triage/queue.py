"""The triage queue: timely notifications that need an analyst's decision, most urgent first.

A notification is queued while undecided (neither accepted nor dismissed) when it has a
possible-tier sector, when review mode ``all`` holds back its alert-tier warning, or when it is an
addendum, revision or corrigendum whose sectors differ from its parent measure's (relabelled).
Order: risk (red, amber, green, none), then the comment deadline (soonest first). Read through
the DB-API driver (store.dbapi), so ``triage`` starts fast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from tbt_alert.status import DecisionKind, NotificationKind, ReviewMode
from tbt_alert.store.dbapi import Reader
from tbt_alert.triage.effective import (
    CHUNK,
    SELECT_NOTIFICATION,
    Effective,
    NotificationLike,
    NotificationRow,
    effective_states,
    notification_row,
    placeholders,
)

RISK_ORDER = {"red": 0, "amber": 1, "green": 2}
WINDOW_DAYS = 45  # as planning: a notification without a deadline stays timely this long


@dataclass(frozen=True)
class QueueItem:
    notification: NotificationRow
    state: Effective
    why: tuple[str, ...]  # "possible", "review", "relabelled"
    risk: str | None

    def as_json(self) -> dict[str, Any]:
        row = self.notification
        return {
            "symbol": row.symbol,
            "member": row.member_code,
            "title": row.title,
            "distribution_date": row.distribution_date.isoformat()
            if row.distribution_date
            else None,
            "comment_deadline": row.comment_deadline.isoformat() if row.comment_deadline else None,
            "risk": self.risk,
            "why": list(self.why),
            "alert_sectors": sorted(self.state.alert),
            "possible_sectors": sorted(self.state.possible),
            "labels": sorted(self.state.labels),
            "assignee": self.state.assignee,
            "document_url": row.document_url,
        }


def risk_of(row: NotificationLike, state: Effective) -> str | None:
    """The analyst's level, else the highest level the classifier assessed on any sector."""
    if state.risk:
        return state.risk
    levels = [
        (s.get("risk") or {}).get("level") for s in (row.classification or {}).get("sectors", [])
    ]
    found = [lv for lv in levels if lv in RISK_ORDER]
    return min(found, key=RISK_ORDER.__getitem__) if found else None


def _candidates(reader: Reader, mode: ReviewMode, today: date) -> list[NotificationRow]:
    """Classified, timely, and possibly needing a decision (a coarse test, decided in Python)."""
    may_need = ["CAST(n.classification AS VARCHAR) LIKE ?", "n.kind != ?"]
    if mode == ReviewMode.ALL:
        may_need.append("CAST(n.alert_sectors AS VARCHAR) != '[]'")
    cutoff = today - timedelta(days=WINDOW_DAYS)
    days: list[object] = [today, cutoff]
    if reader.sqlite:  # SQLite stores dates as ISO text
        days = [today.isoformat(), cutoff.isoformat()]
    sql = (
        f"{SELECT_NOTIFICATION} FROM notification n WHERE n.classified_hash IS NOT NULL "
        "AND (n.comment_deadline >= ? "
        "OR (n.comment_deadline IS NULL AND n.distribution_date >= ?)) "
        f"AND ({' OR '.join(may_need)})"
    )
    found = reader.rows(sql, [*days, '%"possible"%', str(NotificationKind.REGULAR)])
    return [notification_row(r) for r in found]


def _parent_labels(reader: Reader, rows: list[NotificationRow]) -> dict[str, frozenset[str]]:
    keys = sorted({r.measure_key for r in rows if r.kind != NotificationKind.REGULAR} - {""})
    found: list[NotificationRow] = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        sql = f"{SELECT_NOTIFICATION} FROM notification n WHERE n.symbol IN ({placeholders(len(chunk))})"
        found += [notification_row(r) for r in reader.rows(sql, chunk)]
    symbols = {r.id or 0: r.symbol for r in found}
    return {symbols[k]: state.labels for k, state in effective_states(reader, found).items()}


def triage_queue(reader: Reader, mode: ReviewMode, today: date) -> list[QueueItem]:
    rows = _candidates(reader, ReviewMode(mode), today)
    states = effective_states(reader, rows)
    parents = _parent_labels(reader, rows)
    items = []
    for row in rows:
        state = states[row.id or 0]
        if state.status in (DecisionKind.ACCEPT, DecisionKind.DISMISS):
            continue
        why = []
        if state.possible - state.removed:
            why.append("possible")
        if mode == ReviewMode.ALL and state.alert:
            why.append("review")
        parent = parents.get(row.measure_key)
        if row.kind != NotificationKind.REGULAR and parent is not None and parent != state.labels:
            why.append("relabelled")
        if why:
            items.append(QueueItem(row, state, tuple(why), risk_of(row, state)))
    items.sort(
        key=lambda i: (
            RISK_ORDER.get(i.risk or "", 3),
            i.notification.comment_deadline or date.max,
            i.notification.symbol,
        )
    )
    return items
