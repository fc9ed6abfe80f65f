"""A message personalised in bytes is the message build_message writes for that reader."""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser

import pytest

from tbt_alert.mail.message import build_message
from tbt_alert.mail.prepared import MessageTemplate, base64_body, new_placeholder
from tbt_alert.mail.render import RenderedMessage
from tbt_alert.mail.transport import message_bytes

DATE = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
URL = "https://tbt.example/unsubscribe/"
TEXTS = [
    ("短", "a"),
    ("中文 " * 400 + "\n\n末行", "<p>" + "中文 & <b>x</b> " * 300 + "</p>"),
    ("line one\r\nline two\rthree\n", "<html>\n</html>"),
    ("", ""),
]


def parse(data: bytes):
    return BytesParser(policy=policy.default).parsebytes(data)


@pytest.mark.parametrize(("text", "html"), TEXTS)
def test_personalised_bytes_equal_the_general_build(text, html):
    ph, reply_ph = new_placeholder() + "0", new_placeholder() + "1"
    rendered = RenderedMessage(
        subject="[预警][鞋革] 欧盟 G/TBT/N/EU/1097：Footwear = ?utf-8? labelling",
        text=f"{text}\nUnsubscribe: {URL}{ph}\n",
        html=f'{html}<a href="{URL}{ph}">unsubscribe</a>',
        template_version="t",
    )
    mailto = "mailto:unsubscribe+{}@reply.tbt-alert.test"
    reply = "reply+{}@reply.tbt-alert.test"
    common = {
        "sender": "tbt-alert <alerts@tbt-alert.test>",
        "list_id": "tbt-alert warnings <warnings.tbt-alert.test>",
        "date": DATE,
    }
    template = MessageTemplate(
        rendered,
        placeholders={"unsubscribe": ph, "reply": reply_ph},
        unsubscribe_url=URL + ph,
        unsubscribe_mailto=mailto.format(ph),
        reply_to=reply.format(reply_ph),
        **common,
    )
    assert template.usable
    token, rcpt, mid = "abc123xyz" * 4 + "ab", "reader@example.com", "<tbt.0123abcd@tbt-alert.test>"
    reply_token = "r" * 42
    fast = template.personalise(
        recipient=rcpt, message_id=mid, values={"unsubscribe": token, "reply": reply_token}
    )
    assert fast is not None and fast.recipient == rcpt and fast.message_id == mid
    real = RenderedMessage(
        subject=rendered.subject,
        text=rendered.text.replace(ph, token),
        html=rendered.html.replace(ph, token),
        template_version="t",
    )
    slow = build_message(
        real,
        recipient=rcpt,
        message_id=mid,
        unsubscribe_url=URL + token,
        unsubscribe_mailto=mailto.format(token),
        reply_to=reply.format(reply_token),
        **common,
    )
    a, b = parse(fast.data), parse(message_bytes(slow))
    assert ph not in fast.data.decode("ascii") and reply_ph not in fast.data.decode("ascii")
    assert str(a["Reply-To"]) == reply.format(reply_token)
    assert [(k, str(v)) for k, v in a.items() if k != "Content-Type"] == [
        (k, str(v)) for k, v in b.items() if k != "Content-Type"
    ]
    for kind in ("plain", "html"):
        assert a.get_body((kind,)).get_content() == b.get_body((kind,)).get_content()
    assert base64_body(real.text) in message_bytes(slow)  # encoded as the email package does


def test_values_outside_the_fast_patterns_take_the_general_path():
    ph = new_placeholder()
    rendered = RenderedMessage("s", f"{URL}{ph}", f'<a href="{URL}{ph}">x</a>', "t")
    template = MessageTemplate(
        rendered,
        placeholders={"unsubscribe": ph},
        sender="alerts@tbt-alert.test",
        list_id="tbt-alert warnings <warnings.tbt-alert.test>",
        unsubscribe_url=URL + ph,
        unsubscribe_mailto=None,
        reply_to=None,
        date=DATE,
    )
    ok: dict = {
        "recipient": "a@example.com",
        "message_id": "<a@b.test>",
        "values": {"unsubscribe": "tok"},
    }
    assert template.personalise(**ok) is not None
    for key, bad in (
        ("recipient", "Name <a@example.com>"),
        ("recipient", "a@example.com\r\nBcc: x@y"),
        ("recipient", "用户@example.com"),
        ("message_id", "<a@b>\r\nBcc: x@y"),
        ("values", {"unsubscribe": "tok&x=1"}),
        ("values", {"unsubscribe": "tok", "reply": "r"}),
    ):
        assert template.personalise(**(ok | {key: bad})) is None
