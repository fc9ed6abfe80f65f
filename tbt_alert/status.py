"""Every status vocabulary in one place."""

from __future__ import annotations

from enum import StrEnum


class NotificationKind(StrEnum):
    REGULAR = "regular"
    ADDENDUM = "addendum"
    REVISION = "revision"
    CORRIGENDUM = "corrigendum"
    SUPPLEMENT = "supplement"


class SubscriberStatus(StrEnum):
    PENDING = "pending"  # signed up, not yet confirmed: receives nothing but the confirmation
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    SUPPRESSED = "suppressed"  # hard bounce or complaint


class SubscriptionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"


class Cadence(StrEnum):
    IMMEDIATE = "immediate"
    DAILY = "daily"
    WEEKLY = "weekly"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


class BulletinKind(StrEnum):
    WARNING = "warning"  # a new notification concerns the subscriber's sectors
    UPDATE = "update"  # an addendum, revision or corrigendum changed a measure already notified
    DIGEST = "digest"  # the relevant notifications of a day or a week, for digest subscribers


class DeliveryStatus(StrEnum):
    PLANNED = "planned"
    SENT = "sent"
    FAILED_TEMP = "failed_temp"  # 4xx or connection trouble: retried with backoff
    FAILED_PERM = "failed_perm"  # 5xx: never retried
    UNKNOWN = "unknown"  # connection lost after DATA: retried with the same Message-ID
    EXPIRED = "expired"  # too late to be useful: never sent late
    SKIPPED = "skipped"  # the subscriber left or was suppressed before sending


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its process died or was stopped before it finished
