"""Subscribers (people) and their subscriptions (sector x markets x cadence)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlmodel import Session, col, delete, func, select

from tbt_alert.errors import TbtAlertError
from tbt_alert.status import Cadence, Language, SubscriberStatus, SubscriptionStatus
from tbt_alert.store.tables import Delivery, Signup, Subscriber, Subscription
from tbt_alert.text.members import normalise_member

EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


E = TypeVar("E", bound=StrEnum)


class SubscriberError(TbtAlertError):
    """A subscriber request is invalid; the message says which part."""


@dataclass(frozen=True)
class SubscriberView:
    email: str
    status: str
    language: str
    sectors: tuple[str, ...]
    markets: tuple[str, ...]
    cadence: str


def normalise_email(email: str) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL.match(email):
        raise SubscriberError(f"not a valid email address: {email!r}")
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}"


def market_codes(markets: Iterable[str]) -> list[str]:
    """Accept member codes (EU, USA) or names (European Union, 美国); refuse unknown ones."""
    codes: list[str] = []
    for text in markets:
        code = normalise_member(text.strip()).code
        if not code and re.fullmatch(r"[A-Za-z]{2,4}", text.strip()):
            code = text.strip().upper()
        if not code:
            raise SubscriberError(
                f"unknown market {text!r}: give a WTO member code such as EU or USA"
            )
        codes.append(code)
    return sorted(set(codes))


def find_subscriber(session: Session, email: str) -> Subscriber | None:
    """The subscriber of ``email`` in any letter case (``Buyer@Example.COM`` is
    ``buyer@example.com``). Addresses stored before that rule and differing only in case are
    never merged silently: SubscriberError names them (``tbt-alert subscribers duplicates``)."""
    address = normalise_email(email)
    rows = session.exec(
        select(Subscriber)
        .where(func.lower(Subscriber.email) == address.lower())
        .order_by(col(Subscriber.id))
    ).all()
    if len(rows) > 1:
        exact = [r for r in rows if r.email == address]
        if exact:
            return exact[0]
        raise SubscriberError(
            f"{len(rows)} subscribers differ from {address!r} only in letter case "
            f"({', '.join(r.email for r in rows)}): see 'tbt-alert subscribers duplicates'"
        )
    return rows[0] if rows else None


def case_duplicates(session: Session) -> list[list[str]]:
    """Groups of stored addresses that differ only in letter case (to be resolved by hand)."""
    groups: dict[str, list[str]] = {}
    for email in session.exec(select(Subscriber.email).order_by(col(Subscriber.id))).all():
        groups.setdefault(email.lower(), []).append(email)
    return [group for group in groups.values() if len(group) > 1]


def add_subscriber(
    session: Session,
    email: str,
    *,
    sectors: Sequence[str],
    known_sectors: Iterable[str],
    markets: Sequence[str] = (),
    language: str = "zh",
    cadence: str = "immediate",
    confirmed: bool = False,
    now: datetime,
) -> tuple[Subscriber, bool]:
    """Create a subscriber, or replace an existing one's preferences. Returns (row, created)."""
    address = normalise_email(email)
    known = set(known_sectors)
    unknown = [s for s in sectors if s not in known]
    if not sectors or unknown:
        raise SubscriberError(
            f"unknown sector(s) {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(sorted(known))}"
        )
    lang, rhythm = _choice(Language, language, "language"), _choice(Cadence, cadence, "cadence")
    codes = market_codes(markets)
    row = find_subscriber(session, address)
    created = row is None
    if row is None:
        row = Subscriber(email=address, token=secrets.token_urlsafe(24), created_at=now)
    row.language = lang
    if confirmed and row.status != SubscriberStatus.ACTIVE:
        row.status, row.confirmed_at = SubscriberStatus.ACTIVE, now
    session.add(row)
    session.flush()
    session.exec(delete(Subscription).where(col(Subscription.subscriber_id) == row.id))
    for sector in dict.fromkeys(sectors):
        session.add(
            Subscription(
                subscriber_id=row.id or 0,
                sector=sector,
                markets=codes,
                cadence=rhythm,
                status=SubscriptionStatus.ACTIVE,
                created_at=now,
            )
        )
    session.flush()
    return row, created


def _choice(enum: type[E], value: str, what: str) -> E:
    try:
        return enum(value)
    except ValueError as e:
        allowed = ", ".join(m.value for m in enum)
        raise SubscriberError(f"{what} must be one of {allowed}, got {value!r}") from e


def list_subscribers(session: Session) -> list[SubscriberView]:
    out = []
    for row in session.exec(select(Subscriber).order_by(col(Subscriber.email))).all():
        subs = session.exec(select(Subscription).where(Subscription.subscriber_id == row.id)).all()
        out.append(
            SubscriberView(
                email=row.email,
                status=str(row.status),
                language=str(row.language),
                sectors=tuple(sorted(s.sector for s in subs)),
                markets=tuple(sorted({m for s in subs for m in s.markets})),
                cadence=",".join(sorted({str(s.cadence) for s in subs})),
            )
        )
    return out


def remove_subscriber(session: Session, email: str) -> bool:
    """Delete the subscriber, their subscriptions, signups and deliveries. False if none."""
    row = find_subscriber(session, email)
    if row is None:
        return False
    session.exec(delete(Signup).where(col(Signup.subscriber_id) == row.id))
    session.exec(delete(Subscription).where(col(Subscription.subscriber_id) == row.id))
    session.exec(delete(Delivery).where(col(Delivery.subscriber_id) == row.id))
    session.delete(row)
    session.flush()
    return True


def set_status(session: Session, email: str, status: SubscriberStatus) -> None:
    row = find_subscriber(session, email)
    if row is None:
        raise SubscriberError(f"no subscriber {email!r}")
    row.status = status
    session.add(row)
