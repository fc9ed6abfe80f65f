"""Analysts' decisions: recorded with who and when, undone by stamping (never deleted), and
replayed into the effective state of a notification: its labels, acceptance, assignee and risk.

What a warning may be sent for depends on the review mode (``sendable``):

* ``auto``: the classifier's alert-tier sectors, plus sectors added, less sectors removed;
* ``possible``: as ``auto``, and once accepted the possible-tier sectors too;
* ``all``: nothing before an analyst accepts; then as ``possible``.

A dismissed notification is never sent, whatever the mode."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from tbt_alert.errors import TbtAlertError
from tbt_alert.status import DecisionKind, ReviewMode
from tbt_alert.store.tables import Decision, Notification
from tbt_alert.triage.effective import CHUNK, Effective, NotificationLike, replay, sendable

RISK_LEVELS = ("red", "amber", "green")


class DecisionError(TbtAlertError):
    """A decision cannot be recorded or undone; the message says why."""


def decisions_of(session: Session, ids: Sequence[int]) -> dict[int, list[Decision]]:
    """Every decision (undone ones too) per notification id, oldest first."""
    out: dict[int, list[Decision]] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), CHUNK):
        chunk = unique[start : start + CHUNK]
        for d in session.exec(
            select(Decision)
            .where(col(Decision.notification_id).in_(chunk))
            .order_by(col(Decision.at), col(Decision.id))
        ).all():
            out.setdefault(d.notification_id, []).append(d)
    return out


def effective_map(session: Session, rows: Sequence[NotificationLike]) -> dict[int, Effective]:
    found = decisions_of(session, [r.id or 0 for r in rows])
    return {r.id or 0: replay(r, found.get(r.id or 0, [])) for r in rows}


class Gate:
    """What may be sent for each notification under a review mode, read from the database once
    per notification (planning asks about a notification and its parallels)."""

    def __init__(self, session: Session, mode: ReviewMode) -> None:
        self.session, self.mode = session, ReviewMode(mode)
        self._cache: dict[int, frozenset[str]] = {}

    def prefetch(self, rows: Sequence[Notification]) -> None:
        missing = [r for r in rows if (r.id or 0) not in self._cache]
        for key, state in effective_map(self.session, missing).items():
            self._cache[key] = sendable(state, self.mode)

    def sectors(self, row: Notification) -> frozenset[str]:
        if (row.id or 0) not in self._cache:
            self.prefetch([row])
        return self._cache[row.id or 0]


def record(
    session: Session,
    row: Notification,
    kind: DecisionKind,
    *,
    who: str,
    now: datetime,
    value: str = "",
    note: str | None = None,
) -> Decision:
    """Store one decision about ``row``."""
    if not who.strip():
        raise DecisionError("who decided is unknown: give --by NAME or set $USER")
    if kind == DecisionKind.RISK and value not in RISK_LEVELS:
        raise DecisionError(f"risk must be one of {', '.join(RISK_LEVELS)}, got {value!r}")
    decision = Decision(
        notification_id=row.id or 0,
        symbol=row.symbol,
        kind=kind,
        value=value,
        note=(note or None),
        who=who.strip()[:120],
        at=now,
    )
    session.add(decision)
    session.flush()
    return decision


def undo_last(session: Session, row: Notification, *, now: datetime) -> Decision:
    """Undo the newest live decision about ``row`` (stamped, kept for the record)."""
    last = session.exec(
        select(Decision)
        .where(Decision.notification_id == row.id, col(Decision.undone_at).is_(None))
        .order_by(col(Decision.at).desc(), col(Decision.id).desc())
    ).first()
    if last is None:
        raise DecisionError(f"{row.symbol} has no decision to undo")
    last.undone_at = now
    session.add(last)
    session.flush()
    return last


def describe(d: Decision) -> str:
    """One line for ``show``: when, who, what."""
    what = {
        DecisionKind.LABEL_ADD: f"added sector {d.value}",
        DecisionKind.LABEL_REMOVE: f"removed sector {d.value}",
        DecisionKind.ACCEPT: "accepted",
        DecisionKind.DISMISS: "dismissed",
        DecisionKind.ASSIGN: f"assigned to {d.value}",
        DecisionKind.RISK: f"risk {d.value}",
    }.get(DecisionKind(d.kind), str(d.kind))
    note = f" ({d.note})" if d.note else ""
    undone = f" [undone {d.undone_at:%Y-%m-%d %H:%M}]" if d.undone_at else ""
    return f"{d.at:%Y-%m-%d %H:%M} UTC  {d.who}: {what}{note}{undone}"


def as_json(d: Decision) -> dict:
    return {
        "kind": str(d.kind),
        "value": d.value,
        "note": d.note,
        "who": d.who,
        "at": d.at.isoformat(),
        "undone_at": d.undone_at.isoformat() if d.undone_at else None,
    }
