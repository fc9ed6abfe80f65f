"""Build a message once per (bulletin, language, sectors); personalise it per recipient in bytes.

Rendering and MIME building cost far more than sending, and every reader of one bulletin in one
language gets the same text but for their links. So :class:`MessageTemplate` builds the message
once through :func:`tbt_alert.mail.message.build_message` (every header check applies) with
random placeholders for the recipient, the Message-ID and each of the reader's signed tokens
(link pages, reply address), and keeps its bytes. :meth:`MessageTemplate.personalise` then puts the real values in: each is checked
against a strict pattern first (plain address, Message-ID, URL-safe token), and the two base64
body parts are encoded again from the personalised text exactly as the ``email`` package encodes
them (the constructor proves that on the placeholder text). Whatever does not fit those patterns
(or a template whose bytes are not of the expected shape) gives None, and the caller builds that
one message the general way. A header that cannot be written raises ``DeliveryError`` as
``build_message`` does.
"""

from __future__ import annotations

import binascii
import re
import secrets
from collections.abc import Mapping
from datetime import datetime

from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import RenderedMessage
from tbt_alert.mail.transport import PreparedMessage, message_bytes

_ADDRESS = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250})$"
)
_MSG_ID = re.compile(r"^<[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,150}@[A-Za-z0-9.-]{1,100}>$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_BYTES_PER_LINE = 57  # what email.contentmanager puts on one 76-character base64 line
_LINES = re.compile(b".{1,%d}" % (_BYTES_PER_LINE // 3 * 4))  # base64 has no line breaks


def new_placeholder() -> str:
    """A link token no scraped text can contain: random for each run."""
    return "tbtph" + secrets.token_hex(12)


def base64_body(text: str) -> bytes:
    """A text part's body as ``email`` writes it with ``cte="base64"``, CRLF line ends."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    # 57 is a multiple of 3: the whole encoded at once, cut every 76 characters, is the same
    encoded = binascii.b2a_base64(data, newline=False)
    return b"\r\n".join(_LINES.findall(encoded)) + b"\r\n"


class MessageTemplate:
    """One rendered message with placeholders, ready to be personalised per recipient."""

    def __init__(
        self,
        rendered: RenderedMessage,
        *,
        placeholders: Mapping[str, str],
        sender: str,
        list_id: str,
        unsubscribe_url: str,
        unsubscribe_mailto: str | None,
        reply_to: str | None,
        date: datetime,
    ) -> None:
        self.rendered, self.placeholders = rendered, dict(placeholders)
        marker = next(iter(self.placeholders.values()), "tbtph")
        self._to = f"to{marker}@placeholder.invalid"
        self._id = f"<id{marker}@placeholder.invalid>"
        msg = build_message(
            rendered,
            sender=sender,
            recipient=self._to,
            message_id=self._id,
            list_id=list_id,
            unsubscribe_url=unsubscribe_url,
            unsubscribe_mailto=unsubscribe_mailto,
            date=date,
            reply_to=reply_to,
        )
        data = message_bytes(msg)
        head, sep, body = data.partition(b"\r\n\r\n")
        self._text, self._html = base64_body(rendered.text), base64_body(rendered.html)
        # personalising in bytes is only right when the message has exactly the expected shape:
        # each placeholder whole in the head (never folded apart), none left in the encoded body
        self.usable = (
            bool(sep)
            and head.count(self._to.encode()) == 1
            and head.count(self._id.encode()) == 1
            and all(_TOKEN.match(p) for p in self.placeholders.values())
            and not any(p.encode() in body for p in self.placeholders.values())
            and body.count(self._text) == 1
            and body.count(self._html) == 1
            and body.find(self._text) < body.find(self._html)
        )
        self._head = head + sep
        # the body around its two encoded parts (text first: multipart/alternative order)
        before, _, rest = body.partition(self._text)
        between, _, after = rest.partition(self._html)
        self._body = (before, between, after)

    def fits(self, *, recipient: str, message_id: str) -> bool:
        """Whether :meth:`personalise` can write this recipient's message (given tokens of the
        expected form)."""
        return bool(self.usable and _ADDRESS.match(recipient) and _MSG_ID.match(message_id))

    def personalise(
        self, *, recipient: str, message_id: str, values: Mapping[str, str]
    ) -> PreparedMessage | None:
        """The message for one recipient, ``values`` giving each placeholder's real token by the
        same key; None when a value needs the general path."""
        if not (
            self.fits(recipient=recipient, message_id=message_id)
            and values.keys() == self.placeholders.keys()
            and all(_TOKEN.match(v) for v in values.values())
        ):
            return None
        head = self._head.replace(self._to.encode(), recipient.encode()).replace(
            self._id.encode(), message_id.encode()
        )
        text, html = self.rendered.text, self.rendered.html
        for key, placeholder in self.placeholders.items():
            head = head.replace(placeholder.encode(), values[key].encode())
            text, html = (
                text.replace(placeholder, values[key]),
                html.replace(placeholder, values[key]),
            )
        before, between, after = self._body
        body = b"".join((before, base64_body(text), between, base64_body(html), after))
        return PreparedMessage(recipient=recipient, message_id=message_id, data=head + body)
