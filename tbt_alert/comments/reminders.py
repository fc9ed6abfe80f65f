"""Reminders before the internal deadline: to the exporters a warning reached who have not sent a
draft, and to the assigned analyst (when the assignment is an email address). Sent from
``reminder_days`` before the internal deadline until the day before it, never after; each once
per recipient and deadline (an addendum that moves the deadline opens a new window). A reminder
is recorded only after the mail server took it."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.message import EmailMessage

from sqlmodel import Session, col, select

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.comments.calls import ACCEPTING, DIGEST_LOOKBACK, digest_items
from tbt_alert.comments.drafts import drafts_of
from tbt_alert.errors import DeliveryError
from tbt_alert.links import signed_link
from tbt_alert.mail.message import build_notice
from tbt_alert.mail.transport import Mailer, SendStatus
from tbt_alert.status import DeliveryStatus, Language, SubscriberStatus
from tbt_alert.store.tables import (
    Bulletin,
    CommentCall,
    CommentReminder,
    Delivery,
    Notification,
    Subscriber,
)
from tbt_alert.tokens import Purpose, make_token

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReminderSettings:
    sender: str
    domain: str  # of Message-IDs
    public_url: str
    secret_key: str
    reply_domain: str  # reminders to exporters can be answered with the draft itself
    reminder_days: int


@dataclass(frozen=True)
class Due:
    call: CommentCall
    title: str
    recipient: str
    subscriber: Subscriber | None  # None: the analyst


def in_window(call: CommentCall, today: date, reminder_days: int) -> bool:
    start = call.internal_deadline - timedelta(days=reminder_days)
    return call.status in ACCEPTING and start <= today < call.internal_deadline


def calls_due(session: Session, today: date, reminder_days: int) -> list[CommentCall]:
    """Calls still taking drafts whose internal deadline is at most ``reminder_days`` away
    (overdue ones included: their deadline passed without a submission), soonest first."""
    last = today + timedelta(days=reminder_days)
    return list(
        session.exec(
            select(CommentCall)
            .where(
                col(CommentCall.status).in_([str(s) for s in ACCEPTING]),
                col(CommentCall.internal_deadline) <= last,
            )
            .order_by(col(CommentCall.internal_deadline), col(CommentCall.symbol))
        ).all()
    )


def _warned(session: Session, call: CommentCall, now: datetime) -> list[Subscriber]:
    """Active subscribers who were sent a warning, update or digest about the call's measure."""
    base = session.get(Notification, call.notification_id)
    if base is None:
        return []
    measure = set(
        session.exec(
            select(Notification.id).where(Notification.measure_key == base.measure_key)
        ).all()
    )
    direct = (
        select(Delivery.subscriber_id)
        .join(Bulletin, col(Bulletin.id) == col(Delivery.bulletin_id))
        .where(col(Bulletin.notification_id).in_(measure))
        .where(Delivery.status == DeliveryStatus.SENT)
    )
    ids = set(session.exec(direct).all())
    ids |= {
        sid
        for sid, items in digest_items(session, now - DIGEST_LOOKBACK)
        if measure.intersection(items)
    }
    if not ids:
        return []
    stmt = (
        select(Subscriber)
        .where(col(Subscriber.id).in_(ids))
        .where(Subscriber.status == SubscriberStatus.ACTIVE)
        .order_by(col(Subscriber.id))
    )
    return list(session.exec(stmt).all())


def due_reminders(session: Session, *, now: datetime, reminder_days: int) -> list[Due]:
    today = now.date()
    out: list[Due] = []
    calls = session.exec(select(CommentCall).where(col(CommentCall.status).in_(ACCEPTING))).all()
    for call in calls:
        if not in_window(call, today, reminder_days):
            continue
        row = session.get(Notification, call.notification_id)
        title = row.title if row else ""
        done = {
            r.recipient
            for r in session.exec(
                select(CommentReminder).where(
                    CommentReminder.call_id == call.id,
                    CommentReminder.deadline == call.internal_deadline,
                )
            ).all()
        }
        drafts = drafts_of(session, call)
        senders = {d.sender.lower() for d in drafts}
        authors = {d.subscriber_id for d in drafts if d.subscriber_id}
        for sub in _warned(session, call, now):
            if sub.email in done or sub.id in authors or sub.email.lower() in senders:
                continue
            out.append(Due(call, title, sub.email, sub))
        if call.analyst and "@" in call.analyst and call.analyst not in done:
            out.append(Due(call, title, call.analyst, None))
    return out


def reminder_text(due: Due, lang: str, drafts: int) -> tuple[str, str]:
    c = due.call
    if due.subscriber is None:
        return (
            f"Comments on {c.symbol} due {c.internal_deadline}: {drafts} draft(s)",
            f"The call for comments on {c.symbol} ({due.title}) is {c.status}; the internal "
            f"deadline is {c.internal_deadline} (WTO deadline {c.wto_deadline}). "
            f"{drafts} draft(s) so far.\n\ntbt-alert comments show {c.symbol}\n",
        )
    if lang == Language.ZH:
        return (
            f"提醒：{c.symbol} 评议意见请于 {c.internal_deadline} 前提交",
            f"WTO 通报 {c.symbol}（{due.title}）的评议意见内部截止日期为 {c.internal_deadline}"
            f"（WTO 截止日期 {c.wto_deadline}）。如贵企业有意见或数据，请直接回复本邮件，"
            "可附 Word、PDF 或文本文件。\n",
        )
    return (
        f"Reminder: comments on {c.symbol} due by {c.internal_deadline}",
        f"Comments on WTO notification {c.symbol} ({due.title}) are due to us by "
        f"{c.internal_deadline} (WTO deadline {c.wto_deadline}). If your company has concerns or "
        "data, reply to this message; Word, PDF or text attachments are welcome.\n",
    )


def _form_line(
    subscriber_id: int, notification_id: int, settings: ReminderSettings, now: datetime, *, zh: bool
) -> str:
    """The signed link to the web comment form, the other way to send a draft."""
    link = signed_link(
        settings.public_url,
        settings.secret_key,
        "comment",
        subscriber_id,
        now=now,
        ref_id=notification_id,
    )
    if zh:
        return f"\n也可以通过网页表单提交意见：{link}\n"
    return f"\nOr use the web form: {link}?lang=en\n"


def build_reminder(
    due: Due, settings: ReminderSettings, *, now: datetime, drafts: int
) -> EmailMessage:
    sub = due.subscriber
    subject, text = reminder_text(due, str(sub.language) if sub else "en", drafts)
    key = f"reminder:{due.call.symbol}:{due.call.internal_deadline}"
    reply_to = unsubscribe = None
    if sub is not None and sub.id is not None:
        unsubscribe = f"{settings.public_url.rstrip('/')}/unsubscribe/{sub.token}"
        if settings.reply_domain:
            token = make_token(
                settings.secret_key, Purpose.REPLY, sub.id, now=now, ref_id=due.call.notification_id
            )
            reply_to = f"reply+{token}@{settings.reply_domain}"
        zh = str(sub.language) == Language.ZH
        text += _form_line(sub.id, due.call.notification_id, settings, now, zh=zh)
    return build_notice(
        subject=subject,
        text=text,
        sender=settings.sender,
        recipient=due.recipient,
        message_id=make_message_id(key, due.recipient, settings.domain),
        date=now,
        reply_to=reply_to,
        unsubscribe_url=unsubscribe,
    )


def moved_notice(call: CommentCall, settings: ReminderSettings, now: datetime) -> EmailMessage:
    text = (
        f"An addendum moved the comment deadline of {call.symbol}: WTO deadline "
        f"{call.wto_deadline}, internal deadline now {call.internal_deadline} "
        f"(was {call.analyst_told}).\n\ntbt-alert comments show {call.symbol}\n"
    )
    return build_notice(
        subject=f"{call.symbol}: comment deadline moved to {call.internal_deadline}",
        text=text,
        sender=settings.sender,
        recipient=call.analyst or "",
        message_id=make_message_id(
            f"moved:{call.symbol}:{call.internal_deadline}", call.analyst or "", settings.domain
        ),
        date=now,
    )


def tell_analysts(
    session: Session, mailer: Mailer, settings: ReminderSettings, *, now: datetime
) -> Counter[str]:
    """Tell each assigned analyst (by email) of a moved deadline, once, after the server took it."""
    counts: Counter[str] = Counter()
    calls = session.exec(
        select(CommentCall)
        .where(col(CommentCall.status).in_(ACCEPTING))
        .where(col(CommentCall.analyst_told).is_not(None))
        .where(col(CommentCall.analyst_told) != col(CommentCall.internal_deadline))
    ).all()
    for call in calls:
        if not call.analyst or "@" not in call.analyst:
            continue
        try:
            outcome = mailer.send(moved_notice(call, settings, now))
        except DeliveryError as e:  # one bad address never stops the others
            log.warning("notice to %s not sent: %s", call.analyst, e)
            counts["failed_perm"] += 1
            continue
        counts[outcome.status.value] += 1
        if outcome.status == SendStatus.SENT:
            call.analyst_told = call.internal_deadline
            session.add(call)
            session.commit()
    return counts


def send_reminders(
    session: Session, mailer: Mailer, settings: ReminderSettings, *, now: datetime
) -> Counter[str]:
    """Send the reminders due today, and analysts the news of moved deadlines; record each one
    the mail server took, commit after each."""
    counts = tell_analysts(session, mailer, settings, now=now)
    for due in due_reminders(session, now=now, reminder_days=settings.reminder_days):
        drafts = len(drafts_of(session, due.call))
        try:
            outcome = mailer.send(build_reminder(due, settings, now=now, drafts=drafts))
        except DeliveryError as e:  # one bad address never stops the others
            log.warning("reminder to %s not sent: %s", due.recipient, e)
            counts["failed_perm"] += 1
            continue
        counts[outcome.status.value] += 1
        if outcome.status == SendStatus.SENT:
            session.add(
                CommentReminder(
                    call_id=due.call.id or 0,
                    recipient=due.recipient,
                    deadline=due.call.internal_deadline,
                    sent_at=now,
                )
            )
            session.commit()
    return counts
