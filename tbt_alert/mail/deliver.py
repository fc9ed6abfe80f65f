"""Send due deliveries; record each outcome only after the mail server answered.

Deliveries are claimed a batch at a time (:mod:`tbt_alert.mail.claims`), so any number of
senders can share the work without sending one delivery twice. Each outcome is written while
the server answers the next message's MAIL FROM, and always before that message's content leaves
(:class:`_Recorder`): a sender killed at any point leaves at most one accepted message
unrecorded. At-least-once: a delivery whose outcome is unknown (connection lost after DATA) is
retried with the same Message-ID. Temporary failures back off exponentially; permanent ones are never retried; a
delivery that is too late to help (comment deadline passed, or older than max_age) expires.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email.errors import MessageError
from email.utils import parseaddr
from functools import partial
from typing import Literal
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from tbt_alert.config import DEFAULT_SECRET_KEY
from tbt_alert.errors import DeliveryError
from tbt_alert.links import PAGES
from tbt_alert.mail.claims import (
    Outcome,
    RecordWriter,
    claim,
    refresh_statistics,
    release,
    worker_id,
)
from tbt_alert.mail.language import Localised, Translator, localise
from tbt_alert.mail.mailer import Mailer, SendOutcome, SendStatus
from tbt_alert.mail.message import build_message
from tbt_alert.mail.prepared import MessageTemplate, new_placeholder
from tbt_alert.mail.render import RenderedMessage, render_digest, render_warning
from tbt_alert.mail.transport import PreparedMessage, Sendable
from tbt_alert.mail.view import View, row_snapshot, warning_context
from tbt_alert.status import BulletinKind, DeliveryStatus, Language, SubscriberStatus
from tbt_alert.store.shapes import read_digest_snapshot, read_warning_snapshot
from tbt_alert.store.tables import Bulletin, Delivery, Notification, Subscriber
from tbt_alert.store.versions import stored_versions, title_language
from tbt_alert.tokens import Purpose, make_token

log = logging.getLogger(__name__)

TEMPLATE_CACHE = 64  # built messages kept per run (digests differ per reader: keep memory flat)
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
    lease: timedelta = timedelta(minutes=15)  # a claim's life: longer than a batch takes to send
    batch: int = 50  # deliveries claimed at a time
    message_timeout_s: float = 120.0  # one message, connect to final reply
    run_timeout_s: float = 3600.0  # one run: what is not tried by then stays due
    bounce_domain: str = ""  # VERP: return path bounce+<token>@bounce_domain; empty: the sender
    reply_domain: str = ""  # warnings carry Reply-To: reply+<token>@reply_domain when set
    # signs the links, the reply, unsubscribe and VERP tokens
    secret_key: str = field(default=DEFAULT_SECRET_KEY, repr=False)


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
    """:func:`deliver_due` on the session's engine; the session's own transaction is ended first
    (no read stays open while senders write) and its objects are expired after."""
    session.commit()
    engine = session.get_bind()
    if not isinstance(engine, Engine):
        raise DeliveryError("send_due needs a session bound to an engine")
    try:
        return deliver_due(
            engine,
            mailer,
            settings,
            now=now,
            sector_names=sector_names,
            rng=rng,
            translator=translator,
        )
    finally:
        session.expire_all()


def deliver_due(
    engine: Engine,
    mailer: Mailer,
    settings: DeliverySettings,
    *,
    now: datetime,
    sector_names: dict[str, tuple[str, str]],
    rng: random.Random | None = None,
    worker: str | None = None,
    translator: Translator | None = None,
) -> Counter[str]:
    """Claim due deliveries a batch at a time, send each, record each outcome as soon as the
    server answered. Safe with any number of concurrent senders. Returns counts by status.
    ``translator``: machine translation of titles and summaries no source gave in the reader's
    language (None: such texts are shown in the original, with a line saying so)."""
    run = _Run(
        engine, mailer, settings, now, sector_names, rng or random.Random(), worker, translator
    )
    return run.go()


class _Run:
    """One sender's pass over what is due at ``now``."""

    def __init__(
        self,
        engine: Engine,
        mailer: Mailer,
        settings: DeliverySettings,
        now: datetime,
        names: dict[str, tuple[str, str]],
        rng: random.Random,
        worker: str | None,
        translator: Translator | None = None,
    ) -> None:
        self.engine, self.mailer, self.settings = engine, mailer, settings
        self.now, self.names, self.rng = now, names, rng
        self.worker = worker or worker_id()
        self.translator = translator
        self.started = time.monotonic()
        self.counts: Counter[str] = Counter()
        self.recorder: _Recorder
        self.placeholder = new_placeholder()
        self.bulletins: dict[int, Bulletin | None] = {}
        self.templates: OrderedDict[tuple, MessageTemplate | None] = OrderedDict()
        if settings.bounce_domain:  # a bad secret is refused before anything is claimed
            make_token(settings.secret_key, Purpose.BOUNCE, 1, now=now, ref_id=1)

    def return_path(self, delivery: Due) -> str | None:
        """VERP: a return path naming this delivery, so a bounce says which one failed."""
        if not self.settings.bounce_domain:
            return None
        token = make_token(
            self.settings.secret_key,
            Purpose.BOUNCE,
            delivery.subscriber_id,
            now=self.now,
            ref_id=delivery.id,
        )
        return f"bounce+{token}@{self.settings.bounce_domain}"

    def at(self) -> datetime:
        """``now`` moved on by the time this run has taken."""
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def remaining(self) -> float:
        return self.settings.run_timeout_s - (time.monotonic() - self.started)

    def stop_reason(self) -> str | None:
        """``paused`` when the breaker is open (failed connections and deadlines in a row),
        ``deadline`` when the run's time is up; the rest stays due."""
        failures = getattr(self.mailer, "consecutive_connect_failures", 0)
        if failures >= self.settings.breaker_threshold:
            return "paused"
        return "deadline" if self.remaining() <= 0 else None

    def go(self) -> Counter[str]:
        tried, after = 0, 0
        refresh_statistics(self.engine)
        with _Recorder(self.engine, self.worker, self.counts) as self.recorder:
            while tried < self.settings.limit and self.stop_reason() is None:
                size = min(self.settings.batch, self.settings.limit - tried)
                self.recorder.settle()
                ids = self._claim(size, after)
                if not ids and after:  # once more from the start: retries, expired leases
                    ids = self._claim(size, 0)
                if not ids:
                    break
                tried, after = tried + len(ids), ids[-1]
                self._batch(ids)
        return self.counts

    def _claim(self, size: int, after: int) -> list[int]:
        lease = self.settings.lease
        return claim(self.engine, self.worker, now=self.now, lease=lease, limit=size, after=after)

    def _batch(self, ids: list[int]) -> None:
        jobs = self._prepare(ids)
        for index, (delivery, job) in enumerate(jobs):
            reason = self.stop_reason()
            if reason is not None:
                rest = [d.id for d, _ in jobs[index:]]
                self.recorder.settle()
                self.counts[reason] += release(self.engine, self.worker, rest)
                return
            message = self._personalise(delivery, job)
            if isinstance(message, _Finish):
                self._finish(delivery, message.status, message.why)
            else:
                self._send(delivery, message, partial(self._ahead, jobs, index + 1))

    def _ahead(self, jobs: list[tuple[Due, _Job]], index: int) -> None:
        """Personalise the next message while the server reads this one: the fast path only
        (tokens put into the built message), and nothing that can fail this message, whose
        content has left. Anything else (the general build reads the database) is left to the
        loop, after this message's outcome."""
        if index >= len(jobs):
            return
        delivery, job = jobs[index]
        if not isinstance(job, _Personal):
            return
        try:
            message = self._fast(delivery, job)
        except Exception:  # the loop tries again, and reports what fails
            return
        if message is not None:
            jobs[index] = (delivery, message)

    def _fast(self, delivery: Due, job: _Personal) -> PreparedMessage | None:
        """The built message with this reader's tokens put in; None: the general way."""
        tokens = reader_tokens(job.bulletin, delivery, self.settings, self.now)
        return job.template.personalise(
            recipient=job.email, message_id=delivery.message_id, values=tokens
        )

    def _prepare(self, ids: list[int]) -> list[tuple[Due, _Job]]:
        """The claimed deliveries with what to do with each, read in one short transaction
        (plain rows: an ORM object per message costs more than its database work). What needs
        no database (a reader's tokens and links put into the built message) is left for
        :meth:`_personalise`, done while the server reads the message before."""
        with Session(self.engine, expire_on_commit=False) as session:
            # two lookups by primary key: a join lets PostgreSQL hash every subscriber when its
            # statistics are behind a plan that has just added many deliveries
            rows = session.execute(_DUE.where(_D.c.id.in_(ids)).order_by(_D.c.id)).all()
            readers = {row.subscriber_id for row in rows}
            found = session.execute(_READER.where(_S.c.id.in_(readers))).all()
            subscribers = {sid: tuple(rest) for sid, *rest in found}
            dues = [Due(*row, *subscribers.get(row.subscriber_id, _GONE)) for row in rows]
            return [(due, self._job(session, due)) for due in dues]

    def _job(self, session: Session, delivery: Due) -> _Job:
        bulletin = self._bulletin(session, delivery.bulletin_id)
        if bulletin is None or delivery.email is None:
            return _Finish(DeliveryStatus.SKIPPED, "bulletin or subscriber gone")
        if delivery.subscriber_status != SubscriberStatus.ACTIVE:
            return _Finish(DeliveryStatus.SKIPPED, f"subscriber {delivery.subscriber_status}")
        if self.now - delivery.created_at > self.settings.max_age:
            return _Finish(DeliveryStatus.EXPIRED, "not sent within max_age")
        lang: Literal["zh", "en"] = "en" if delivery.language == Language.EN else "zh"
        try:
            template = self._template(session, bulletin, delivery, lang)
            if template is None:
                return _Finish(DeliveryStatus.EXPIRED, "comment period over: too late")
            if template.fits(recipient=delivery.email, message_id=delivery.message_id):
                return _Personal(bulletin, template, delivery.email, lang)
            # an address outside the fast path's patterns: this reader's own build
            return self._build(session, bulletin, delivery, delivery.email, lang)
        except (DeliveryError, MessageError, ValueError) as e:
            return _Finish(DeliveryStatus.FAILED_PERM, f"message cannot be written: {e}")

    def _personalise(self, delivery: Due, job: _Job) -> _Finish | Sendable:
        """The message of a :class:`_Personal` job: the template with this reader's tokens."""
        if not isinstance(job, _Personal):
            return job
        try:
            prepared = self._fast(delivery, job)
            if prepared is not None:
                return prepared
            with Session(self.engine, expire_on_commit=False) as session:  # the general way
                return self._build(session, job.bulletin, delivery, job.email, job.lang)
        except (DeliveryError, MessageError, ValueError) as e:
            return _Finish(DeliveryStatus.FAILED_PERM, f"message cannot be written: {e}")

    def _build(
        self,
        session: Session,
        bulletin: Bulletin,
        delivery: Due,
        email: str,
        lang: Literal["zh", "en"],
    ) -> _Finish | Sendable:
        """One reader's message rendered and built on its own (no template)."""
        tokens = reader_tokens(bulletin, delivery, self.settings, self.now)
        reader = Reader(tokens, delivery, self.settings, self.now, self.names, lang)
        rendered = _render(session, bulletin, reader, self.translator)
        if rendered is None:
            return _Finish(DeliveryStatus.EXPIRED, "comment period over: too late")
        return build_message(
            rendered,
            sender=self.settings.sender,
            recipient=email,
            message_id=delivery.message_id,
            list_id=self._list_id(bulletin),
            unsubscribe_url=reader.link("unsubscribe"),
            unsubscribe_mailto=reader.unsubscribe_mailto(),
            date=self.now,
            reply_to=reader.reply_to(),
        )

    def _bulletin(self, session: Session, bulletin_id: int) -> Bulletin | None:
        if bulletin_id not in self.bulletins:
            self.bulletins[bulletin_id] = session.get(Bulletin, bulletin_id)
        return self.bulletins[bulletin_id]

    def _list_id(self, bulletin: Bulletin) -> str:
        return f"tbt-alert {bulletin.kind}s <{bulletin.kind}s.{self.settings.domain}>"

    def _template(
        self, session: Session, bulletin: Bulletin, delivery: Due, lang: Literal["zh", "en"]
    ) -> MessageTemplate | None:
        """Rendered and built once per (bulletin, language, sectors, items) in a run."""
        key = (bulletin.id, lang, tuple(delivery.sectors), tuple(delivery.items))
        if key in self.templates:
            self.templates.move_to_end(key)
            return self.templates[key]
        # one random placeholder per personal token, the same keys as reader_tokens gives
        names = token_names(bulletin, delivery, self.settings)
        placeholders = {name: f"{self.placeholder}{n:03d}" for n, name in enumerate(names)}
        reader = Reader(placeholders, delivery, self.settings, self.now, self.names, lang)
        rendered = _render(session, bulletin, reader, self.translator)
        template = None
        if rendered is not None:
            template = MessageTemplate(
                rendered,
                placeholders=placeholders,
                sender=self.settings.sender,
                list_id=self._list_id(bulletin),
                unsubscribe_url=reader.link("unsubscribe"),
                unsubscribe_mailto=reader.unsubscribe_mailto(),
                reply_to=reader.reply_to(),
                date=self.now,
            )
        self.templates[key] = template
        if len(self.templates) > TEMPLATE_CACHE:
            self.templates.popitem(last=False)
        return template

    def _send(self, delivery: Due, msg: Sendable, meanwhile: Callable[[], object]) -> None:
        try:
            timeout = min(self.settings.message_timeout_s, self.remaining())
            outcome = self.mailer.send(
                msg,
                timeout=timeout,
                return_path=self.return_path(delivery),
                ready=self.recorder.settle,  # the previous outcome, before this content leaves
                meanwhile=meanwhile,
            )
        except (DeliveryError, MessageError, ValueError) as e:
            outcome = SendOutcome(SendStatus.FAILED_PERM, f"message cannot be written: {e}")
        attempts = delivery.attempts + 1
        status = OUTCOME_STATUS[outcome.status]
        at = self.at()
        if status == DeliveryStatus.SENT:
            result = Outcome(status, attempts, sent_at=at)
        elif status == DeliveryStatus.FAILED_PERM or attempts >= self.settings.max_attempts:
            result = Outcome(DeliveryStatus.FAILED_PERM, attempts, outcome.detail)
        else:
            wait = backoff(attempts, self.settings.backoff_base, self.rng)
            result = Outcome(status, attempts, outcome.detail, next_attempt_at=at + wait)
        self._record(delivery, result)

    def _finish(self, delivery: Due, status: DeliveryStatus, why: str) -> None:
        self._record(delivery, Outcome(status, delivery.attempts, why))

    def _record(self, delivery: Due, outcome: Outcome) -> None:
        self.recorder.submit(delivery.id, outcome)


class _Recorder:
    """Holds the last outcome until the sender is waiting on the mail server: the mailer's
    ``ready`` writes it while the server answers the next message's MAIL FROM, so the database
    write overlaps the server's work instead of adding to it, with no second thread. It is
    always written before the next message's content leaves, and before anything else the
    sender writes: at any moment at most one message the server accepted is not yet recorded,
    and a sender killed at any point duplicates at most one message (sent again after its lease
    with the same Message-ID). Each record is one UPDATE keyed on the sender's claim, its own
    transaction (:class:`tbt_alert.mail.claims.RecordWriter`)."""

    def __init__(self, engine: Engine, worker: str, counts: Counter[str]) -> None:
        self.worker, self.counts = worker, counts
        self._writer = RecordWriter(engine)
        self._pending: tuple[int, Outcome] | None = None

    def __enter__(self) -> _Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.settle()
        finally:
            self._writer.close()

    def submit(self, delivery_id: int, outcome: Outcome) -> None:
        """Keep ``outcome`` to write at the next :meth:`settle` (the previous one first)."""
        self.settle()
        self._pending = (delivery_id, outcome)

    def settle(self) -> None:
        """Write the outcome kept, and count it; a database error is raised (and the outcome
        kept, for the next try)."""
        if self._pending is None:
            return
        delivery_id, outcome = self._pending
        written = self._writer.write(delivery_id, self.worker, outcome)
        self._pending = None
        if written:
            self.counts[outcome.status.value] += 1
        else:  # the lease ran out and another sender took over: its record stands
            log.warning("delivery %s: claim lost before its outcome was recorded", delivery_id)
            self.counts["claim_lost"] += 1


_D = Delivery.__table__  # type: ignore[attr-defined]
_S = Subscriber.__table__  # type: ignore[attr-defined]
# the columns of Due, in its order: the delivery's, then its subscriber's (None when it is gone)
_DUE = select(
    _D.c.id,
    _D.c.bulletin_id,
    _D.c.subscriber_id,
    _D.c.sectors,
    _D.c["items"],  # not .items: the collection has a method of that name
    _D.c.message_id,
    _D.c.attempts,
    _D.c.created_at,
)
_READER = select(_S.c.id, _S.c.email, _S.c.language, _S.c.status)
_GONE = (None, None, None)


@dataclass(frozen=True, slots=True)
class Due:
    """A claimed delivery with what sending reads of its subscriber (None: the subscriber is
    gone)."""

    id: int
    bulletin_id: int
    subscriber_id: int
    sectors: list[str]
    items: list[int]
    message_id: str
    attempts: int
    created_at: datetime
    email: str | None
    language: str | None
    subscriber_status: str | None


@dataclass(frozen=True)
class _Finish:
    status: DeliveryStatus
    why: str


@dataclass(frozen=True)
class _Personal:
    """A message still to personalise: the built template, for this reader's tokens."""

    bulletin: Bulletin
    template: MessageTemplate
    email: str
    lang: Literal["zh", "en"]


_Job = _Finish | _Personal | Sendable


PERSONAL_LINKS = ("unsubscribe", "preferences")  # pages every message links to


def message_items(bulletin: Bulletin, delivery: Due) -> list[int]:
    """The notifications one message speaks of: a warning's own, or a digest's items."""
    if bulletin.kind == BulletinKind.DIGEST:
        return list(delivery.items)
    return [bulletin.notification_id] if bulletin.notification_id else []


def token_names(bulletin: Bulletin, delivery: Due, settings: DeliverySettings) -> list[str]:
    """The personal tokens one message carries, by use: the pages every message links to, the
    comment form of each notification in it and, for a warning when a reply domain is set, the
    reply address."""
    names = [*PERSONAL_LINKS, *(f"comment:{i}" for i in message_items(bulletin, delivery))]
    if settings.reply_domain and bulletin.kind != BulletinKind.DIGEST and bulletin.notification_id:
        names.append("reply")
    return names


def reader_tokens(
    bulletin: Bulletin, delivery: Due, settings: DeliverySettings, now: datetime
) -> dict[str, str]:
    """One reader's signed tokens by use (:func:`token_names`). They hold the subscriber's id,
    never the address; the unsubscribe token also makes the mailto unsubscribe address."""
    sid, key = delivery.subscriber_id, settings.secret_key
    tokens: dict[str, str] = {}
    for name in token_names(bulletin, delivery, settings):
        if name in PERSONAL_LINKS:
            tokens[name] = make_token(key, PAGES[name], sid, now=now)
        elif name.startswith("comment:"):
            ref = int(name.split(":", 1)[1])
            tokens[name] = make_token(key, Purpose.COMMENT, sid, now=now, ref_id=ref)
        else:  # the reply address of a warning
            ref = bulletin.notification_id or 0
            tokens[name] = make_token(key, Purpose.REPLY, sid, now=now, ref_id=ref)
    return tokens


@dataclass(frozen=True)
class Reader:
    """Who a message is rendered for, and when; ``tokens`` are the reader's signed tokens by use
    (or a template's placeholders, replaced per recipient)."""

    tokens: Mapping[str, str]
    delivery: Due
    settings: DeliverySettings
    now: datetime
    names: dict[str, tuple[str, str]]
    lang: Literal["zh", "en"]

    def link(self, page: str) -> str:
        """``<public_url>/<page>/<signed token>`` (the web app's pages)."""
        return f"{self.settings.public_url.rstrip('/')}/{page}/{self.tokens[page]}"

    def unsubscribe_mailto(self) -> str:
        """RFC 2369 mailto: ``unsubscribe+<token>@<reply domain>``, read by ``tbt-alert inbound``;
        without a reply domain, the sender's address with the token in the subject."""
        token = self.tokens["unsubscribe"]
        if self.settings.reply_domain:
            return f"mailto:unsubscribe+{token}@{self.settings.reply_domain}"
        return (
            f"mailto:{parseaddr(self.settings.sender)[1]}?subject={quote('unsubscribe ' + token)}"
        )

    def comment_link(self, notification_id: int) -> str:
        """The web comment form about one notification of the message, in the reader's language."""
        token = self.tokens[f"comment:{notification_id}"]
        base = self.settings.public_url.rstrip("/")
        return f"{base}/comment/{token}" + ("?lang=en" if self.lang == "en" else "")

    def reply_to(self) -> str | None:
        """``reply+<token>@<reply domain>`` for a warning: a reply becomes a comment draft."""
        token = self.tokens.get("reply")
        return f"reply+{token}@{self.settings.reply_domain}" if token else None

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
