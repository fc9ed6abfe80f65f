"""The outbox transport: each message written as an .eml file, atomically, one per Message-ID.
Used when no SMTP server is configured (and by the demo)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from email.message import EmailMessage
from pathlib import Path

from tbt_alert.errors import DeliveryError
from tbt_alert.mail.transport import Closing, SendOutcome, SendStatus, envelope_recipient


def outbox_name(message_id: str) -> str:
    """A file name from a Message-ID: readable, safe, and the same for the same id."""
    stem = re.sub(r"[^A-Za-z0-9@._-]", "_", message_id.strip("<> ")).lstrip(".")[:100]
    digest = hashlib.sha256(message_id.encode()).hexdigest()[:12]
    return f"{stem}-{digest}.eml"


class OutboxMailer(Closing):
    """Writes each message to ``directory/<name>.eml`` atomically; one file per Message-ID."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(
        self, msg: EmailMessage, *, timeout: float | None = None, return_path: str | None = None
    ) -> SendOutcome:
        """Write the message (``timeout`` does not apply to a local file; ``return_path`` is
        recorded as a Return-Path header, as a delivering server would)."""
        envelope_recipient(msg)
        if return_path is not None:
            del msg["Return-Path"]
            msg["Return-Path"] = f"<{return_path}>"
        message_id = msg.get("Message-ID")
        if not message_id:
            raise DeliveryError("a message needs a Message-ID before it is sent")
        path = self.directory / outbox_name(str(message_id))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, msg.as_bytes())
        except OSError as e:
            return SendOutcome(SendStatus.FAILED_TEMP, f"cannot write {path}: {e}")
        return SendOutcome(SendStatus.SENT, f"written to {path}")


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
