"""Message conformance (headers, encodings, List-Unsubscribe), checked on what a real SMTP server
received."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.errors import DeliveryError
from tbt_alert.mail.mailer import SendStatus, SmtpMailer
from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import RenderedMessage, render_warning
from tests.support_smtp import smtp_sink
from tests.test_render import ECU_386

__all__ = ["smtp_sink"]

SENT_AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
LONG_UNSUB = "https://tbt.example.org/unsubscribe/" + "Ab3_-" * 40


def build(recipient: str = "buyer@example.com", **overrides):
    rendered = overrides.pop("rendered", None) or render_warning(ECU_386, "zh")
    args: dict[str, Any] = dict(
        sender="温州 TBT 预警 <alerts@tbt.example.org>",
        recipient=recipient,
        message_id=make_message_id("bulletin:42", recipient, "tbt.example.org"),
        list_id="tbt-alert warnings <warnings.tbt.example.org>",
        unsubscribe_url=LONG_UNSUB,
        unsubscribe_mailto="mailto:unsubscribe@tbt.example.org?subject=u",
        date=SENT_AT,
    )
    args.update(overrides)
    return build_message(rendered, **args)


def test_messages_received_by_the_sink_conform(smtp_sink):
    recipients = ["buyer@example.com", "其他 <other@example.com>", "third@example.com"]
    ids = [make_message_id("bulletin:42", r, "tbt.example.org") for r in recipients]
    with SmtpMailer(smtp_sink.url, sender="alerts@tbt.example.org", timeout=5) as mailer:
        for r in recipients:
            assert mailer.send(build(r)).status == SendStatus.SENT
    assert len(smtp_sink.received) == 3
    rendered = render_warning(ECU_386, "zh")
    addrs = ["buyer@example.com", "other@example.com", "third@example.com"]
    for got, addr, message_id in zip(smtp_sink.received, addrs, ids, strict=True):
        raw_headers = got.data.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit clean
        msg = got.message
        # multipart/alternative: text/plain first, then text/html, both UTF-8
        assert msg.get_content_type() == "multipart/alternative"
        parts = list(msg.iter_parts())
        assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
        assert [p.get_content_charset() for p in parts] == ["utf-8", "utf-8"]
        assert parts[0].get_content() == rendered.text and parts[1].get_content() == rendered.html
        # non-ASCII subject is RFC 2047-encoded and decodes back
        assert re.search(r"^Subject: =\?utf-8\?[bq]\?", raw_headers, re.M | re.I)
        assert msg["Subject"] == rendered.subject
        assert parsedate_to_datetime(msg["Date"]) == SENT_AT
        assert msg["Message-ID"] == message_id
        assert msg["List-Id"] == "tbt-alert warnings <warnings.tbt.example.org>"
        assert msg["List-Unsubscribe"] == (
            f"<{LONG_UNSUB}>, <mailto:unsubscribe@tbt.example.org?subject=u>"
        )
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        # exactly one recipient, and nobody else's address anywhere
        assert [a.addr_spec for a in msg["To"].addresses] == [addr]
        assert got.rcpt_tos == (addr,)
        others = {"buyer@example.com", "other@example.com", "third@example.com"} - {addr}
        assert not any(o.encode() in got.data for o in others)
        assert all(len(line) <= 998 for line in got.data.split(b"\r\n"))


def test_message_id_is_deterministic_and_distinct():
    a = make_message_id("bulletin:42", "sub:7", "tbt.example.org")
    assert a == make_message_id("bulletin:42", "sub:7", "tbt.example.org")
    assert re.fullmatch(r"<tbt\.[0-9a-f]{32}@tbt\.example\.org>", a)
    assert a != make_message_id("bulletin:42", "sub:8", "tbt.example.org")
    # no clash from plain concatenation of the two keys
    assert a != make_message_id("bulletin:4", "2|sub:7", "tbt.example.org")
    with pytest.raises(DeliveryError):
        make_message_id("b", "s", "evil.example>\r\nBcc: x@y")


def test_control_characters_in_subject_and_names_are_cleaned():
    rendered = RenderedMessage("Subject\r\nBcc: victim@example.com\x00", "t\n", "<p>h</p>\n", "v")
    msg = build(rendered=rendered, sender="Evil\r\n Name\x00 <alerts@tbt.example.org>")
    assert "Bcc" not in msg
    assert msg["Subject"] == "Subject Bcc: victim@example.com"
    assert msg["From"].addresses[0].display_name == "Evil Name"
    assert msg["From"].addresses[0].addr_spec == "alerts@tbt.example.org"
    with pytest.raises(DeliveryError):  # a group in the name is refused, not turned into a header
        build(sender="Evil\r\nBcc: x@y <alerts@tbt.example.org>")


@pytest.mark.parametrize(
    "recipient",
    ["a@example.com, b@example.com", "not-an-address", "", "a@example.com\r\nBcc: b@example.com"],
)
def test_exactly_one_valid_recipient(recipient):
    with pytest.raises(DeliveryError):
        build(recipient)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unsubscribe_url", "javascript:alert(1)"),
        ("unsubscribe_url", "https://x.example/<a>"),
        ("unsubscribe_mailto", "mailto:a@b>\r\nX: y"),
        ("unsubscribe_mailto", "https://not-mailto.example/"),
        ("message_id", "no-brackets@x"),
        ("list_id", "spaces in id"),
        ("date", datetime(2026, 3, 2, 8, 30)),  # naive
    ],
)
def test_invalid_header_inputs_are_refused(field, value):
    with pytest.raises(DeliveryError):
        build(**{field: value})


def test_date_keeps_its_offset():
    shanghai = datetime(2026, 3, 2, 16, 30, tzinfo=timezone(timedelta(hours=8)))
    msg = build(date=shanghai)
    assert msg["Date"] == "Mon, 02 Mar 2026 16:30:00 +0800"
    assert parsedate_to_datetime(msg["Date"]) == SENT_AT


def test_mailto_is_optional():
    assert build(unsubscribe_mailto=None)["List-Unsubscribe"] == f"<{LONG_UNSUB}>"


BANNED = {
    "email.mime / MIMEText (string-built MIME)": re.compile(r"email\.mime|MIMEText|MIMEMultipart"),
    "a header assigned outside message.py": re.compile(
        r"""\[\s*["'](Subject|From|To|Cc|Bcc|Reply-To|Message-ID|List-[A-Za-z-]+)["']\s*\]\s*="""
    ),
    "smtplib outside mailer.py": re.compile(r"\bsmtplib\b"),
}
ALLOWED = {
    "a header assigned outside message.py": "message.py",
    "smtplib outside mailer.py": "mailer.py",
}


def test_headers_are_built_only_by_the_message_builder():
    package = Path(__file__).parent.parent / "tbt_alert"
    offences = [
        f"{path.name}: {what}"
        for path in sorted(package.rglob("*.py"))
        for what, pattern in BANNED.items()
        if path.name != ALLOWED.get(what) and pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert offences == []
