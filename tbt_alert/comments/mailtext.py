"""What a reply to a warning says: the new text (quoted warning and reply headers cut, HTML made
text with scripts and quotes dropped), its attachments, and whether a machine sent it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import parseaddr

from tbt_alert.comments.drafts import Incoming
from tbt_alert.text.scan import fragment_lines

# A line that starts the quoted original in common mail programs (English and Chinese).
QUOTE_START = re.compile(
    r"^(?:On\b.{0,300}\bwrote:\s*$"
    r"|-{2,}\s*(?:Original Message|Forwarded message)\s*-{2,}"
    r"|-{2,}\s*原始邮件\s*-{2,}"
    r"|在.{0,300}写道[:：]?\s*$"
    r"|_{10,}\s*$"
    r"|(?:From|发件人)\s*[:：].*$"
    r"|-- $)",
    re.I,
)
AUTOMATIC_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_QUOTED_BLOCKS = frozenset({"blockquote"})


@dataclass
class ParsedMail:
    message_id: str | None
    sender: str
    subject: str
    text: str
    attachments: list[Incoming] = field(default_factory=list)
    automatic: bool = False
    raw: bytes = b""  # the message as received (a delivery report is read from it)


def html_to_text(markup: str) -> str:
    """A mail's HTML part as text (the one HTML-to-text, quoted blocks dropped), blank lines
    collapsed."""
    text = re.sub(r"[ \t\r\f\v]+", " ", fragment_lines(markup, drop=_QUOTED_BLOCKS))
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", "\n".join(line.strip() for line in text.split("\n")))


def strip_quoted(text: str) -> str:
    """The new text of a reply: from the top to the first line that starts the quoted original;
    lines quoted with '>' dropped."""
    kept = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if QUOTE_START.match(line.strip()) or QUOTE_START.match(line):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


def _decoded(part: Message) -> str:
    if isinstance(part, EmailMessage):
        try:
            content = part.get_content()
            if isinstance(content, str):
                return content
        except (LookupError, ValueError, AssertionError):
            pass
    payload = part.get_payload(decode=True)
    return payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""


def is_automatic(msg: Message) -> bool:
    """An auto-reply, a list or bulk message, or a bounce: never a comment, never answered."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in AUTOMATIC_PRECEDENCE
        or msg.get("X-Autoreply") is not None
        or msg.get("X-Autorespond") is not None
        or str(msg.get("Content-Type", "")).lower().startswith("multipart/report")
    )


def parse_mail(data: bytes) -> ParsedMail:
    msg = BytesParser(policy=policy.default).parsebytes(data)
    text = ""
    for kind in ("plain", "html"):  # the plain part, unless it says nothing
        body = msg.get_body(preferencelist=(kind,)) if isinstance(msg, EmailMessage) else None
        if body is not None and not text.strip():
            raw = _decoded(body)
            text = html_to_text(raw) if kind == "html" else raw
    attachments = []
    if isinstance(msg, EmailMessage):
        for part in msg.iter_attachments():
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                attachments.append(Incoming(part.get_filename() or "attachment", payload))
    message_id = str(msg.get("Message-ID", "")).strip() or None
    return ParsedMail(
        message_id=message_id,
        sender=parseaddr(str(msg.get("From", "")))[1],
        subject=str(msg.get("Subject", "")),
        text=strip_quoted(text),
        attachments=attachments,
        automatic=is_automatic(msg),
        raw=data,
    )
