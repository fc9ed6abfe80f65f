"""SQLModel tables. Keys are stable: a notification by its normalised WTO symbol, a source record
by (source, source id), a bulletin by its key, a delivery by (bulletin, subscriber)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String, UniqueConstraint
from sqlmodel import Field, SQLModel

from tbt_alert.status import (
    BulletinKind,
    Cadence,
    DeliveryStatus,
    Language,
    NotificationKind,
    RunStatus,
    SubscriberStatus,
    SubscriptionStatus,
)
from tbt_alert.store.types import UTCDateTime


def _utc(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _enum(default: Any, *, index: bool = False) -> Any:
    """Status columns are plain strings: adding a value never needs a database enum change."""
    return Field(default=default, sa_column=Column(String(20), nullable=False, index=index))


def _empty() -> list[Any]:
    # a plain function: pydantic inspects the signature of ``list`` on every row otherwise
    return []


def _json(**kw: Any) -> Any:
    return Field(default_factory=_empty, sa_column=Column(JSON, nullable=False, **kw))


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    id: int | None = Field(default=None, primary_key=True)
    symbol: str = Field(unique=True, max_length=120)
    measure_key: str = Field(
        index=True, max_length=120
    )  # base symbol of the measure (joint: first)
    parent_symbol: str | None = Field(default=None, index=True, max_length=120)
    kind: NotificationKind = _enum(NotificationKind.REGULAR)
    member_code: str = Field(default="", max_length=8, index=True)
    member_name: str = Field(default="", max_length=200)
    markets: list[str] = _json()  # member codes of every symbol of a joint notification
    joint_symbols: list[str] = _json()
    distribution_date: date | None = Field(default=None, index=True)
    title: str
    description: str | None = None
    products_text: str | None = None
    hs_codes: list[str] = _json()
    ics_codes: list[str] = _json()
    objective: str | None = None
    comment_deadline: date | None = Field(default=None, index=True)
    comment_deadline_text: str | None = None
    language: str | None = Field(default=None, max_length=8)
    document_url: str | None = None
    document_links: list[str] = _json()
    content_hash: str = Field(max_length=64)
    first_seen_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    classification: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    alert_sectors: list[str] = _json()
    horizontal: bool = False
    # "<content_hash>:<classifier version>" of the last classification: compared in SQL
    classified_hash: str | None = Field(default=None, max_length=160)
    # what an addendum, revision or corrigendum says happened: [{"kind", "date", "text"}]
    events: list[dict[str, Any]] = _json()
    # same title, same day, other member: a parallel notification of one measure (EAC, GCC)
    parallel_key: str | None = Field(default=None, index=True, max_length=64)


class SourceRecord(SQLModel, table=True):
    __tablename__ = "source_record"
    __table_args__ = (UniqueConstraint("source", "source_key"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    source_key: str = Field(max_length=200)  # the source's own id, else the symbol
    notification_id: int = Field(foreign_key="notification.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=64)
    first_seen_at: datetime = _utc(nullable=False)
    fetched_at: datetime = _utc(nullable=False)


class CrawlRun(SQLModel, table=True):
    __tablename__ = "crawl_run"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40, index=True)
    status: RunStatus = _enum(RunStatus.RUNNING)
    since: date
    until: date
    started_at: datetime = _utc(nullable=False)
    finished_at: datetime | None = _utc(nullable=True)
    items: int = 0
    invalid: int = 0
    new: int = 0
    updated: int = 0
    error: str | None = None


class Subscriber(SQLModel, table=True):
    __tablename__ = "subscriber"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, max_length=320)
    language: Language = _enum(Language.ZH)
    status: SubscriberStatus = _enum(SubscriberStatus.PENDING)
    token: str = Field(max_length=64, unique=True)  # random, for links in messages
    created_at: datetime = _utc(nullable=False)
    confirmed_at: datetime | None = _utc(nullable=True)


class Subscription(SQLModel, table=True):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("subscriber_id", "sector"),)
    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    sector: str = Field(max_length=60)
    markets: list[str] = _json()  # member codes; empty means every market
    cadence: Cadence = _enum(Cadence.IMMEDIATE)
    status: SubscriptionStatus = _enum(SubscriptionStatus.ACTIVE)
    created_at: datetime = _utc(nullable=False)


class Bulletin(SQLModel, table=True):
    __tablename__ = "bulletin"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, max_length=200)  # e.g. warning:G/TBT/N/EU/1097
    kind: BulletinKind = Field(sa_column=Column(String(20), nullable=False))
    notification_id: int | None = Field(default=None, foreign_key="notification.id", index=True)
    snapshot: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _utc(nullable=False)


class Delivery(SQLModel, table=True):
    __tablename__ = "delivery"
    __table_args__ = (UniqueConstraint("bulletin_id", "subscriber_id"),)
    id: int | None = Field(default=None, primary_key=True)
    bulletin_id: int = Field(foreign_key="bulletin.id", index=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    sectors: list[str] = _json()  # the subscriber's sectors this bulletin concerns
    items: list[int] = _json()  # for a digest: the notifications it lists for this subscriber
    status: DeliveryStatus = _enum(DeliveryStatus.PLANNED, index=True)
    message_id: str = Field(max_length=200)
    attempts: int = 0
    next_attempt_at: datetime | None = _utc(nullable=True)
    last_error: str | None = None
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc(nullable=True)


class EnrichmentGap(SQLModel, table=True):
    """A detail endpoint or document that failed for a notification whose listing was read: the
    warning went out without it; later cycles retry it until it is resolved."""

    __tablename__ = "enrichment_gap"
    __table_args__ = (UniqueConstraint("source", "symbol", "what"),)
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40)
    symbol: str = Field(max_length=120)  # the notification, or "*" for a whole document run
    what: str = Field(max_length=40)  # related, downloads, documents
    error: str
    distribution_date: date | None = None
    attempts: int = 1
    first_seen_at: datetime = _utc(nullable=False)
    last_tried_at: datetime = _utc(nullable=False)
    resolved_at: datetime | None = _utc(nullable=True, index=True)
