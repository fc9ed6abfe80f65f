"""What every mail transport shares: the outcome vocabulary, the protocol, and the rule of one
recipient per message. See :mod:`tbt_alert.mail.mailer` (SMTP) and :mod:`tbt_alert.mail.outbox` (files)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from tbt_alert.errors import DeliveryError


class SendStatus(StrEnum):
    SENT = "sent"
    FAILED_TEMP = "failed_temp"
    FAILED_PERM = "failed_perm"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendOutcome:
    status: SendStatus
    detail: str
    code: int | None = None


@dataclass(frozen=True)
class PreparedMessage:
    """A message already written as bytes (CRLF line ends, not dot-stuffed) for exactly one
    recipient, by :class:`tbt_alert.mail.prepared.MessageTemplate`."""

    recipient: str
    message_id: str
    data: bytes


Sendable = EmailMessage | PreparedMessage


class Mailer(Protocol):
    def send(
        self,
        msg: Sendable,
        *,
        timeout: float | None = None,
        return_path: str | None = None,
        ready: Callable[[], object] | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> SendOutcome:
        """Send one message; ``ready`` is called before its content leaves (once the transaction
        has begun), and when it raises nothing is transmitted. ``meanwhile`` is
        called once the content has left, while the server reads it and before its answer is
        read: work the caller would otherwise do between two messages (not called when the
        content never left)."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Closing:
    def close(self) -> None:
        """Release resources; the base has none."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def envelope_recipient(msg: EmailMessage) -> str:
    """The single address in To; anything else (Cc, Bcc, several) is refused."""
    to = msg.get_all("To") or []
    extra = [h for h in ("Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc") if msg.get(h)]
    addresses = [a for header in to for a in getattr(header, "addresses", ())]
    if len(to) != 1 or len(addresses) != 1 or extra:
        raise DeliveryError("a message must have exactly one recipient, in To, and no Cc/Bcc")
    return str(addresses[0].addr_spec)


def wire(msg: Sendable) -> tuple[str, str, bytes]:
    """(envelope recipient, Message-ID, bytes with CRLF line ends) of a message to send."""
    if isinstance(msg, PreparedMessage):
        return msg.recipient, msg.message_id, msg.data
    recipient = envelope_recipient(msg)
    message_id = msg.get("Message-ID")
    if not message_id:
        raise DeliveryError("a message needs a Message-ID before it is sent")
    return recipient, str(message_id), message_bytes(msg)


def message_bytes(msg: EmailMessage) -> bytes:
    """The message as SMTP sends it: CRLF line ends."""
    return msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
