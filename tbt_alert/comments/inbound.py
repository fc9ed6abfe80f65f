"""``tbt-alert inbound``: the SMTP (or LMTP) listener to which the operator's mail server hands
the mail of the reply domain. Every address there is ``<word>+<signed token>@<reply domain>``;
what happens to a message depends on the token's purpose, through one dispatch table::

    HANDLERS: dict[Purpose, Handler]

A reply to a warning (Purpose.REPLY) becomes a comment draft; a mailto unsubscribe
(Purpose.UNSUBSCRIBE) unsubscribes; a delivery report sent to a message's VERP return path
``bounce+<token>@<bounce domain>`` (Purpose.BOUNCE) counts a hard bounce
(:func:`tbt_alert.mail.bounces.record_bounce`). Other purposes plug in with :func:`register`.

A forged, expired or unknown token, or a reply to a call that no longer takes drafts, is
refused at RCPT with a 550 reply saying why (the sender's server tells the sender); nothing is
stored. Auto-replies and bulk mail are accepted and dropped, so no loop starts.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.engine import Engine

from tbt_alert.comments.calls import ACCEPTING, CommentsError, call_of
from tbt_alert.comments.drafts import add_draft
from tbt_alert.comments.mailtext import ParsedMail, parse_mail
from tbt_alert.config import CommentsConfig
from tbt_alert.status import DraftChannel, SubscriberStatus
from tbt_alert.store.engine import session_scope
from tbt_alert.store.tables import CommentCall, Notification, Subscriber
from tbt_alert.tokens import Purpose, Token, TokenError, read_token

log = logging.getLogger(__name__)
_LOCAL = re.compile(r"^[A-Za-z0-9._-]{1,20}\+([A-Za-z0-9]{20,60})$")


@dataclass(frozen=True)
class Inbound:
    """What the handlers need: the database, the key, the limits and a clock."""

    engine: Engine
    secret_key: str
    reply_domain: str
    comments: CommentsConfig
    clock: Callable[[], datetime]
    bounce_domain: str = ""  # VERP return paths; may be the reply domain
    bounce_threshold: int = 3  # hard bounces that suspend an address
    bounce_quiet: timedelta = timedelta(days=7)  # a message unbounced this long: address works

    def domains(self) -> set[str]:
        return {d.lower() for d in (self.reply_domain, self.bounce_domain) if d}


@dataclass(frozen=True)
class Verdict:
    code: int
    text: str

    @property
    def ok(self) -> bool:
        return self.code < 400

    def reply(self) -> str:
        return f"{self.code} {self.text}"


# check at RCPT (None: accept), then handle the message after DATA
Check = Callable[[Inbound, Token], "Verdict | None"]
Handle = Callable[[Inbound, Token, ParsedMail], Verdict]


@dataclass(frozen=True)
class Handler:
    check: Check
    handle: Handle


def _reply_call(inbound: Inbound, token: Token) -> tuple[CommentCall | None, str]:
    with session_scope(inbound.engine) as session:
        subscriber = session.get(Subscriber, token.subscriber_id)
        row = session.get(Notification, token.ref_id)
        if subscriber is None or row is None:
            return None, "5.1.1 this reply address no longer belongs to anyone"
        call = call_of(session, row)
        if call is None:
            return None, f"5.7.1 no call for comments is open on {row.symbol}"
        if call.status not in ACCEPTING:
            return None, f"5.7.1 the call for comments on {call.symbol} is {call.status}"
        return call, ""


def check_reply(inbound: Inbound, token: Token) -> Verdict | None:
    call, why = _reply_call(inbound, token)
    return None if call is not None else Verdict(550, why)


def handle_reply(inbound: Inbound, token: Token, mail: ParsedMail) -> Verdict:
    if mail.automatic:
        return Verdict(250, "2.0.0 automatic message ignored")
    call, why = _reply_call(inbound, token)
    if call is None:
        return Verdict(550, why)
    try:
        with session_scope(inbound.engine) as session:
            subscriber = session.get(Subscriber, token.subscriber_id)
            live = session.get(CommentCall, call.id)
            if subscriber is None or live is None:
                return Verdict(550, "5.1.1 this reply address no longer belongs to anyone")
            draft, created = add_draft(
                session,
                live,
                sender=subscriber.email,
                subscriber_id=subscriber.id,
                channel=DraftChannel.EMAIL,
                text=mail.text,
                received_at=inbound.clock(),
                message_id=mail.message_id,
                attachments=mail.attachments,
                attachment_max_bytes=inbound.comments.attachment_max_bytes,
                max_chars=inbound.comments.draft_max_chars,
            )
            refused = "; ".join(f"{r['name']}: {r['reason']}" for r in draft.refused)
    except CommentsError as e:
        return Verdict(550, f"5.6.0 {e}")
    if not created:
        return Verdict(250, "2.0.0 already received")
    return Verdict(250, "2.0.0 comment stored" + (f"; refused {refused}" if refused else ""))


def check_unsubscribe(inbound: Inbound, token: Token) -> Verdict | None:
    with session_scope(inbound.engine) as session:
        if session.get(Subscriber, token.subscriber_id) is None:
            return Verdict(550, "5.1.1 this address is not subscribed")
    return None


def handle_unsubscribe(inbound: Inbound, token: Token, mail: ParsedMail) -> Verdict:
    """A mailto: unsubscribe (RFC 2369): the subscriber receives nothing more."""
    from tbt_alert.alerts.subscribers import set_status

    with session_scope(inbound.engine) as session:
        row = session.get(Subscriber, token.subscriber_id)
        if row is None:
            return Verdict(550, "5.1.1 this address is not subscribed")
        if row.status != SubscriberStatus.SUPPRESSED:
            set_status(session, row.email, SubscriberStatus.UNSUBSCRIBED)
    return Verdict(250, "2.0.0 unsubscribed")


def handle_bounce(inbound: Inbound, token: Token, mail: ParsedMail) -> Verdict:
    """A delivery status notification (RFC 3464) or a 5xx report for one delivery."""
    from tbt_alert.mail.bounces import record_bounce

    said = record_bounce(
        inbound.engine,
        token,
        mail.raw,
        inbound.bounce_threshold,
        quiet=inbound.bounce_quiet,
        now=inbound.clock(),
    )
    return Verdict(250, "2.0.0 " + said)


HANDLERS: dict[Purpose, Handler] = {
    Purpose.REPLY: Handler(check_reply, handle_reply),
    Purpose.UNSUBSCRIBE: Handler(check_unsubscribe, handle_unsubscribe),
    Purpose.BOUNCE: Handler(lambda inbound, token: None, handle_bounce),
}


def register(purpose: Purpose, handler: Handler) -> None:
    """Plug in a handler for another purpose (bounces, ...)."""
    HANDLERS[purpose] = handler


def read_address(inbound: Inbound, address: str, now: datetime) -> Token | Verdict:
    """The genuine token of one recipient address, or the 550 that refuses it."""
    local, _, domain = address.strip("<>").rpartition("@")
    if domain.lower() not in inbound.domains():
        return Verdict(550, "5.7.1 relaying denied: not an address of this service")
    match = _LOCAL.match(local)
    if match is None:
        return Verdict(550, "5.1.1 unknown address: no reply token in it")
    for purpose in HANDLERS:
        try:
            return read_token(inbound.secret_key, match.group(1), purpose, now=now)
        except TokenError as e:
            if e.reason != "wrong_purpose":
                return Verdict(550, f"5.7.1 {e.reason} token: {e}")
    return Verdict(550, "5.1.1 unknown address: this token is not for mail")


class InboundHandler:
    """aiosmtpd handler: tokens checked at RCPT, messages dispatched after DATA."""

    def __init__(self, inbound: Inbound, *, lmtp: bool = False) -> None:
        self.inbound = inbound
        self.lmtp = lmtp

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        found = read_address(self.inbound, address, self.inbound.clock())
        if isinstance(found, Verdict):
            log.info("refused %s: %s", address, found.text)
            return found.reply()
        refused = HANDLERS[found.purpose].check(self.inbound, found)
        if refused is not None:
            return refused.reply()
        envelope.rcpt_tos.append(address)
        tokens: dict[str, Token] = envelope.__dict__.setdefault("tokens", {})
        tokens[address] = found
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content
        if not isinstance(data, bytes):
            data = str(data).encode("utf-8", errors="surrogateescape")
        mail = parse_mail(data)
        tokens: dict[str, Token] = envelope.__dict__.get("tokens", {})
        verdicts = []
        for address in envelope.rcpt_tos:
            token = tokens[address]
            try:
                verdicts.append(HANDLERS[token.purpose].handle(self.inbound, token, mail))
            except Exception:  # one message never stops the listener
                log.exception("handling mail for %s failed", address)
                verdicts.append(Verdict(451, "4.3.0 temporary failure, try again later"))
        if self.lmtp:  # one reply per recipient
            return "\r\n".join(v.reply() for v in verdicts)
        failed = [v for v in verdicts if not v.ok]
        return (failed[0] if len(failed) == len(verdicts) else verdicts[0]).reply()


class _LmtpController(Controller):
    def factory(self) -> Any:
        return LMTP(self.handler, **self.SMTP_kwargs)


def start_listener(inbound: Inbound, *, host: str, port: int, lmtp: bool = False) -> Controller:
    """Start the listener in its own thread; ``stop()`` the returned controller to end it."""
    cls = _LmtpController if lmtp else Controller
    controller = cls(
        InboundHandler(inbound, lmtp=lmtp),
        hostname=host,
        port=port,
        data_size_limit=inbound.comments.message_max_bytes,
        ident="tbt-alert inbound",
    )
    controller.start()
    return controller
