"""Self-service subscription: a request, its confirmation, preferences, leaving, and the purge.

The web app only adapts over these functions. A request from the subscribe form never changes an
existing subscriber: it records a :class:`Signup` holding the preferences asked for, and those
apply only when the confirmation link is used. At most one confirmation mail per address per
``MAIL_INTERVAL``; the caller sends it and then calls :func:`mark_mailed` (state after the side
effect). Nothing here says whether an address was already known: the answer is the same.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, select

from tbt_alert.alerts.subscribers import SubscriberError, _choice, market_codes, normalise_email
from tbt_alert.status import Cadence, Language, SubscriberStatus, SubscriptionStatus
from tbt_alert.store.tables import Delivery, Signup, Subscriber, Subscription

MAIL_INTERVAL = timedelta(hours=1)
COMPANY_MAX = 200


class SignupGone(SubscriberError):
    """The confirmation was already used, replaced by a newer one, or purged."""


@dataclass(frozen=True)
class Preferences:
    sectors: tuple[str, ...]
    markets: tuple[str, ...] = ()  # member codes; empty = every market (but the home market)
    language: str = "zh"
    cadence: str = "immediate"
    company: str = ""
    paused: bool = False

    def to_json(self) -> dict:
        return asdict(self) | {"sectors": list(self.sectors), "markets": list(self.markets)}

    @classmethod
    def from_json(cls, data: dict) -> Preferences:
        return cls(
            sectors=tuple(data.get("sectors", ())),
            markets=tuple(data.get("markets", ())),
            language=str(data.get("language", "zh")),
            cadence=str(data.get("cadence", "immediate")),
            company=str(data.get("company", "")),
            paused=bool(data.get("paused", False)),
        )


def make_preferences(
    *,
    sectors: Sequence[str],
    known_sectors: Iterable[str],
    markets: Sequence[str] = (),
    language: str = "zh",
    cadence: str = "immediate",
    company: str = "",
    paused: bool = False,
) -> Preferences:
    """Checked preferences from form values; ``SubscriberError`` names the bad field."""
    known = set(known_sectors)
    chosen = list(dict.fromkeys(s.strip() for s in sectors if s.strip()))
    if not chosen:
        raise SubscriberError("choose at least one sector")
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise SubscriberError(f"unknown sector {unknown[0][:60]!r}")
    lang = _choice(Language, language, "language")
    rhythm = _choice(Cadence, cadence, "cadence")
    name = " ".join(company.split())
    if len(name) > COMPANY_MAX:
        raise SubscriberError(f"company name longer than {COMPANY_MAX} characters")
    codes = market_codes([m for m in markets if m.strip()])
    return Preferences(tuple(chosen), tuple(codes), lang.value, rhythm.value, name, paused)


def request_signup(
    session: Session, email: str, prefs: Preferences, *, now: datetime
) -> Signup | None:
    """Record a request for ``email``; the Signup to mail, or None when a confirmation went to
    this address less than ``MAIL_INTERVAL`` ago (then nothing is recorded)."""
    address = normalise_email(email)
    row = session.exec(select(Subscriber).where(Subscriber.email == address)).first()
    if row is None:
        row = Subscriber(
            email=address,
            token=secrets.token_urlsafe(24),
            created_at=now,
            status=SubscriberStatus.PENDING,
            language=Language(prefs.language),
        )
        session.add(row)
        session.flush()
    recent = session.exec(
        select(Signup.id)
        .where(Signup.subscriber_id == row.id)
        .where(col(Signup.mailed_at) > now - MAIL_INTERVAL)
    ).first()
    if recent is not None:
        return None
    signup = Signup(subscriber_id=row.id or 0, preferences=prefs.to_json(), created_at=now)
    session.add(signup)
    session.flush()
    return signup


def mark_mailed(session: Session, signup_id: int, now: datetime) -> None:
    row = session.get(Signup, signup_id)
    if row is not None:
        row.mailed_at = now
        session.add(row)


def confirm_signup(
    session: Session, subscriber_id: int, signup_id: int, *, now: datetime
) -> Subscriber:
    """Apply the preferences of a signup and make its subscriber active; the signup (and any
    older one of the same subscriber) goes. ``SignupGone`` when it is not there any more."""
    signup = session.get(Signup, signup_id)
    subscriber = session.get(Subscriber, subscriber_id)
    if signup is None or subscriber is None or signup.subscriber_id != subscriber_id:
        raise SignupGone("this confirmation was already used, replaced by a newer one, or expired")
    apply_preferences(session, subscriber, Preferences.from_json(signup.preferences), now=now)
    if subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status, subscriber.confirmed_at = SubscriberStatus.ACTIVE, now
    session.add(subscriber)
    session.exec(
        delete(Signup)
        .where(col(Signup.subscriber_id) == subscriber_id)
        .where(col(Signup.id) <= signup_id)
    )
    session.flush()
    return subscriber


def apply_preferences(
    session: Session, subscriber: Subscriber, prefs: Preferences, *, now: datetime
) -> None:
    """Replace the subscriber's subscriptions, language and company name with ``prefs``."""
    subscriber.language = Language(prefs.language)
    subscriber.company = prefs.company or None
    session.add(subscriber)
    session.exec(delete(Subscription).where(col(Subscription.subscriber_id) == subscriber.id))
    state = SubscriptionStatus.PAUSED if prefs.paused else SubscriptionStatus.ACTIVE
    for sector in prefs.sectors:
        session.add(
            Subscription(
                subscriber_id=subscriber.id or 0,
                sector=sector,
                markets=list(prefs.markets),
                cadence=Cadence(prefs.cadence),
                status=state,
                created_at=now,
            )
        )
    session.flush()


def current_preferences(session: Session, subscriber: Subscriber) -> Preferences:
    subs = session.exec(
        select(Subscription)
        .where(Subscription.subscriber_id == subscriber.id)
        .order_by(col(Subscription.id))
    ).all()
    return Preferences(
        sectors=tuple(s.sector for s in subs),
        markets=tuple(sorted({m for s in subs for m in s.markets})),
        language=str(subscriber.language),
        cadence=str(subs[0].cadence) if subs else Cadence.IMMEDIATE.value,
        company=subscriber.company or "",
        paused=bool(subs) and all(s.status == SubscriptionStatus.PAUSED for s in subs),
    )


def unsubscribe(session: Session, subscriber_id: int) -> Subscriber | None:
    """Stop every message to the subscriber at once; None when there is no such subscriber.
    Planned deliveries are skipped by the sender (it sends to active subscribers only)."""
    row = session.get(Subscriber, subscriber_id)
    if row is None:
        return None
    if row.status != SubscriberStatus.SUPPRESSED:
        row.status = SubscriberStatus.UNSUBSCRIBED
    session.add(row)
    session.exec(delete(Signup).where(col(Signup.subscriber_id) == subscriber_id))
    session.flush()
    return row


def purge_unconfirmed(session: Session, *, now: datetime, days: int) -> int:
    """Delete signups older than ``days`` and the pending subscribers left with none; returns
    how many subscribers went."""
    cutoff = now - timedelta(days=days)
    session.exec(delete(Signup).where(col(Signup.created_at) < cutoff))
    waiting = select(Signup.subscriber_id)
    stale = list(
        session.exec(
            select(Subscriber.id)
            .where(Subscriber.status == SubscriberStatus.PENDING)
            .where(col(Subscriber.created_at) < cutoff)
            .where(col(Subscriber.id).not_in(waiting))
        ).all()
    )
    if stale:
        session.exec(delete(Subscription).where(col(Subscription.subscriber_id).in_(stale)))
        session.exec(delete(Delivery).where(col(Delivery.subscriber_id).in_(stale)))
        session.exec(delete(Subscriber).where(col(Subscriber.id).in_(stale)))
    session.flush()
    return len(stale)
