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
    # analysts added a sector after the warning went out: the warning again, for those it now
    # concerns, saying what was added
    CORRECTION = "correction"


class DeliveryStatus(StrEnum):
    PLANNED = "planned"
    SENDING = "sending"  # claimed by one sender until its lease ends (then due again)
    SENT = "sent"
    FAILED_TEMP = "failed_temp"  # 4xx or connection trouble: retried with backoff
    FAILED_PERM = "failed_perm"  # 5xx: never retried
    UNKNOWN = "unknown"  # connection lost after DATA: retried with the same Message-ID
    EXPIRED = "expired"  # too late to be useful: never sent late
    SKIPPED = "skipped"  # the subscriber left or was suppressed before sending
    BOUNCED = "bounced"  # accepted, then reported undeliverable for good (a DSN)


class RunStatus(StrEnum):
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    ABANDONED = "abandoned"  # its process died or was stopped before it finished


class DecisionKind(StrEnum):
    """What an analyst decided about a notification (each stored with who and when, undoable)."""

    LABEL_ADD = "label_add"  # a sector the classifier missed
    LABEL_REMOVE = "label_remove"  # a sector the classifier got wrong
    ACCEPT = "accept"  # the warning may go out (review mode); possible-tier sectors confirmed
    DISMISS = "dismiss"  # noise: never sent
    ASSIGN = "assign"  # who looks at it
    RISK = "risk"  # the analyst's risk level, overriding the assessed one


class ReviewMode(StrEnum):
    AUTO = "auto"  # alert-tier warnings go out without review (possible-tier never)
    POSSIBLE = "possible"  # as auto, and possible-tier ones go out once an analyst accepts them
    ALL = "all"  # nothing goes out before an analyst accepts it


class CallStatus(StrEnum):
    """A call for comments on one notification, from the warning to the member's answer."""

    OPEN = "open"  # a warning went out; no draft yet
    DRAFTING = "drafting"  # drafts are coming in or being merged
    SUBMITTED = "submitted"  # the consolidated comment went to the member's enquiry point
    ANSWERED = "answered"  # the member replied
    CLOSED = "closed"  # finished without (further) action
    WITHDRAWN = "withdrawn"  # an addendum withdrew the measure


class DraftChannel(StrEnum):
    EMAIL = "email"  # a reply to a warning, through `tbt-alert inbound`
    WEB = "web"  # the web comment form
    FILE = "file"  # `tbt-alert comments import`
