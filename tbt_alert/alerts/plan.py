"""Plan bulletins and deliveries idempotently: one bulletin per notification event, one delivery
per (bulletin, subscriber). Unique keys in the database make every rerun safe."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, and_, col, or_, select

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.alerts.match import Interest, Relevance, match
from tbt_alert.status import (
    BulletinKind,
    Cadence,
    DeliveryStatus,
    NotificationKind,
    ReviewMode,
    SubscriberStatus,
    SubscriptionStatus,
)
from tbt_alert.store.shapes import (
    WarningSnapshot,
    read_classification,
    read_events,
    read_warning_snapshot,
)
from tbt_alert.store.tables import Bulletin, Delivery, Notification, Subscriber, Subscription
from tbt_alert.triage.decisions import Gate


@dataclass
class PlanReport:
    bulletins: list[str] = field(default_factory=list)
    deliveries: int = 0
    withdrawn: int = 0


def interests(session: Session) -> list[Interest]:
    stmt = (
        select(Subscription, Subscriber)
        .join(Subscriber, col(Subscriber.id) == col(Subscription.subscriber_id))
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .where(Subscription.status == SubscriptionStatus.ACTIVE)
    )
    return [
        Interest(sub.id or 0, s.sector, frozenset(s.markets or []), Cadence(s.cadence))
        for s, sub in session.exec(stmt).all()
    ]


def timely_relevant(
    session: Session, today: date, window_days: int, gate: Gate | None = None
) -> list[Notification]:
    """Classified notifications with a sector a warning may go out for (the gate: analysts'
    decisions under the review mode) that are still timely (see is_timely), found in SQL so a
    cycle does not read the whole history."""
    open_or_recent = or_(
        col(Notification.comment_deadline) >= today,
        and_(
            col(Notification.comment_deadline).is_(None),
            col(Notification.distribution_date) >= today - timedelta(days=window_days),
        ),
    )
    rows = session.exec(
        select(Notification)
        .where(col(Notification.classified_hash).is_not(None), open_or_recent)
        .order_by(col(Notification.distribution_date), col(Notification.id))
    ).all()
    gate = gate or Gate(session, ReviewMode.AUTO)
    gate.prefetch(rows)
    return [r for r in rows if gate.sectors(r)]


def is_timely(row: Notification, today: date, window_days: int) -> bool:
    """Warn only while a warning is still useful: open for comment, or recently distributed."""
    if row.comment_deadline is not None:
        return row.comment_deadline >= today
    if row.distribution_date is not None:
        return row.distribution_date >= today - timedelta(days=window_days)
    return False


def bulletin_kind(session: Session, row: Notification) -> BulletinKind:
    """An addendum, corrigendum or revision of a measure we already warned about is an update."""
    if row.kind == NotificationKind.REGULAR:
        return BulletinKind.WARNING
    earlier = session.exec(
        select(Bulletin.id)
        .join(Notification, col(Notification.id) == col(Bulletin.notification_id))
        .where(Notification.measure_key == row.measure_key, Notification.id != row.id)
    ).first()
    return BulletinKind.UPDATE if earlier is not None else BulletinKind.WARNING


def snapshot(
    row: Notification,
    kind: BulletinKind,
    group: list[Notification],
    sectors: frozenset[str] | None = None,
    added: frozenset[str] = frozenset(),
) -> WarningSnapshot:
    """What the bulletin says, frozen when it is planned so every delivery says the same.
    ``sectors``: what it goes out for (default: the classifier's alert sectors); ``added``: for a
    correction, the sectors analysts added since the first warning."""
    symbols = sorted({s for r in group for s in (r.joint_symbols or [r.symbol])})
    return {
        "kind": kind.value,
        "symbol": row.symbol,
        "symbols": symbols,
        "document_kind": str(row.kind),
        "events": read_events(row.events),
        "classification": read_classification(row.classification),
        "alert_sectors": list(row.alert_sectors),
        "sectors": sorted(sectors if sectors is not None else row.alert_sectors),
        "added_sectors": sorted(added),
    }


def parallels(session: Session, row: Notification) -> list[Notification]:
    """The notification with its parallels: the same measure notified by other members."""
    if row.parallel_key is None:
        return [row]
    found = session.exec(
        select(Notification)
        .where(Notification.parallel_key == row.parallel_key)
        .order_by(col(Notification.symbol))
    ).all()
    return [r for r in found if r.member_code != row.member_code or r.id == row.id]


def led_group(
    session: Session, row: Notification, gate: Gate | None = None
) -> tuple[list[Notification], Relevance] | None:
    """A relevant notification with its relevant parallels and what they offer to match, or None
    when another parallel leads: parallel notifications make one bulletin or digest line, the
    first symbol's, matched against every member's market. The gate says which sectors each may
    be sent for (analysts' labels and the review mode)."""
    gate = gate or Gate(session, ReviewMode.AUTO)
    group = [r for r in parallels(session, row) if gate.sectors(r)]
    if not group or group[0].id != row.id:
        return None
    sectors = frozenset(s for r in group for s in gate.sectors(r))
    return group, Relevance(sectors, frozenset(m for r in group for m in r.markets))


def plan_warnings(
    session: Session,
    *,
    now: datetime,
    window_days: int,
    domain: str,
    review: ReviewMode = ReviewMode.AUTO,
) -> PlanReport:
    """Create the bulletin and the deliveries each timely relevant notification is due; withdraw
    planned, unsent deliveries that analysts' decisions no longer allow."""
    report = PlanReport()
    subscribed = interests(session)
    gate = Gate(session, review)
    report.withdrawn = withdraw_unsent(session, gate, subscribed, now)
    for row in timely_relevant(session, now.date(), window_days, gate):
        led = led_group(session, row, gate)
        targets = match(led[1], subscribed) if led else {}
        if not led or not targets:
            continue
        group, relevance = led
        first = _bulletin(session, row, group, relevance.alert_sectors, now, report)
        sectors = relevance.alert_sectors
        added = sectors - set(read_warning_snapshot(first.snapshot)["sectors"])
        late, newly = _late_or_newly_concerned(
            session, first, added, targets, _reached(session, row)
        )
        report.deliveries += _deliveries(session, first, late, now=now, domain=domain)
        if newly:
            fix = _correction(session, row, group, sectors, added, now, report)
            report.deliveries += _deliveries(session, fix, newly, now=now, domain=domain)
    session.flush()
    return report


def _reached(session: Session, row: Notification) -> set[int]:
    """Subscribers with a delivery of any bulletin about ``row`` (its warning or corrections)."""
    return set(
        session.exec(
            select(Delivery.subscriber_id)
            .join(Bulletin, col(Bulletin.id) == col(Delivery.bulletin_id))
            .where(Bulletin.notification_id == row.id)
        ).all()
    )


def _late_or_newly_concerned(
    session: Session,
    first: Bulletin,
    added: frozenset[str],
    targets: dict[int, list[str]],
    reached: set[int],
) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Split the targets not yet reached: those the first bulletin is for (it has not gone out
    yet, or they subscribed since) and those only sectors analysts added after it went out
    concern, who get a correction saying so."""
    todo = {sid: secs for sid, secs in targets.items() if sid not in reached}
    went_out = session.exec(
        select(Delivery.id).where(
            Delivery.bulletin_id == first.id, Delivery.status != DeliveryStatus.PLANNED
        )
    ).first()
    if went_out is None or not added:
        return todo, {}
    late = {sid: secs for sid, secs in todo.items() if not added & set(secs)}
    return late, {sid: secs for sid, secs in todo.items() if sid not in late}


def withdraw_unsent(session: Session, gate: Gate, subscribed: list[Interest], now: datetime) -> int:
    """A warning not yet sent follows the latest decisions: a dismissal, a removed sector or a
    review mode that holds it back skips the planned deliveries it no longer justifies."""
    pending = session.exec(
        select(Delivery, Bulletin)
        .join(Bulletin, col(Bulletin.id) == col(Delivery.bulletin_id))
        .where(
            Delivery.status == DeliveryStatus.PLANNED,
            col(Bulletin.notification_id).is_not(None),
        )
    ).all()
    withdrawn = 0
    targets: dict[int, dict[int, list[str]]] = {}
    for delivery, bulletin in pending:
        key = bulletin.notification_id or 0
        if key not in targets:
            row = session.get(Notification, key)
            led = led_group(session, row, gate) if row is not None else None
            targets[key] = match(led[1], subscribed) if led else {}
        if delivery.subscriber_id not in targets[key]:
            delivery.status = DeliveryStatus.SKIPPED
            delivery.last_error = f"withdrawn {now:%Y-%m-%d %H:%M} UTC: an analyst's decision"
            session.add(delivery)
            withdrawn += 1
    return withdrawn


def _bulletin(
    session: Session,
    row: Notification,
    group: list[Notification],
    sectors: frozenset[str],
    now: datetime,
    report: PlanReport,
) -> Bulletin:
    """The notification's warning (or update) bulletin, planned once."""
    existing = session.exec(
        select(Bulletin)
        .where(Bulletin.notification_id == row.id, Bulletin.kind != BulletinKind.CORRECTION)
        .order_by(col(Bulletin.id))
    ).first()
    if existing is not None:
        return existing
    kind = bulletin_kind(session, row)
    return _add_bulletin(
        session,
        f"{kind.value}:{row.symbol}",
        kind,
        row,
        snapshot(row, kind, group, sectors),
        now,
        report,
    )


def _correction(
    session: Session,
    row: Notification,
    group: list[Notification],
    sectors: frozenset[str],
    added: frozenset[str],
    now: datetime,
    report: PlanReport,
) -> Bulletin:
    """The correction for ``added``, the sectors analysts added since the first warning went
    out: one per set of sectors, so reruns plan nothing new and a later addition makes another."""
    key = f"{BulletinKind.CORRECTION.value}:{row.symbol}:{','.join(sorted(sectors))}"
    existing = session.exec(select(Bulletin).where(Bulletin.key == key)).first()
    if existing is not None:
        return existing
    said = snapshot(row, BulletinKind.CORRECTION, group, sectors, added)
    return _add_bulletin(session, key, BulletinKind.CORRECTION, row, said, now, report)


def _add_bulletin(
    session: Session,
    key: str,
    kind: BulletinKind,
    row: Notification,
    said: WarningSnapshot,
    now: datetime,
    report: PlanReport,
) -> Bulletin:
    bulletin = Bulletin(
        key=key, kind=kind, notification_id=row.id or 0, snapshot=dict(said), created_at=now
    )
    session.add(bulletin)
    session.flush()
    report.bulletins.append(bulletin.key)
    return bulletin


def _deliveries(
    session: Session,
    bulletin: Bulletin,
    targets: dict[int, list[str]],
    *,
    now: datetime,
    domain: str,
) -> int:
    added = 0
    for subscriber_id, sectors in targets.items():
        session.add(
            Delivery(
                bulletin_id=bulletin.id or 0,
                subscriber_id=subscriber_id,
                sectors=sectors,
                status=DeliveryStatus.PLANNED,
                created_at=now,
                next_attempt_at=now,
                message_id=make_message_id(bulletin.key, str(subscriber_id), domain),
            )
        )
        added += 1
    return added
