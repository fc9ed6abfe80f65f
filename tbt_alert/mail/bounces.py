"""Bounces: a report that a message could not be delivered, matched to its delivery by VERP.

Every message leaves with the return path ``bounce+<token>@<bounce_domain>``; the token (signed,
purpose BOUNCE) names the subscriber and the delivery. The inbound listener hands what arrives
at such an address to :func:`handle_bounce` with the token. A delivery status notification
(RFC 3464: ``multipart/report; report-type=delivery-status``) whose recipient block says
``Action: failed`` with a ``5.x.x`` status is a hard bounce; a message that is not a DSN counts
only when its text holds an SMTP 5xx reply with a 5.x.x enhanced code. Each delivery counts at
most once (it becomes ``bounced``); after ``[mail] bounce_threshold`` hard bounces the address is
suspended (subscriber status ``suppressed``). Old bounces are forgotten once the address proved
to work again: the count holds only the bounced messages sent after the last message the
address accepted that did not bounce within ``[mail] bounce_quiet_days`` (a report can come
days after the relay accepted the message; 0: acceptance alone proves it, right only when
sending straight to the recipients' servers). Everything received is hostile: nothing here
raises for bad input, the answer says what was done.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import Engine

from tbt_alert.config import Config
from tbt_alert.status import DeliveryStatus, SubscriberStatus
from tbt_alert.store.tables import Delivery, Subscriber
from tbt_alert.tokens import Purpose, Token, TokenError, read_token

MAX_BYTES = 1_000_000  # a report is small; anything bigger is read only this far
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})")
QUIET = timedelta(days=7)  # default of [mail] bounce_quiet_days
_REPLY_5XX = re.compile(r"\b5\d\d[ -]5\.\d{1,3}\.\d{1,3}\b")
_D = Delivery.__table__  # type: ignore[attr-defined]
_S = Subscriber.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Verdict:
    hard: bool
    status: str  # the enhanced status code, e.g. 5.1.1, or "" when none was found
    detail: str


def read_report(raw: bytes) -> Verdict | None:
    """What a bounce says: hard or not, with its status and diagnostic; None when it says
    nothing about a failure (not a DSN, no 5xx reply in its text)."""
    try:  # the email package is lenient, but hostile bytes can still break a header's parser
        msg = BytesParser(policy=policy.default).parsebytes(raw[:MAX_BYTES])
        if not isinstance(msg, EmailMessage):
            return None
        report = _delivery_status(msg)
        return _from_dsn(report) if report is not None else _from_text(msg)
    except Exception:
        return None


def _delivery_status(msg: EmailMessage) -> Message | None:
    if msg.get_content_type() != "multipart/report":
        return None
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return part
    return None


def _from_dsn(part: Message) -> Verdict | None:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else []
    seen: Verdict | None = None
    for block in blocks[1:] if len(blocks) > 1 else blocks:  # per-recipient blocks
        if not isinstance(block, Message):
            continue
        action = str(block.get("Action", "")).strip().lower()
        code = _STATUS.match(str(block.get("Status", "")).strip())
        detail = " ".join(str(block.get("Diagnostic-Code", "")).split())[:300]
        if action == "failed" and code and code.group(1) == "5":
            return Verdict(True, code.group(0), detail)
        if code and action in ("failed", "delayed"):
            seen = Verdict(False, code.group(0), detail)
    return seen


def _from_text(msg: EmailMessage) -> Verdict | None:
    body = msg.get_body(("plain",))
    try:
        text = body.get_content() if isinstance(body, EmailMessage) else ""
    except (LookupError, ValueError, AttributeError):
        return None
    found = _REPLY_5XX.search(str(text)[:100_000])
    if found is None:
        return None
    return Verdict(True, found.group(0).split()[-1].lstrip("-"), found.group(0))


def handle_bounce(
    engine: Engine,
    token_str: str,
    raw_message_bytes: bytes,
    config: Config,
    *,
    now: datetime | None = None,
) -> str:
    """Count a bounce received at ``bounce+<token_str>@…``; one line saying what was done."""
    now = now or datetime.now(UTC)
    try:
        token = read_token(config.web.secret_key, token_str, Purpose.BOUNCE, now=now)
    except TokenError as e:
        return f"ignored: bounce address {e.reason} ({e})"
    return record_bounce(
        engine,
        token,
        raw_message_bytes,
        config.mail.bounce_threshold,
        quiet=timedelta(days=config.mail.bounce_quiet_days),
        now=now,
    )


def record_bounce(
    engine: Engine,
    token: Token,
    raw_message_bytes: bytes,
    threshold: int,
    *,
    quiet: timedelta = QUIET,
    now: datetime | None = None,
) -> str:
    """Count a report received for the delivery a genuine bounce token names; one line saying
    what was done (the inbound listener's answer). ``quiet``: how long an accepted message must
    go without a bounce to prove the address works (older bounces then stop counting)."""
    verdict = read_report(raw_message_bytes)
    if verdict is None:
        return "ignored: not a report of a failed delivery"
    if not verdict.hard:
        return f"not counted: temporary failure {verdict.status} for delivery {token.ref_id}"
    proven_by = (now or datetime.now(UTC)) - quiet
    return _count_hard(engine, token.subscriber_id, token.ref_id, verdict, threshold, proven_by)


def _count_hard(
    engine: Engine,
    subscriber_id: int,
    delivery_id: int,
    verdict: Verdict,
    threshold: int,
    proven_by: datetime,
) -> str:
    with engine.begin() as conn:
        marked = conn.execute(
            update(_D)
            .where(
                _D.c.id == delivery_id,
                _D.c.subscriber_id == subscriber_id,
                _D.c.status != DeliveryStatus.BOUNCED.value,
            )
            .values(
                status=DeliveryStatus.BOUNCED.value,
                last_error=f"bounced {verdict.status}: {verdict.detail}"[:500],
            )
        ).rowcount
        if marked != 1:
            return f"not counted: delivery {delivery_id} unknown or already counted"
        # the last message the address accepted that did not bounce within the quiet period
        worked = (
            select(func.max(_D.c.sent_at))
            .where(
                _D.c.subscriber_id == subscriber_id,
                _D.c.status == DeliveryStatus.SENT.value,
                _D.c.sent_at <= proven_by,
            )
            .scalar_subquery()
        )
        since = func.coalesce(_D.c.sent_at, _D.c.created_at)
        count = conn.execute(
            select(func.count()).where(
                _D.c.subscriber_id == subscriber_id,
                _D.c.status == DeliveryStatus.BOUNCED.value,
                or_(worked.is_(None), since > worked),
            )
        ).scalar_one()
        conn.execute(update(_S).where(_S.c.id == subscriber_id).values(hard_bounces=count))
        if count < threshold:
            return (
                f"hard bounce {verdict.status} for delivery {delivery_id}: {count} of {threshold}"
            )
        conn.execute(
            update(_S)
            .where(_S.c.id == subscriber_id, _S.c.status == SubscriberStatus.ACTIVE.value)
            .values(status=SubscriberStatus.SUPPRESSED.value)
        )
    return (
        f"hard bounce {verdict.status} for delivery {delivery_id}: "
        f"address suspended after {count} hard bounces"
    )
