"""Send due deliveries one by one; record each outcome only after the mail server answered.

At-least-once: a delivery whose outcome is unknown (connection lost after DATA) is retried with the
same Message-ID. Temporary failures back off exponentially; permanent ones are never retried; a
delivery that is too late to help (comment deadline passed, or older than max_age) expires.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, or_, select

from tbt_alert.alerts.plan import bulletin_kind, parallels, snapshot
from tbt_alert.classify.risk import risk_from_json
from tbt_alert.mail.explain import explain
from tbt_alert.mail.mailer import Mailer, SendOutcome, SendStatus
from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import (
    RenderedMessage,
    SectorLine,
    WarningContext,
    render_digest,
    render_warning,
)
from tbt_alert.status import BulletinKind, DeliveryStatus, Language, SubscriberStatus
from tbt_alert.store.measure import change_summary
from tbt_alert.store.shapes import (
    SectorJSON,
    WarningSnapshot,
    read_digest_snapshot,
    read_warning_snapshot,
)
from tbt_alert.store.tables import Bulletin, Delivery, Notification, Subscriber
from tbt_alert.text.members import normalise_member

RETRYABLE = (DeliveryStatus.PLANNED, DeliveryStatus.FAILED_TEMP, DeliveryStatus.UNKNOWN)
OUTCOME_STATUS = {
    SendStatus.SENT: DeliveryStatus.SENT,
    SendStatus.FAILED_TEMP: DeliveryStatus.FAILED_TEMP,
    SendStatus.FAILED_PERM: DeliveryStatus.FAILED_PERM,
    SendStatus.UNKNOWN: DeliveryStatus.UNKNOWN,
}


@dataclass(frozen=True)
class DeliverySettings:
    sender: str
    public_url: str
    domain: str
    max_age: timedelta = timedelta(days=7)
    max_attempts: int = 8
    backoff_base: timedelta = timedelta(minutes=5)
    breaker_threshold: int = 3  # consecutive connection failures that pause sending
    limit: int = 5000


def due(session: Session, now: datetime, limit: int) -> list[Delivery]:
    stmt = (
        select(Delivery)
        .where(col(Delivery.status).in_([s.value for s in RETRYABLE]))
        .where(or_(col(Delivery.next_attempt_at).is_(None), col(Delivery.next_attempt_at) <= now))
        .order_by(col(Delivery.id))
        .limit(limit)
    )
    return list(session.exec(stmt).all())


def backoff(attempts: int, base: timedelta, rng: random.Random) -> timedelta:
    """Exponential backoff with jitter: base * 2^(attempts-1), +/- 20%."""
    delay = base * (2 ** max(attempts - 1, 0))
    return delay * rng.uniform(0.8, 1.2)


def send_due(
    session: Session,
    mailer: Mailer,
    settings: DeliverySettings,
    *,
    now: datetime,
    sector_names: dict[str, tuple[str, str]],
    rng: random.Random | None = None,
) -> Counter[str]:
    """Send every due delivery; commit after each one. Returns counts by resulting status."""
    rng = rng or random.Random()
    counts: Counter[str] = Counter()
    for delivery in due(session, now, settings.limit):
        if getattr(mailer, "consecutive_connect_failures", 0) >= settings.breaker_threshold:
            counts["paused"] += 1
            continue
        status = _send_one(
            session, mailer, delivery, settings, now=now, names=sector_names, rng=rng
        )
        counts[status.value] += 1
        session.commit()
    return counts


def _send_one(
    session: Session,
    mailer: Mailer,
    delivery: Delivery,
    settings: DeliverySettings,
    *,
    now: datetime,
    names: dict[str, tuple[str, str]],
    rng: random.Random,
) -> DeliveryStatus:
    bulletin = session.get(Bulletin, delivery.bulletin_id)
    subscriber = session.get(Subscriber, delivery.subscriber_id)
    if bulletin is None or subscriber is None:
        return _finish(session, delivery, DeliveryStatus.SKIPPED, "bulletin or subscriber gone")
    if subscriber.status != SubscriberStatus.ACTIVE:
        return _finish(session, delivery, DeliveryStatus.SKIPPED, f"subscriber {subscriber.status}")
    if now - delivery.created_at > settings.max_age:
        return _finish(session, delivery, DeliveryStatus.EXPIRED, "not sent within max_age")
    lang: Literal["zh", "en"] = "en" if subscriber.language == Language.EN else "zh"
    reader = Reader(subscriber, delivery, settings, now, names, lang)
    rendered = _render(session, bulletin, reader)
    if rendered is None:
        return _finish(session, delivery, DeliveryStatus.EXPIRED, "comment period over: too late")
    msg = build_message(
        rendered,
        sender=settings.sender,
        recipient=subscriber.email,
        message_id=delivery.message_id,
        list_id=f"tbt-alert {bulletin.kind}s <{bulletin.kind}s.{settings.domain}>",
        unsubscribe_url=reader.link("unsubscribe"),
        unsubscribe_mailto=None,
        date=now,
    )
    return _record(session, delivery, mailer.send(msg), settings, now, rng)


@dataclass(frozen=True)
class Reader:
    """Who a message is rendered for, and when."""

    subscriber: Subscriber
    delivery: Delivery
    settings: DeliverySettings
    now: datetime
    names: dict[str, tuple[str, str]]
    lang: Literal["zh", "en"]

    def link(self, page: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/{page}/{self.subscriber.token}"


def _render(session: Session, bulletin: Bulletin, reader: Reader) -> RenderedMessage | None:
    """The message for one reader; None when nothing in it is still useful."""
    if bulletin.kind == BulletinKind.DIGEST:
        rows = [
            r
            for r in (session.get(Notification, i) for i in reader.delivery.items)
            if r is not None and not _closed(r, reader.now)
        ]
        contexts = [warning_context(_item_snapshot(session, r), r, reader) for r in rows]
        label = read_digest_snapshot(bulletin.snapshot)["period"]
        return render_digest(contexts, reader.lang, label) if contexts else None
    row = session.get(Notification, bulletin.notification_id) if bulletin.notification_id else None
    if row is None or _closed(row, reader.now):
        return None
    snap = read_warning_snapshot(bulletin.snapshot)
    return render_warning(warning_context(snap, row, reader), reader.lang)


def _item_snapshot(session: Session, row: Notification) -> WarningSnapshot:
    kind = bulletin_kind(session, row)
    return snapshot(row, kind, [r for r in parallels(session, row) if r.alert_sectors])


def _closed(row: Notification, now: datetime) -> bool:
    return row.comment_deadline is not None and row.comment_deadline < now.date()


def _finish(
    session: Session, delivery: Delivery, status: DeliveryStatus, why: str
) -> DeliveryStatus:
    delivery.status, delivery.last_error, delivery.next_attempt_at = status, why, None
    session.add(delivery)
    return status


def _record(
    session: Session,
    delivery: Delivery,
    outcome: SendOutcome,
    settings: DeliverySettings,
    now: datetime,
    rng: random.Random,
) -> DeliveryStatus:
    delivery.attempts += 1
    status = OUTCOME_STATUS[outcome.status]
    delivery.status = status
    delivery.last_error = None if status == DeliveryStatus.SENT else outcome.detail[:500]
    if status == DeliveryStatus.SENT:
        delivery.sent_at, delivery.next_attempt_at = now, None
    elif status == DeliveryStatus.FAILED_PERM:
        delivery.next_attempt_at = None
    elif delivery.attempts >= settings.max_attempts:
        delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED_PERM, None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, settings.backoff_base, rng)
    session.add(delivery)
    return DeliveryStatus(delivery.status)


def warning_context(snap: WarningSnapshot, row: Notification, reader: Reader) -> WarningContext:
    """What one message says of one notification, for one reader."""
    lang, today = reader.lang, reader.now.date()
    entries = {s["sector"]: s for s in snap["classification"]["sectors"]}
    lines = tuple(
        _sector_line(sid, entries.get(sid), reader.names, lang, today, row.comment_deadline)
        for sid in reader.delivery.sectors
        if sid in row.alert_sectors or sid in entries
    )
    member = normalise_member(row.member_name, row.member_code or None)
    update = snap["kind"] == BulletinKind.UPDATE
    others = tuple(s for s in snap["symbols"] or row.joint_symbols if s != row.symbol)
    return WarningContext(
        kind="update" if update else "new",
        change_summary=change_summary(
            snap["document_kind"] or str(row.kind),
            snap["events"],
            row.comment_deadline,
            lang,
        )
        if update
        else None,
        symbol=row.symbol,
        joint_symbols=others,
        member=(member.name_zh or member.name_en or row.member_name)
        if lang == "zh"
        else (member.name_en or row.member_name),
        title=row.title,
        description=row.description or "",
        sectors=lines,
        distribution_date=row.distribution_date,
        comment_deadline=row.comment_deadline,
        deadline_text=None if row.comment_deadline else row.comment_deadline_text,
        days_left=(row.comment_deadline - today).days if row.comment_deadline else None,
        document_url=next(iter(row.document_links), None) or row.document_url,
        notification_url=row.document_url,
        unsubscribe_url=reader.link("unsubscribe"),
        preferences_url=reader.link("preferences"),
        comment_url=None,
    )


def _sector_line(
    sid: str,
    entry: SectorJSON | None,
    names: dict[str, tuple[str, str]],
    lang: Literal["zh", "en"],
    today: date,
    deadline: date | None,
) -> SectorLine:
    """One sector of a message; the risk as of ``today``, weighing the notification's deadline
    (the same day count the message shows)."""
    en, zh = names.get(sid, (sid, sid))
    risk = risk_from_json(entry["risk"] if entry else {}).at(today, deadline)
    return SectorLine(
        sector_id=sid,
        name=zh if lang == "zh" else en,
        tier=entry["tier"] if entry else "alert",
        reasons=tuple(explain(entry["reasons"] if entry else [], lang, names)),
        risk_level=risk.level,
        risk_reasons=tuple(explain(risk.reasons, lang, names)),
    )
