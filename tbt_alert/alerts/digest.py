"""Daily and weekly digests: one bulletin per closed period, one delivery per subscriber listing
the notifications of that period that concern their sectors and markets.

A period is a local calendar day or ISO week in the configured time zone. Periods missed while
nothing ran are caught up (a bounded number), each once: the bulletin key names the period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.alerts.match import Relevance, match
from tbt_alert.alerts.plan import bulletin_kind, interests, is_timely, led_group, snapshot
from tbt_alert.status import BulletinKind, Cadence, DeliveryStatus, ReviewMode
from tbt_alert.store.shapes import DigestSnapshot, WarningSnapshot
from tbt_alert.store.tables import Bulletin, Delivery, Notification
from tbt_alert.triage.decisions import Gate

CATCH_UP = {Cadence.DAILY: 7, Cadence.WEEKLY: 4}  # closed periods looked back at, at most


@dataclass(frozen=True)
class Period:
    cadence: Cadence
    label: str  # 2026-11-25 or 2026-W48
    start: datetime  # aware, inclusive
    end: datetime  # aware, exclusive


@dataclass
class DigestPlan:
    bulletins: list[str] = field(default_factory=list)
    deliveries: int = 0


def last_closed(cadence: Cadence, now: datetime, tz: ZoneInfo) -> Period:
    """The newest period that has ended at ``now``."""
    local = now.astimezone(tz)
    midnight = datetime.combine(local.date(), time(0), tzinfo=tz)
    if cadence == Cadence.DAILY:
        return _day(midnight - timedelta(days=1), tz)
    monday = midnight - timedelta(days=local.weekday())
    return _week(monday - timedelta(days=7), tz)


def _day(start: datetime, tz: ZoneInfo) -> Period:
    end = datetime.combine(start.date() + timedelta(days=1), time(0), tzinfo=tz)
    return Period(Cadence.DAILY, start.date().isoformat(), start, end)


def _week(start: datetime, tz: ZoneInfo) -> Period:
    end = datetime.combine(start.date() + timedelta(days=7), time(0), tzinfo=tz)
    year, week, _ = start.date().isocalendar()
    return Period(Cadence.WEEKLY, f"{year}-W{week:02d}", start, end)


def due_periods(session: Session, cadence: Cadence, now: datetime, tz: ZoneInfo) -> list[Period]:
    """Closed periods not yet planned, oldest first, at most CATCH_UP[cadence]."""
    newest = last_closed(cadence, now, tz)
    step = timedelta(days=1 if cadence == Cadence.DAILY else 7)
    make = _day if cadence == Cadence.DAILY else _week
    periods = [
        make(datetime.combine((newest.start - i * step).date(), time(0), tzinfo=tz), tz)
        for i in range(CATCH_UP[cadence])
    ]
    keys = [bulletin_key(p) for p in periods]
    planned = set(session.exec(select(Bulletin.key).where(col(Bulletin.key).in_(keys))).all())
    return [p for p in reversed(periods) if bulletin_key(p) not in planned]


def bulletin_key(period: Period) -> str:
    return f"digest:{period.cadence.value}:{period.label}"


def period_items(
    session: Session, period: Period, now: datetime, window_days: int, gate: Gate | None = None
) -> list[tuple[Notification, Relevance, WarningSnapshot]]:
    """Relevant notifications first seen in the period and still useful now, parallels once,
    with what they offer to match (the gate: analysts' decisions under the review mode) and what
    the digest will say of each (frozen now, like a warning's snapshot: sending does not plan
    again)."""
    gate = gate or Gate(session, ReviewMode.AUTO)
    rows = session.exec(
        select(Notification)
        .where(
            col(Notification.first_seen_at) >= period.start,
            col(Notification.first_seen_at) < period.end,
        )
        .order_by(col(Notification.distribution_date), col(Notification.symbol))
    ).all()
    gate.prefetch(rows)
    out = []
    for row in rows:
        if not gate.sectors(row) or not is_timely(row, now.date(), window_days):
            continue
        led = led_group(session, row, gate)
        if led is not None:
            out.append((row, led[1], snapshot(row, bulletin_kind(session, row), led[0])))
    return out


def plan_digests(
    session: Session,
    cadence: Cadence,
    *,
    now: datetime,
    tz: ZoneInfo,
    window_days: int,
    domain: str,
    review: ReviewMode = ReviewMode.AUTO,
) -> DigestPlan:
    """Plan the digest of every due period of ``cadence``: one delivery per concerned subscriber."""
    report = DigestPlan()
    subscribed = interests(session)
    gate = Gate(session, review)
    for period in due_periods(session, cadence, now, tz):
        per_subscriber: dict[int, tuple[set[str], list[int]]] = {}
        said: dict[str, WarningSnapshot] = {}
        for row, relevance, item in period_items(session, period, now, window_days, gate):
            said[str(row.id)] = item
            for sid, matched in match(relevance, subscribed, cadence).items():
                entry = per_subscriber.setdefault(sid, (set(), []))
                entry[0].update(matched)
                entry[1].append(row.id or 0)
        if not per_subscriber:
            continue
        listed = {i for _, items in per_subscriber.values() for i in items}
        key = bulletin_key(period)
        bulletin = Bulletin(
            key=key,
            kind=BulletinKind.DIGEST,
            notification_id=None,
            created_at=now,
            snapshot=dict(
                DigestSnapshot(
                    kind="digest",
                    cadence=cadence.value,
                    period=period.label,
                    start=period.start.isoformat(),
                    end=period.end.isoformat(),
                    items={k: v for k, v in said.items() if int(k) in listed},
                )
            ),
        )
        session.add(bulletin)
        session.flush()
        report.bulletins.append(key)
        for sid, (sectors, items) in sorted(per_subscriber.items()):
            session.add(
                Delivery(
                    bulletin_id=bulletin.id or 0,
                    subscriber_id=sid,
                    sectors=sorted(sectors),
                    items=items,
                    status=DeliveryStatus.PLANNED,
                    created_at=now,
                    next_attempt_at=now,
                    message_id=make_message_id(key, str(sid), domain),
                )
            )
            report.deliveries += 1
    session.flush()
    return report
