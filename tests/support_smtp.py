"""A real SMTP server on loopback (aiosmtpd) that stores what it receives and misbehaves on request.

Use the ``smtp_sink`` fixture (import it into a test module or a conftest) or ``SmtpSink`` directly::

    sink.handler.at_rcpt("full@example.com", "452 4.2.2 Mailbox full")
    sink.handler.at_data("bounce@example.com", "550 5.1.1 No such user")
    sink.handler.drop_after_data("flaky@example.com")   # record, then close without a reply
    sink.handler.stall_at_data("slow@example.com", 5.0)  # record, then wait before replying
    sink.stop(); sink.start()                            # same port: "server down", then back

``stalled_listener()`` gives a port that accepts TCP connections and never says a word.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, Session


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = BytesParser(policy=policy.default).parsebytes(self.data)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Behaviour:
    rcpt_reply: str | None = None
    data_reply: str | None = None
    drop_after_data: bool = False
    stall_seconds: float = 0.0


@dataclass
class SinkHandler:
    """aiosmtpd handler: stores every accepted message; per-address behaviour on request."""

    received: list[Received] = field(default_factory=list)
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    sessions: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _for(self, address: str) -> Behaviour:
        return self.behaviours.setdefault(address.lower(), Behaviour())

    def at_rcpt(self, address: str, reply: str) -> None:
        self._for(address).rcpt_reply = reply

    def at_data(self, address: str, reply: str) -> None:
        self._for(address).data_reply = reply

    def drop_after_data(self, address: str) -> None:
        self._for(address).drop_after_data = True

    def stall_at_data(self, address: str, seconds: float) -> None:
        self._for(address).stall_seconds = seconds

    def behave_normally(self, address: str) -> None:
        self.behaviours.pop(address.lower(), None)

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    async def handle_EHLO(
        self, server: Any, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        reply = self.behaviours.get(address.lower(), Behaviour()).rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        rcpts = tuple(envelope.rcpt_tos)
        rule = next(
            (self.behaviours[a.lower()] for a in rcpts if a.lower() in self.behaviours), Behaviour()
        )
        if rule.data_reply:
            return rule.data_reply
        data = envelope.original_content or envelope.content
        assert isinstance(data, bytes)
        with self._lock:
            self.received.append(Received(str(envelope.mail_from), rcpts, data))
        if rule.drop_after_data:
            server.transport.close()
            return "250 OK (never heard)"
        if rule.stall_seconds:
            await asyncio.sleep(rule.stall_seconds)
        return "250 OK queued"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = getattr(auth_data, "login", None) == b"user" and auth_data.password == b"right"
    return AuthResult(success=ok, handled=False)


class SmtpSink:
    """An aiosmtpd Controller on 127.0.0.1 that can be stopped and restarted on the same port."""

    def __init__(self, *, auth: bool = False) -> None:
        self.handler = SinkHandler()
        self.host = "127.0.0.1"
        self.port = free_port()
        self._auth = auth
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def start(self) -> None:
        extra: dict[str, Any] = {}
        if self._auth:  # AUTH over plain loopback, accepts user/right only
            extra = {"authenticator": _authenticate, "auth_require_tls": False}
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **extra)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@contextlib.contextmanager
def stalled_listener() -> Iterator[int]:
    """A port whose TCP handshake succeeds (kernel backlog) but that never sends a greeting."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])
