"""Build the MIME message for one rendered email and one recipient.

Headers are set only here, only through ``email.message.EmailMessage`` (whose policy rejects CR/LF),
and every caller-supplied string goes through :func:`header_text` first: control characters and
line breaks become spaces, and RFC 2047 encoded-word markers are broken, because the ``email``
package decodes ``=?utf-8?b?...?=`` in a value it is given, and a decoded CR/LF would become a
new header (``Bcc:``) or end the header block. A message whose headers still fail the final check
raises ``DeliveryError``; the sender fails that one delivery permanently. The message is
multipart/alternative (text/plain, then text/html, both UTF-8) and carries the list headers of
RFC 2369/2919 and the RFC 8058 one-click unsubscribe header.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime, getaddresses
from typing import Any

from tbt_alert.errors import DeliveryError
from tbt_alert.mail.render import RenderedMessage, clean_line, safe_url

HEADER_MAX = 900  # characters: an unfolded header line stays below SMTP's 998-octet limit
_MSG_ID = re.compile(r"^<[!-;=?-~]+@[!-;=?-~]+>$")  # printable ASCII, no '<', '>' or spaces
_ENCODED_WORD_MARK = re.compile(r"=\?|\?=")
_MAILTO = re.compile(r"^mailto:[!-;=?-~]+$")
# Headers that hold URIs or ids: never RFC 2047-encoded (see MessagePolicy).
_VERBATIM = frozenset({"list-unsubscribe", "list-unsubscribe-post", "list-id", "message-id"})


class MessagePolicy(EmailPolicy):
    """``email.policy.default``, but URI and id headers are written as they are.

    CPython's folder turns any token longer than a line into RFC 2047 encoded words, which makes a
    long ``List-Unsubscribe`` URL unusable. These headers are ASCII, cleaned and shorter than
    ``HEADER_MAX``, so one unfolded line is valid (RFC 5322 allows up to 998 octets).
    """

    def fold(self, name: str, value: Any) -> str:
        text = str(value)
        if name.lower() in _VERBATIM and text.isascii():
            return f"{name}: {text}{self.linesep}"
        return super().fold(name, value)

    def fold_binary(self, name: str, value: Any) -> bytes:
        text = str(value)
        if name.lower() in _VERBATIM and text.isascii():
            return f"{name}: {text}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


POLICY = MessagePolicy()


def header_text(value: str, limit: int = HEADER_MAX) -> str:
    """Hostile text made safe for one header: one line, no encoded-word syntax (``=?``/``?=``
    become ``= ?``/``? =``), so nothing can be decoded into a line break or a new header."""
    line = clean_line(value, limit=limit)
    while _ENCODED_WORD_MARK.search(line):
        line = _ENCODED_WORD_MARK.sub(lambda m: f"{m.group(0)[0]} {m.group(0)[1]}", line)
    return line


def check_headers(msg: EmailMessage) -> None:
    """Every header one line, exactly one To, no Cc/Bcc: else ``DeliveryError`` naming it."""
    for name, value in msg.items():
        if "\r" in str(value) or "\n" in str(value):
            raise DeliveryError(f"header {name} would hold a line break")
    names = [k.lower() for k in msg]
    if names.count("to") != 1 or {"cc", "bcc"} & set(names):
        raise DeliveryError("headers would name more than the one recipient")


def parse_mailbox(value: str, what: str) -> Address:
    """Exactly one mailbox (``a@b`` or ``Name <a@b>``); its display name cleaned."""
    pairs = getaddresses([clean_line(value, limit=HEADER_MAX)])
    if len(pairs) != 1 or "@" not in pairs[0][1]:
        raise DeliveryError(f"{what} must be exactly one email address")
    name, addr_spec = pairs[0]
    try:
        return Address(display_name=header_text(name, limit=100), addr_spec=addr_spec)
    except (ValueError, IndexError) as e:
        raise DeliveryError(f"{what} is not a valid email address") from e


def list_unsubscribe_value(url: str, mailto: str | None) -> str:
    """``<https://…>, <mailto:…>`` after checking both URIs."""
    if not safe_url(url) or "<" in url or ">" in url or len(url) > HEADER_MAX // 2:
        raise DeliveryError("unsubscribe URL must be an absolute http(s) URL of sane length")
    value = f"<{url}>"
    if mailto is not None:
        if not _MAILTO.match(mailto) or len(mailto) > HEADER_MAX // 4:
            raise DeliveryError("unsubscribe mailto must be a plain mailto: URI")
        value += f", <{mailto}>"
    return value


def _list_id_value(list_id: str) -> str:
    value = header_text(list_id)
    if "<" not in value:
        value = f"<{value}>"
    if not re.search(r"<[A-Za-z0-9.-]+>$", value) or not value.isascii():
        raise DeliveryError(f"invalid List-Id {list_id!r}")
    return value


def _check_date(date: datetime) -> None:
    if date.tzinfo is None or date.utcoffset() is None:
        raise DeliveryError("message Date must be timezone-aware")


def build_message(
    rendered: RenderedMessage,
    *,
    sender: str,
    recipient: str,
    message_id: str,
    list_id: str,
    unsubscribe_url: str,
    unsubscribe_mailto: str | None,
    date: datetime,
    reply_to: str | None = None,
) -> EmailMessage:
    """One message to one recipient: multipart/alternative, text/plain first, UTF-8."""
    if not _MSG_ID.match(message_id):
        raise DeliveryError(f"invalid Message-ID {message_id!r}")
    _check_date(date)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = header_text(rendered.subject)
    msg["From"] = parse_mailbox(sender, "sender")
    msg["To"] = parse_mailbox(recipient, "recipient")
    if reply_to is not None:
        msg["Reply-To"] = parse_mailbox(reply_to, "reply-to")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["List-Id"] = _list_id_value(list_id)
    msg["List-Unsubscribe"] = list_unsubscribe_value(unsubscribe_url, unsubscribe_mailto)
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    # base64 keeps the message 7-bit clean for any relay (no 8BITMIME needed); compact for Chinese.
    msg.set_content(rendered.text, subtype="plain", charset="utf-8", cte="base64")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8", cte="base64")
    check_headers(msg)
    return msg


def build_notice(
    *,
    subject: str,
    text: str,
    html: str | None = None,
    sender: str,
    recipient: str,
    message_id: str,
    date: datetime,
    reply_to: str | None = None,
    unsubscribe_url: str | None = None,
) -> EmailMessage:
    """A notice to one recipient (a reminder, a confirmation request; HTML optional): the same cleaned headers as
    :func:`build_message`, a List-Unsubscribe only when the recipient is a subscriber."""
    if not _MSG_ID.match(message_id):
        raise DeliveryError(f"invalid Message-ID {message_id!r}")
    _check_date(date)
    msg = EmailMessage(policy=POLICY)
    msg["Subject"] = clean_line(subject)
    msg["From"] = parse_mailbox(sender, "sender")
    msg["To"] = parse_mailbox(recipient, "recipient")
    if reply_to is not None:
        msg["Reply-To"] = parse_mailbox(reply_to, "reply-to")
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    if unsubscribe_url is not None:
        msg["List-Unsubscribe"] = list_unsubscribe_value(unsubscribe_url, None)
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(text, subtype="plain", charset="utf-8", cte="base64")
    if html is not None:
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    return msg
