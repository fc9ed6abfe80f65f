"""Drafts: what exporters write about a call, through any channel, stored as plain text with
their attachments. Attachments are recognised by their content (magic bytes, a Word document's
structure, UTF-8 text), never by their name, and kept up to a size cap; others are refused with
a reason that is stored on the draft and told to the sender."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import Session, col, select

from tbt_alert.comments.calls import ACCEPTING, CommentsError
from tbt_alert.status import CallStatus, DraftChannel
from tbt_alert.store.tables import CommentAttachment, CommentCall, CommentDraft

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
TEXT = "text/plain"
MAX_NAME = 200


@dataclass(frozen=True)
class Incoming:
    """An attachment as received: its claimed name and its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Refusal:
    name: str
    reason: str


def is_docx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "word/document.xml" in z.namelist()
    except (zipfile.BadZipFile, ValueError):
        return False


_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f]")  # C0 controls a text file never holds


def as_text(data: bytes) -> str | None:
    """UTF-8 (with or without BOM) text without binary control bytes, else None."""
    if _BINARY.search(data):
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None


def sniff(data: bytes) -> str | None:
    """The content type the bytes really have, among those accepted; None for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if is_docx(data):
        return DOCX
    if as_text(data) is not None:
        return TEXT
    return None


def check_attachment(item: Incoming, max_bytes: int) -> CommentAttachment | Refusal:
    name = (Path(item.name.replace("\\", "/")).name or "attachment")[:MAX_NAME]
    if len(item.data) > max_bytes:
        return Refusal(name, f"larger than {max_bytes} bytes ({len(item.data)})")
    kind = sniff(item.data)
    if kind is None:
        return Refusal(name, "not a Word (.docx), PDF or plain-text file")
    return CommentAttachment(
        draft_id=0, name=name, content_type=kind, size=len(item.data), data=item.data
    )


def docx_text(data: bytes) -> str:
    """The paragraphs and table cells of a Word document, in order, as plain text."""
    from docx import Document

    try:
        document = Document(io.BytesIO(data))
    except Exception as e:  # python-docx raises several kinds for a damaged package
        raise CommentsError(f"the Word document cannot be read: {e.__class__.__name__}") from e
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines).strip()


def read_text_file(path: Path) -> str:
    """A .docx, .txt or .md file's text, recognised by content; CommentsError otherwise."""
    try:
        data = path.read_bytes()
    except OSError as e:
        raise CommentsError(f"cannot read {path}: {e.strerror or e}") from e
    if is_docx(data):
        text = docx_text(data)
    else:
        decoded = as_text(data)
        if decoded is None:
            raise CommentsError(
                f"{path} is neither a Word document (.docx) nor UTF-8 text (.txt, .md)"
            )
        text = decoded.strip()
    if not text:
        raise CommentsError(f"{path} holds no text")
    return text


def clean_text(text: str, max_chars: int) -> str:
    """Text as stored: NUL and other C0 controls (but tab and newline) removed, cut."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in text if c >= " " or c in "\t\n").strip()[:max_chars]


def add_draft(
    session: Session,
    call: CommentCall,
    *,
    sender: str,
    channel: DraftChannel,
    text: str,
    received_at: datetime,
    subscriber_id: int | None = None,
    message_id: str | None = None,
    attachments: Sequence[Incoming] = (),
    attachment_max_bytes: int,
    max_chars: int,
) -> tuple[CommentDraft, bool]:
    """Store a draft (and its acceptable attachments) once; returns (draft, created). A message
    delivered twice (same Message-ID) is stored once."""
    if call.status not in ACCEPTING:
        raise CommentsError(f"the call for comments on {call.symbol} is {call.status}")
    if message_id:
        found = session.exec(
            select(CommentDraft).where(CommentDraft.message_id == message_id[:250])
        ).first()
        if found is not None:
            return found, False
    kept, refused = _sort(attachments, attachment_max_bytes)
    if not text.strip() and not kept:
        raise CommentsError("the draft is empty: no text and no usable attachment")
    draft = CommentDraft(
        call_id=call.id or 0,
        subscriber_id=subscriber_id,
        sender=sender[:320],
        channel=channel,
        received_at=received_at,
        text=clean_text(text, max_chars),
        message_id=message_id[:250] if message_id else None,
        refused=[{"name": r.name, "reason": r.reason} for r in refused],
    )
    session.add(draft)
    session.flush()
    for attachment in kept:
        attachment.draft_id = draft.id or 0
        session.add(attachment)
    if call.status == CallStatus.OPEN:
        call.status, call.updated_at = CallStatus.DRAFTING, received_at
        session.add(call)
    session.flush()
    return draft, True


def _sort(
    items: Iterable[Incoming], max_bytes: int
) -> tuple[list[CommentAttachment], list[Refusal]]:
    kept: list[CommentAttachment] = []
    refused: list[Refusal] = []
    for item in items:
        checked = check_attachment(item, max_bytes)
        if isinstance(checked, Refusal):
            refused.append(checked)
        else:
            kept.append(checked)
    return kept, refused


def drafts_of(session: Session, call: CommentCall) -> list[CommentDraft]:
    return list(
        session.exec(
            select(CommentDraft)
            .where(CommentDraft.call_id == call.id)
            .order_by(col(CommentDraft.received_at), col(CommentDraft.id))
        ).all()
    )


def attachments_of(session: Session, draft: CommentDraft) -> list[CommentAttachment]:
    return list(
        session.exec(
            select(CommentAttachment)
            .where(CommentAttachment.draft_id == draft.id)
            .order_by(col(CommentAttachment.id))
        ).all()
    )
