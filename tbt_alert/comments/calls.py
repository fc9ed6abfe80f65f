"""Calls for comments: one per notified measure about which a warning went out, open while its
comment period runs. The WTO deadline follows the measure's documents (an addendum may extend or
reopen the period, or withdraw the measure); the internal deadline is the WTO deadline less the
configured lead days. Plain functions over a session; the cycle and the CLI call them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, func, select

from tbt_alert.errors import TbtAlertError
from tbt_alert.status import BulletinKind, CallStatus, DeliveryStatus, NotificationKind
from tbt_alert.store.measure import measure_state
from tbt_alert.store.queries import find_notification
from tbt_alert.store.tables import Bulletin, CommentCall, CommentDraft, Delivery, Notification

# status -> the statuses an analyst may move it to
TRANSITIONS: dict[CallStatus, frozenset[CallStatus]] = {
    CallStatus.OPEN: frozenset({CallStatus.DRAFTING, CallStatus.SUBMITTED, CallStatus.CLOSED}),
    CallStatus.DRAFTING: frozenset({CallStatus.SUBMITTED, CallStatus.CLOSED}),
    CallStatus.SUBMITTED: frozenset({CallStatus.ANSWERED, CallStatus.CLOSED}),
    CallStatus.ANSWERED: frozenset({CallStatus.CLOSED}),
    CallStatus.CLOSED: frozenset(),
    CallStatus.WITHDRAWN: frozenset({CallStatus.CLOSED}),
}
# calls that still take drafts
ACCEPTING = (CallStatus.OPEN, CallStatus.DRAFTING)
# calls whose deadlines still follow the measure
LIVE = (CallStatus.OPEN, CallStatus.DRAFTING, CallStatus.SUBMITTED)


class CommentsError(TbtAlertError):
    """A request about a call for comments cannot be met; the message says why."""


@dataclass(frozen=True)
class Moved:
    symbol: str
    old: date
    new: date


@dataclass
class CallReport:
    opened: list[str] = field(default_factory=list)
    moved: list[Moved] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


def internal_deadline(wto_deadline: date, lead_days: int) -> date:
    """The WTO deadline less the lead days: when the enquiry point wants the comment."""
    return wto_deadline - timedelta(days=lead_days)


def _base(session: Session, row: Notification) -> Notification:
    """The measure's base notification (an update warning concerns an addendum's row)."""
    if row.kind == NotificationKind.REGULAR:
        return row
    base = session.exec(select(Notification).where(Notification.symbol == row.measure_key)).first()
    return base or row


def _measure_rows(session: Session, row: Notification) -> list[Notification]:
    return list(
        session.exec(select(Notification).where(Notification.measure_key == row.measure_key)).all()
    )


# digests list many notifications per delivery: only those sent this recently are read
DIGEST_LOOKBACK = timedelta(days=120)


def digest_items(session: Session, since: datetime) -> list[tuple[int, list[int]]]:
    """(subscriber id, notification ids) of every digest sent since ``since``."""
    stmt = (
        select(Delivery.subscriber_id, Delivery.items)
        .join(Bulletin, col(Bulletin.id) == col(Delivery.bulletin_id))
        .where(Bulletin.kind == BulletinKind.DIGEST)
        .where(Delivery.status == DeliveryStatus.SENT)
        .where(col(Delivery.sent_at) >= since)
    )
    return [(sid, list(items or [])) for sid, items in session.exec(stmt).all()]


def warned_notifications(session: Session, now: datetime) -> list[Notification]:
    """Notifications of which at least one warning, update or digest was sent."""
    warned = (
        select(Bulletin.notification_id)
        .join(Delivery, col(Delivery.bulletin_id) == col(Bulletin.id))
        .where(Delivery.status == DeliveryStatus.SENT)
    )
    ids = set(session.exec(warned).all())
    ids |= {i for _, items in digest_items(session, now - DIGEST_LOOKBACK) for i in items}
    ids.discard(None)
    if not ids:
        return []
    stmt = select(Notification).where(col(Notification.id).in_(ids)).order_by(col(Notification.id))
    return list(session.exec(stmt).all())


def open_calls(session: Session, *, now: datetime, lead_days: int) -> CallReport:
    """Open a call for every measure still open for comments about which a warning went out,
    and move the deadlines of existing calls to what the measure's documents now say."""
    report = refresh_calls(session, now=now, lead_days=lead_days)
    today = now.date()
    for warned in warned_notifications(session, now):
        base = _base(session, warned)
        if session.exec(select(CommentCall).where(CommentCall.notification_id == base.id)).first():
            continue
        state = measure_state(_measure_rows(session, base))
        if state.stage == "withdrawn" or state.comment_deadline is None:
            continue
        if state.comment_deadline < today:
            continue
        session.add(
            CommentCall(
                notification_id=base.id or 0,
                symbol=base.symbol,
                wto_deadline=state.comment_deadline,
                internal_deadline=internal_deadline(state.comment_deadline, lead_days),
                created_at=now,
                updated_at=now,
            )
        )
        report.opened.append(base.symbol)
    session.flush()
    return report


def refresh_calls(session: Session, *, now: datetime, lead_days: int) -> CallReport:
    """Follow addenda: a changed comment period moves both deadlines; a withdrawal withdraws."""
    report = CallReport()
    live = session.exec(select(CommentCall).where(col(CommentCall.status).in_(LIVE))).all()
    for call in live:
        base = session.get(Notification, call.notification_id)
        if base is None:
            continue
        state = measure_state(_measure_rows(session, base))
        if state.stage == "withdrawn":
            call.status, call.updated_at = CallStatus.WITHDRAWN, now
            report.withdrawn.append(call.symbol)
        elif state.comment_deadline and state.comment_deadline != call.wto_deadline:
            report.moved.append(Moved(call.symbol, call.wto_deadline, state.comment_deadline))
            call.wto_deadline = state.comment_deadline
            call.internal_deadline = internal_deadline(state.comment_deadline, lead_days)
            call.updated_at = now
        else:
            continue
        session.add(call)
    session.flush()
    return report


def call_of(session: Session, row: Notification) -> CommentCall | None:
    """The call of the measure ``row`` belongs to, if one was opened."""
    base = _base(session, row)
    return session.exec(select(CommentCall).where(CommentCall.notification_id == base.id)).first()


def find_call(session: Session, symbol: str) -> CommentCall:
    """The call of the measure ``symbol`` names (any document of it); CommentsError if none."""
    row = find_notification(session, symbol)
    if row is None:
        raise CommentsError(f"no notification {symbol}")
    base = _base(session, row)
    call = session.exec(select(CommentCall).where(CommentCall.notification_id == base.id)).first()
    if call is None:
        raise CommentsError(f"no call for comments on {base.symbol} (no warning went out for it)")
    return call


def move_to(session: Session, call: CommentCall, status: CallStatus, *, now: datetime) -> None:
    """An analyst's change of status, if the workflow allows it."""
    current = CallStatus(call.status)
    if status == current:
        return
    if status not in TRANSITIONS[current]:
        raise CommentsError(f"{call.symbol} is {current}: it cannot become {status}")
    call.status, call.updated_at = status, now
    session.add(call)
    session.flush()


def draft_counts(session: Session) -> dict[int, int]:
    rows = session.exec(
        select(CommentDraft.call_id, func.count()).group_by(col(CommentDraft.call_id))
    ).all()
    return {call_id: n for call_id, n in rows}


def list_calls(
    session: Session, *, symbol: str | None = None, status: str | None = None
) -> list[CommentCall]:
    """Calls by internal deadline, soonest first."""
    stmt = select(CommentCall).order_by(col(CommentCall.internal_deadline), col(CommentCall.id))
    if symbol is not None:
        stmt = stmt.where(CommentCall.id == find_call(session, symbol).id)
    if status is not None:
        try:
            stmt = stmt.where(CommentCall.status == CallStatus(status))
        except ValueError as e:
            known = ", ".join(s.value for s in CallStatus)
            raise CommentsError(f"unknown status {status!r}; known: {known}") from e
    return list(session.exec(stmt).all())
