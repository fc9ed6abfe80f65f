"""The triage queue: timely notifications that need an analyst's decision, most urgent first.

A notification is queued while undecided (neither accepted nor dismissed) when it has a
possible-tier sector, when review mode ``all`` holds back its alert-tier warning, or when it is an
addendum, revision or corrigendum whose sectors differ from its parent measure's (relabelled).
Order: risk (red, amber, green, none), then the comment deadline (soonest first)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import Session, and_, col, or_, select

from tbt_alert.status import DecisionKind, NotificationKind, ReviewMode
from tbt_alert.store.tables import Notification
from tbt_alert.triage.decisions import Effective, effective_map

RISK_ORDER = {"red": 0, "amber": 1, "green": 2}
WINDOW_DAYS = 45  # as planning: a notification without a deadline stays timely this long


@dataclass(frozen=True)
class QueueItem:
    notification: Notification
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


def risk_of(row: Notification, state: Effective) -> str | None:
    """The analyst's level, else the highest level the classifier assessed on any sector."""
    if state.risk:
        return state.risk
    levels = [
        (s.get("risk") or {}).get("level") for s in (row.classification or {}).get("sectors", [])
    ]
    found = [lv for lv in levels if lv in RISK_ORDER]
    return min(found, key=RISK_ORDER.__getitem__) if found else None


def _timely(today: date) -> Any:
    return or_(
        col(Notification.comment_deadline) >= today,
        and_(
            col(Notification.comment_deadline).is_(None),
            col(Notification.distribution_date) >= today - timedelta(days=WINDOW_DAYS),
        ),
    )


def _candidates(session: Session, mode: ReviewMode, today: date) -> list[Notification]:
    may_need = [
        cast(Notification.classification, String).like('%"possible"%'),
        col(Notification.kind) != NotificationKind.REGULAR,
    ]
    if mode == ReviewMode.ALL:
        may_need.append(cast(Notification.alert_sectors, String) != "[]")
    return list(
        session.exec(
            select(Notification).where(
                col(Notification.classified_hash).is_not(None), _timely(today), or_(*may_need)
            )
        ).all()
    )


def _parent_labels(session: Session, rows: list[Notification]) -> dict[str, frozenset[str]]:
    keys = {r.measure_key for r in rows if r.kind != NotificationKind.REGULAR}
    keys.discard("")
    found = session.exec(select(Notification).where(col(Notification.symbol).in_(keys))).all()
    symbols = {r.id or 0: r.symbol for r in found}
    return {symbols[k]: state.labels for k, state in effective_map(session, found).items()}


def triage_queue(session: Session, mode: ReviewMode, today: date) -> list[QueueItem]:
    rows = _candidates(session, ReviewMode(mode), today)
    states = effective_map(session, rows)
    parents = _parent_labels(session, rows)
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
