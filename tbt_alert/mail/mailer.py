"""Hand messages to a mail server, or to an outbox directory, and say clearly what happened.

``send`` never raises for network or server trouble: it returns a ``SendOutcome``. ``sent`` means
the server took responsibility for the message; ``failed_temp`` that it certainly did not and a retry
is fine; ``failed_perm`` that the server refused the recipient or the message for good; ``unknown``
that the connection was lost after the whole message was transmitted, so the server may have
accepted it (retry with the same Message-ID: at-least-once delivery). A malformed message (not
exactly one recipient, no Message-ID) is a programming error and raises ``DeliveryError``.
"""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from tbt_alert.errors import ConfigError, DeliveryError
from tbt_alert.mail.outbox import OutboxMailer, outbox_name
from tbt_alert.mail.transport import (
    Closing,
    Mailer,
    PreparedMessage,
    Sendable,
    SendOutcome,
    SendStatus,
    envelope_recipient,
    message_bytes,
    wire,
)
from tbt_alert.mail.watchdog import Watchdog

__all__ = [
    "Mailer",
    "OutboxMailer",
    "PreparedMessage",
    "SendOutcome",
    "SendStatus",
    "SmtpMailer",
    "envelope_recipient",
    "mailer_from_url",
    "message_bytes",
    "outbox_name",
    "parse_smtp_url",
]

log = logging.getLogger(__name__)

_TRUE = frozenset({"1", "true", "yes", "on"})


# ---------------------------------------------------------------- SMTP


class _LostBeforeData(Exception):
    """The connection broke before the message was transmitted: nothing can have been delivered."""


def parse_smtp_url(url: str) -> tuple[bool, str, int]:
    """(implicit TLS?, host, port) from ``smtp://`` or ``smtps://``; ``ConfigError`` otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise ConfigError("smtp url: invalid host or port") from e
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("smtp url must look like smtp://host:port or smtps://host:port")
    implicit = parts.scheme == "smtps"
    return implicit, parts.hostname, port or (465 if implicit else 25)


def _status_for(code: int) -> SendStatus:
    if 200 <= code < 300:
        return SendStatus.SENT
    return SendStatus.FAILED_PERM if 500 <= code < 600 else SendStatus.FAILED_TEMP


_DOT_ATOM = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$"
)


def _path(address: str) -> str:
    """``<address>`` for MAIL FROM and RCPT TO; a plain address without a parser's help."""
    return f"<{address}>" if _DOT_ATOM.match(address) else smtplib.quoteaddr(address)


def _dot_stuffed(data: bytes) -> bytes:
    # CRLF line ends only and no line starting with a dot: what a built message usually is,
    # checked without copying it through two regular expressions
    crlf = data.count(b"\r\n")
    if (
        data.count(b"\n") == crlf == data.count(b"\r")
        and not data.startswith(b".")
        and b"\n." not in data
    ):
        return data + (b".\r\n" if data.endswith(b"\r\n") else b"\r\n.\r\n")
    data = re.sub(rb"\r\n|\n|\r", b"\r\n", data)
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class SmtpMailer(Closing):
    """One SMTP connection, kept open across sends and reopened when it drops.

    Credentials are only sent over TLS (``smtps://`` or STARTTLS; a server that does not offer
    STARTTLS is a connection failure, never a reason to log in in clear) unless
    ``allow_plaintext_auth`` says the network is trusted.

    Every network wait (connect, each reply) is bounded by ``timeout`` seconds. Connection trouble
    gives ``failed_temp`` and counts in ``consecutive_connect_failures`` (reset by the next good
    connection), which a caller can use as a circuit breaker.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        allow_plaintext_auth: bool = False,
        message_timeout: float = 120.0,
    ) -> None:
        self._implicit_tls, self._host, self._port = parse_smtp_url(url)
        if username is not None and not (self._implicit_tls or starttls or allow_plaintext_auth):
            raise ConfigError(
                "refusing to send SMTP credentials without TLS: use smtps:// or "
                "[mail] starttls = true (or allow_plaintext_auth = true on a trusted network)"
            )
        address = parseaddr(sender)[1]
        if not address.isascii() or "@" not in address:
            raise ConfigError("mail sender must contain one ASCII email address")
        self.sender = address  # the envelope sender (MAIL FROM)
        self.timeout = timeout
        self._username = username
        self._password = password
        self._starttls = starttls
        self._local_hostname = local_hostname
        self._ssl_context = ssl_context
        self.message_timeout = message_timeout
        self._smtp: smtplib.SMTP | None = None
        self._connecting: smtplib.SMTP | None = None
        self._failures = 0
        self._watchdog = Watchdog(self._sockets)

    def __repr__(self) -> str:
        return f"SmtpMailer({self._where!r}, user={'set' if self._username else 'none'})"

    @property
    def _where(self) -> str:
        return f"{'smtps' if self._implicit_tls else 'smtp'}://{self._host}:{self._port}"

    @property
    def consecutive_failures(self) -> int:
        """Failed connections and deadlines since the server last answered a transaction."""
        return self._failures

    consecutive_connect_failures = consecutive_failures  # the name callers used first

    def send(
        self,
        msg: Sendable,
        *,
        timeout: float | None = None,
        return_path: str | None = None,
        ready: Callable[[], object] | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> SendOutcome:
        """Send one message within ``timeout`` seconds overall (default ``message_timeout``):
        a server that stalls or trickles is cut off at the deadline; before the end of DATA
        that is ``failed_temp``, after it ``unknown``. ``return_path`` is the envelope sender
        (MAIL FROM) of this message, e.g. a VERP bounce address; default: the sender.
        ``ready`` is called once the transaction has begun (MAIL FROM written, while the server
        answers it), before any content leaves; when it raises, the connection is dropped with
        nothing transmitted (the server discards the transaction) and the exception propagates.
        ``meanwhile`` is called after the content is written and before the server's final reply
        is read, so the caller's work overlaps the server's; when it raises, the connection is
        dropped (the outcome is unknown) and the exception propagates."""
        recipient, _, data = wire(msg)
        if not recipient.isascii():
            return SendOutcome(SendStatus.FAILED_PERM, "non-ASCII address needs SMTPUTF8", None)
        envelope_from = return_path or self.sender
        if not envelope_from.isascii() or any(c in envelope_from for c in "<>\r\n "):
            raise DeliveryError("the return path must be one plain ASCII address")
        payload = _dot_stuffed(data)
        limit = self.message_timeout if timeout is None else min(timeout, self.message_timeout)
        before = self._failures
        with self._watchdog.arm(max(limit, 0.001)) as dog:
            outcome = self._send_once(recipient, envelope_from, payload, dog, ready, meanwhile)
        if dog.fired:
            self._failures = before + 1  # a deadline counts once, like a failed connection
            self._drop()
            outcome = SendOutcome(
                outcome.status if outcome.status == SendStatus.UNKNOWN else SendStatus.FAILED_TEMP,
                f"deadline of {limit:.1f}s passed: {outcome.detail}",
                outcome.code,
            )
        if log.isEnabledFor(logging.INFO):
            log.info("smtp %s -> %s: %s %s", self._where, recipient, outcome.status, outcome.detail)
        return outcome

    def _send_once(
        self,
        recipient: str,
        envelope_from: str,
        payload: bytes,
        dog: Watchdog,
        ready: Callable[[], object] | None,
        meanwhile: Callable[[], object] | None,
    ) -> SendOutcome:
        for _ in range(2):
            reused = self._smtp is not None
            smtp = self._smtp or self._connect()
            if isinstance(smtp, SendOutcome):
                return smtp
            if dog.fired:  # it fired before the connection had a socket to cut (a slow lookup)
                self._drop()
                return SendOutcome(SendStatus.FAILED_TEMP, "no time left once connected", None)
            try:
                return self._transaction(smtp, envelope_from, recipient, payload, ready, meanwhile)
            except _LostBeforeData as e:
                self._drop()
                if reused and not dog.fired:  # an idle connection the server closed: once more
                    continue
                return SendOutcome(SendStatus.FAILED_TEMP, f"connection lost: {e}", None)
        return SendOutcome(SendStatus.FAILED_TEMP, "connection lost twice", None)

    def close(self) -> None:
        self._watchdog.stop()
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    # -- connection

    def _connect(self) -> smtplib.SMTP | SendOutcome:
        try:
            smtp = self._open()
        except (smtplib.SMTPException, OSError) as e:
            self._failures += 1
            detail = f"cannot connect to {self._where}: {self._describe(e)}"
            log.warning("%s", detail)
            return SendOutcome(SendStatus.FAILED_TEMP, detail, getattr(e, "smtp_code", None))
        self._smtp = smtp
        return smtp

    def _open(self) -> smtplib.SMTP:
        context = self._ssl_context or ssl.create_default_context()
        if self._implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                local_hostname=self._local_hostname, timeout=self.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(local_hostname=self._local_hostname, timeout=self.timeout)
        self._connecting = smtp  # so the watchdog can cut a stalled greeting or login
        try:
            smtp.connect(self._host, self._port)
            smtp.ehlo()
            if self._starttls:
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._username is not None:
                smtp.login(self._username, self._password or "")
        except BaseException:
            smtp.close()
            raise
        finally:
            self._connecting = None
        return smtp

    def _sockets(self) -> list[socket.socket | None]:
        return [getattr(smtp, "sock", None) for smtp in (self._smtp, self._connecting)]

    def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _describe(self, e: BaseException) -> str:
        if isinstance(e, smtplib.SMTPResponseException):
            text = f"{e.smtp_code} {_decode(e.smtp_error)}"
        else:
            text = f"{type(e).__name__}: {e}"
        return text.replace(self._password, "***") if self._password else text

    # -- transaction

    def _transaction(
        self,
        smtp: smtplib.SMTP,
        envelope_from: str,
        recipient: str,
        payload: bytes,
        ready: Callable[[], object] | None,
        meanwhile: Callable[[], object] | None,
    ) -> SendOutcome:
        try:
            smtp.putcmd("mail", f"FROM:{_path(envelope_from)}")
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            raise _LostBeforeData(self._describe(e)) from e
        if ready is not None:  # the caller's work overlaps the server's first answer
            try:
                ready()
            except BaseException:
                self._drop()  # the content never comes: the server discards the transaction
                raise
        try:
            code, reply = smtp.getreply()
            if code != 250:
                # A refused sender is our problem, never the recipient's: retry later.
                return self._refused(smtp, "MAIL", code, reply, SendStatus.FAILED_TEMP)
            code, reply = smtp.docmd("rcpt", f"TO:{_path(recipient)}")
            if code not in (250, 251):
                return self._refused(smtp, "RCPT", code, reply, _status_for(code))
            code, reply = smtp.docmd("DATA")
            if code != 354:
                return self._refused(smtp, "DATA", code, reply, _status_for(code))
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            raise _LostBeforeData(self._describe(e)) from e
        try:
            smtp.send(payload)
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            raise _LostBeforeData(self._describe(e)) from e
        if meanwhile is not None:
            try:
                meanwhile()
            except BaseException:
                self._drop()
                raise
        return self._final_reply(smtp)

    def _final_reply(self, smtp: smtplib.SMTP) -> SendOutcome:
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as e:
            self._drop()
            return SendOutcome(
                SendStatus.UNKNOWN, f"no reply after the message was sent: {self._describe(e)}"
            )
        self._failures = 0  # the server answered the transaction: it is alive
        status = _status_for(code) if 200 <= code < 600 else SendStatus.UNKNOWN
        if code == 421:
            self._drop()
        return SendOutcome(status, f"end of DATA {code} {_decode(reply)}", code)

    def _refused(
        self, smtp: smtplib.SMTP, stage: str, code: int, reply: bytes, status: SendStatus
    ) -> SendOutcome:
        self._failures = 0  # the server answered the transaction: it is alive
        if code == 421 or code < 400:
            self._drop()
        else:
            try:
                smtp.rset()
            except (smtplib.SMTPException, OSError):
                self._drop()
        return SendOutcome(status, f"{stage} {code} {_decode(reply)}", code)


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


# ---------------------------------------------------------------- factory


def mailer_from_url(
    url: str | None,
    outbox: Path,
    sender: str,
    timeout: float,
    *,
    username: str | None = None,
    password: str | None = None,
    starttls: bool | None = None,
    allow_plaintext_auth: bool = False,
    message_timeout: float = 120.0,
) -> Mailer:
    """``smtp://[user:pass@]host[:port][?starttls=true]``, ``smtps://…``, or None for the outbox.

    Explicit ``username``/``password``/``starttls`` win over the URL's.
    """
    if not url:
        return OutboxMailer(outbox)
    parts = urlsplit(url)
    if starttls is None:
        starttls = parse_qs(parts.query).get("starttls", ["false"])[0].lower() in _TRUE
    return SmtpMailer(
        url,
        timeout=timeout,
        sender=sender,
        username=username or (unquote(parts.username) if parts.username else None),
        password=password or (unquote(parts.password) if parts.password else None),
        starttls=starttls,
        allow_plaintext_auth=allow_plaintext_auth,
        message_timeout=message_timeout,
    )
