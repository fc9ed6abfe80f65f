"""The outbox transport: each message written as an .eml file, atomically, one per Message-ID.
Used when no SMTP server is configured (and by the demo)."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

from tbt_alert.errors import DeliveryError
from tbt_alert.mail.transport import Closing, Sendable, SendOutcome, SendStatus, wire


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
        self,
        msg: Sendable,
        *,
        timeout: float | None = None,
        return_path: str | None = None,
        ready: Callable[[], object] | None = None,
        meanwhile: Callable[[], object] | None = None,
    ) -> SendOutcome:
        """Write the message (``timeout`` does not apply to a local file; ``return_path`` is
        written as a Return-Path header, as a delivering server would). ``ready`` is called
        just before the file is written; when it raises, nothing is written. ``meanwhile`` is
        called after the file is written."""
        _, message_id, data = wire(msg)
        if return_path is not None:
            if any(c in return_path for c in "<>\r\n "):
                raise DeliveryError("the return path must be one plain address")
            data = f"Return-Path: <{return_path}>\r\n".encode() + data
        path = self.directory / outbox_name(message_id)
        if ready is not None:
            ready()
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _write_atomically(path, data.replace(b"\r\n", b"\n"))
        except OSError as e:
            return SendOutcome(SendStatus.FAILED_TEMP, f"cannot write {path}: {e}")
        if meanwhile is not None:
            meanwhile()
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
