"""Build a message once per (bulletin, language, sectors); personalise it per recipient in bytes.

Rendering and MIME building cost far more than sending, and every reader of one bulletin in one
language gets the same text but for their links. So :class:`MessageTemplate` builds the message
once through :func:`tbt_alert.mail.message.build_message` (every header check applies) with
random placeholders for the recipient, the Message-ID and the subscriber's link token, and keeps
its bytes. :meth:`MessageTemplate.personalise` then puts the real values in: each is checked
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


def new_placeholder() -> str:
    """A link token no scraped text can contain: random for each run."""
    return "tbtph" + secrets.token_hex(12)


def base64_body(text: str) -> bytes:
    """A text part's body as ``email`` writes it with ``cte="base64"``, CRLF line ends."""
    data = b"\n".join(text.encode("utf-8").splitlines()) + b"\n"
    lines = (
        binascii.b2a_base64(data[i : i + _BYTES_PER_LINE])
        for i in range(0, len(data), _BYTES_PER_LINE)
    )
    return b"".join(lines).replace(b"\n", b"\r\n")


class MessageTemplate:
    """One rendered message with placeholders, ready to be personalised per recipient."""

    def __init__(
        self,
        rendered: RenderedMessage,
        *,
        token: str,
        sender: str,
        list_id: str,
        unsubscribe_url: str,
        date: datetime,
    ) -> None:
        self.rendered, self.token = rendered, token
        self._to = f"to{token}@placeholder.invalid"
        self._id = f"<id{token}@placeholder.invalid>"
        msg = build_message(
            rendered,
            sender=sender,
            recipient=self._to,
            message_id=self._id,
            list_id=list_id,
            unsubscribe_url=unsubscribe_url,
            unsubscribe_mailto=None,
            date=date,
        )
        data = message_bytes(msg)
        head, sep, body = data.partition(b"\r\n\r\n")
        self._text, self._html = base64_body(rendered.text), base64_body(rendered.html)
        marker = token.encode()
        # personalising in bytes is only right when the message has exactly the expected shape
        self.usable = (
            bool(sep)
            and head.count(marker) == 3
            and marker not in body
            and body.count(self._text) == 1
            and body.count(self._html) == 1
        )
        self._head, self._body = head + sep, body

    def personalise(self, *, recipient: str, message_id: str, token: str) -> PreparedMessage | None:
        """The message for one recipient; None when a value needs the general path."""
        if not (
            self.usable
            and _ADDRESS.match(recipient)
            and _MSG_ID.match(message_id)
            and _TOKEN.match(token)
        ):
            return None
        head = (
            self._head.replace(self._to.encode(), recipient.encode())
            .replace(self._id.encode(), message_id.encode())
            .replace(self.token.encode(), token.encode())
        )
        text = self.rendered.text.replace(self.token, token)
        html = self.rendered.html.replace(self.token, token)
        body = self._body.replace(self._text, base64_body(text)).replace(
            self._html, base64_body(html)
        )
        return PreparedMessage(recipient=recipient, message_id=message_id, data=head + body)
