"""SQLModel tables. Keys are stable: a notification by its normalised WTO symbol, a source record
by (source, source id), a bulletin by its key, a delivery by (bulletin, subscriber)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlmodel import Field, SQLModel

from tbt_alert.status import (
    BulletinKind,
    Cadence,
    CallStatus,
    DecisionKind,
    DeliveryStatus,
    DraftChannel,
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
    proposed_entry_into_force: date | None = None  # as ingest read it from the record
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
    company: str | None = Field(default=None, max_length=200)
    hard_bounces: int = 0  # permanent failures reported by DSNs; suspended after a threshold


class Signup(SQLModel, table=True):
    """A request from the subscribe form, waiting for its confirmation: the preferences it asks
    for apply only when the link in the confirmation mail is used (then the row goes)."""

    __tablename__ = "signup"
    id: int | None = Field(default=None, primary_key=True)
    subscriber_id: int = Field(foreign_key="subscriber.id", index=True)
    preferences: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    created_at: datetime = _utc(nullable=False)
    mailed_at: datetime | None = _utc(nullable=True)  # set once the mail server took the mail


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

    # a sender's claim: status ``sending`` until ``lease_until``; an expired lease is reclaimed
    claimed_by: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = _utc(nullable=True)


class Decision(SQLModel, table=True):
    """An analyst's decision about a notification; undoing one stamps ``undone_at``, nothing is
    deleted, so the history of who decided what stays readable."""

    __tablename__ = "decision"
    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", index=True)
    symbol: str = Field(max_length=120)  # the notification's symbol when decided, for reading
    kind: DecisionKind = _enum(DecisionKind.ACCEPT)
    value: str = Field(default="", max_length=120)  # sector, assignee or risk level
    note: str | None = None
    who: str = Field(max_length=120)
    at: datetime = _utc(nullable=False)
    undone_at: datetime | None = _utc(nullable=True)


class SearchDoc(SQLModel, table=True):
    """The text the full-text index reads, one row per notification (Chinese segmented into
    space-separated words), stamped with what it was built from so stale rows are found in SQL.
    SQLite indexes it with an FTS5 table kept in step by triggers, PostgreSQL with a GIN index on
    its tsvector: both are made by migration 0005, outside these models (see UNMODELLED)."""

    __tablename__ = "search_doc"
    notification_id: int = Field(
        sa_column=Column(
            Integer,
            ForeignKey("notification.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        )
    )
    stamp: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))


# Database objects made by migrations that the models do not describe: the full-text index.
UNMODELLED = ("search_fts", "ix_search_doc_tsv")


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Alembic's filter: leave the full-text index (and SQLite's shadow tables) alone."""
    return not (reflected and compare_to is None and (name or "").startswith(UNMODELLED))


class CommentCall(SQLModel, table=True):
    """A call for comments on one notification about which a warning went out. The WTO deadline
    follows the measure (an addendum may extend or reopen it); the internal deadline is the WTO
    deadline less the configured lead days."""

    __tablename__ = "comment_call"
    id: int | None = Field(default=None, primary_key=True)
    notification_id: int = Field(foreign_key="notification.id", unique=True)
    symbol: str = Field(max_length=120, index=True)
    wto_deadline: date = Field(index=True)
    internal_deadline: date = Field(index=True)
    status: CallStatus = _enum(CallStatus.OPEN, index=True)
    analyst: str | None = Field(default=None, max_length=320)
    # the internal deadline the analyst was last told of: a move is told once, when sent
    analyst_told: date | None = None
    consolidated: str | None = Field(default=None, sa_column=Column(Text))  # the merged comment
    submitted_on: date | None = None
    reply_text: str | None = Field(default=None, sa_column=Column(Text))  # the member's answer
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)


class CommentDraft(SQLModel, table=True):
    """What one exporter (or analyst) wrote about one call, through one channel. Stored as plain
    text: never rendered as HTML."""

    __tablename__ = "comment_draft"
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="comment_call.id", index=True)
    subscriber_id: int | None = Field(default=None, foreign_key="subscriber.id", index=True)
    sender: str = Field(max_length=320)
    channel: DraftChannel = _enum(DraftChannel.FILE)
    received_at: datetime = _utc(nullable=False)
    text: str = Field(sa_column=Column(Text, nullable=False))
    # an inbound message is stored once, whatever the number of deliveries
    message_id: str | None = Field(default=None, unique=True, max_length=250)
    # attachments refused, with the reason: [{"name", "reason"}]
    refused: list[dict[str, Any]] = _json()


class CommentAttachment(SQLModel, table=True):
    __tablename__ = "comment_attachment"
    id: int | None = Field(default=None, primary_key=True)
    draft_id: int = Field(foreign_key="comment_draft.id", index=True)
    name: str = Field(max_length=200)
    content_type: str = Field(max_length=100)  # as found from the content, not as claimed
    size: int
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class CommentReminder(SQLModel, table=True):
    """One reminder sent to one address about one call and one internal deadline: each once."""

    __tablename__ = "comment_reminder"
    __table_args__ = (UniqueConstraint("call_id", "recipient", "deadline"),)
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="comment_call.id", index=True)
    recipient: str = Field(max_length=320)
    deadline: date
    sent_at: datetime = _utc(nullable=False)


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


class JobRun(SQLModel, table=True):
    """One finished run of a scheduled job (the daemon's cycle and digests, ``run --once``,
    ``digest``): written after the job ended, so a row never claims work that did not finish."""

    __tablename__ = "job_run"
    id: int | None = Field(default=None, primary_key=True)
    job: str = Field(max_length=40, index=True)  # cycle, daily-digest, weekly-digest
    started_at: datetime = _utc(nullable=False)
    finished_at: datetime = _utc(nullable=False)
    outcome: str = Field(max_length=10)  # ok | failed
    error: str | None = None  # one line, secrets redacted


class SourceIncident(SQLModel, table=True):
    """A source failing K runs in a row: the operator was told (``alerted_at``) and, once it
    recovered, told again (``recovered_at``). One open incident per source at most."""

    __tablename__ = "source_incident"
    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=40, index=True)
    opened_at: datetime = _utc(nullable=False)
    failures: int = 0
    alerted_at: datetime | None = _utc(nullable=True)
    recovered_at: datetime | None = _utc(nullable=True)
    recovery_sent_at: datetime | None = _utc(nullable=True)
