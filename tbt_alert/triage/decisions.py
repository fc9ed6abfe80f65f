"""Analysts' decisions: recorded with who and when, undone by stamping (never deleted), and
replayed into the effective state of a notification: its labels, acceptance, assignee and risk.

What a warning may be sent for depends on the review mode (``sendable``):

* ``auto``: the classifier's alert-tier sectors, plus sectors added, less sectors removed;
* ``possible``: as ``auto``, and once accepted the possible-tier sectors too;
* ``all``: nothing before an analyst accepts; then as ``possible``.

A dismissed notification is never sent, whatever the mode."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from tbt_alert.classify.annotate import tier_sectors
from tbt_alert.errors import TbtAlertError
from tbt_alert.status import DecisionKind, ReviewMode
from tbt_alert.store.tables import Decision, Notification

RISK_LEVELS = ("red", "amber", "green")
CHUNK = 500  # ids per IN (...) list


class DecisionError(TbtAlertError):
    """A decision cannot be recorded or undone; the message says why."""


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
    decisions: tuple[Decision, ...] = field(default=(), compare=False)

    @property
    def labels(self) -> frozenset[str]:
        """Effective labels: the classifier's (both tiers) with the analyst's changes."""
        return (self.alert | self.possible | self.added) - self.removed

    @property
    def relabelled(self) -> bool:
        return bool(self.added or self.removed)


def replay(row: Notification, decisions: Iterable[Decision]) -> Effective:
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
    """The sectors a warning about the notification may be sent for now (see the module doc)."""
    if state.status == DecisionKind.DISMISS:
        return frozenset()
    accepted = state.status == DecisionKind.ACCEPT
    if mode == ReviewMode.ALL and not accepted:
        return frozenset()
    base = state.alert | state.added
    if accepted and mode != ReviewMode.AUTO:
        base |= state.possible
    return base - state.removed


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


def effective_map(session: Session, rows: Sequence[Notification]) -> dict[int, Effective]:
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
