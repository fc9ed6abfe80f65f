"""Send due deliveries one by one; record each outcome only after the mail server answered.

At-least-once: a delivery whose outcome is unknown (connection lost after DATA) is retried with the
same Message-ID. Temporary failures back off exponentially; permanent ones are never retried; a
delivery that is too late to help (comment deadline passed, or older than max_age) expires.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session, col, or_, select

from tbt_alert.config import DEFAULT_SECRET_KEY
from tbt_alert.links import signed_link, unsubscribe_mailto
from tbt_alert.mail.language import Localised, Translator, localise
from tbt_alert.mail.mailer import Mailer, SendOutcome, SendStatus
from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import RenderedMessage, render_digest, render_warning
from tbt_alert.mail.view import View, row_snapshot, warning_context
from tbt_alert.status import BulletinKind, DeliveryStatus, Language, SubscriberStatus
from tbt_alert.store.shapes import (
    read_digest_snapshot,
    read_warning_snapshot,
)
from tbt_alert.store.tables import Bulletin, Delivery, Notification, Subscriber
from tbt_alert.store.versions import stored_versions, title_language
from tbt_alert.tokens import Purpose, make_token

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
    reply_domain: str = ""  # warnings carry Reply-To: reply+<token>@reply_domain when set
    secret_key: str = DEFAULT_SECRET_KEY  # signs the links and the reply and unsubscribe tokens


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
    translator: Translator | None = None,
) -> Counter[str]:
    """Send every due delivery; commit after each one. Returns counts by resulting status.
    ``translator``: machine translation of titles and summaries no source gave in the reader's
    language (None: such texts are shown in the original, with a line saying so)."""
    rng = rng or random.Random()
    counts: Counter[str] = Counter()
    for delivery in due(session, now, settings.limit):
        if getattr(mailer, "consecutive_connect_failures", 0) >= settings.breaker_threshold:
            counts["paused"] += 1
            continue
        status = _send_one(
            session,
            mailer,
            delivery,
            settings,
            now=now,
            names=sector_names,
            rng=rng,
            translator=translator,
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
    translator: Translator | None = None,
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
    rendered = _render(session, bulletin, reader, translator)
    if rendered is None:
        return _finish(session, delivery, DeliveryStatus.EXPIRED, "comment period over: too late")
    msg = build_message(
        rendered,
        sender=settings.sender,
        recipient=subscriber.email,
        message_id=delivery.message_id,
        list_id=f"tbt-alert {bulletin.kind}s <{bulletin.kind}s.{settings.domain}>",
        unsubscribe_url=reader.link("unsubscribe"),
        # the reply domain's address is read by `tbt-alert inbound`; without one, the sender's
        unsubscribe_mailto=_unsubscribe_mailto(subscriber, settings, now)
        or unsubscribe_mailto(settings.sender, settings.secret_key, subscriber.id or 0, now=now),
        date=now,
        reply_to=_reply_to(bulletin, subscriber, settings, now),
    )
    return _record(session, delivery, mailer.send(msg), settings, now, rng)


def _reply_to(
    bulletin: Bulletin, subscriber: Subscriber, settings: DeliverySettings, now: datetime
) -> str | None:
    """``reply+<token>@<reply domain>`` for a warning about one notification: a reply to it
    becomes a comment draft (``tbt-alert inbound``). None for digests or without a domain."""
    if not settings.reply_domain or not bulletin.notification_id or subscriber.id is None:
        return None
    token = make_token(
        settings.secret_key, Purpose.REPLY, subscriber.id, now=now, ref_id=bulletin.notification_id
    )
    return f"reply+{token}@{settings.reply_domain}"


def _unsubscribe_mailto(
    subscriber: Subscriber, settings: DeliverySettings, now: datetime
) -> str | None:
    """``mailto:unsubscribe+<token>@<reply domain>`` (RFC 2369), taken by ``tbt-alert inbound``."""
    if not settings.reply_domain or subscriber.id is None:
        return None
    token = make_token(settings.secret_key, Purpose.UNSUBSCRIBE, subscriber.id, now=now)
    return f"mailto:unsubscribe+{token}@{settings.reply_domain}"


@dataclass(frozen=True)
class Reader:
    """Who a message is rendered for, and when."""

    subscriber: Subscriber
    delivery: Delivery
    settings: DeliverySettings
    now: datetime
    names: dict[str, tuple[str, str]]
    lang: Literal["zh", "en"]

    def link(self, page: str, ref_id: int = 0) -> str:
        """A signed link (preferences, unsubscribe, comment) holding the subscriber's id, not the
        address."""
        return signed_link(
            self.settings.public_url,
            self.settings.secret_key,
            page,
            self.subscriber.id or 0,
            now=self.now,
            ref_id=ref_id,
        )

    def comment_link(self, notification_id: int) -> str:
        """The web comment form about one notification; in the reader's language."""
        return self.link("comment", notification_id) + ("?lang=en" if self.lang == "en" else "")

    def view(self) -> View:
        return View(
            lang=self.lang,
            today=self.now.date(),
            sectors=tuple(self.delivery.sectors),
            names=self.names,
            unsubscribe_url=self.link("unsubscribe"),
            preferences_url=self.link("preferences"),
            comment_link=self.comment_link,
        )


def _localiser(
    session: Session, lang: Literal["zh", "en"], translator: Translator | None
) -> Callable[[Notification], Localised]:
    def localise_row(row: Notification) -> Localised:
        description = row.description or ""
        # already in the reader's language: no other version needed
        same = title_language(row.language, row.title) == lang
        return localise(
            title=row.title,
            description=description,
            language=row.language,
            versions={} if same or not row.id else stored_versions(session, row.id),
            lang=lang,
            translator=translator,
        )

    return localise_row


def _render(
    session: Session, bulletin: Bulletin, reader: Reader, translator: Translator | None = None
) -> RenderedMessage | None:
    """The message for one reader, from what planning froze; None when nothing in it is still
    useful."""
    view = replace(reader.view(), localise=_localiser(session, reader.lang, translator))
    if bulletin.kind == BulletinKind.DIGEST:
        digest = read_digest_snapshot(bulletin.snapshot)
        contexts = []
        for i in reader.delivery.items:
            row = session.get(Notification, i)
            if row is None or _closed(row, reader.now):
                continue
            said = digest["items"].get(str(i)) or row_snapshot(row)
            contexts.append(warning_context(said, row, view))
        return render_digest(contexts, reader.lang, digest["period"]) if contexts else None
    row = session.get(Notification, bulletin.notification_id) if bulletin.notification_id else None
    if row is None or _closed(row, reader.now):
        return None
    snap = read_warning_snapshot(bulletin.snapshot)
    return render_warning(warning_context(snap, row, view), reader.lang)


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
