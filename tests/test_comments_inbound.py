"""Replies to warnings over SMTP to the running listener (aiosmtpd on loopback), on SQLite and
PostgreSQL: matched by the signed Reply-To token, quotes stripped, HTML made text, attachments
checked by content; forged or expired tokens and closed calls refused with 550, nothing stored."""

import io
import smtplib
import zipfile
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr

import pytest
from docx import Document
from sqlmodel import Session, select

from tbt_alert.comments.calls import find_call, move_to
from tbt_alert.comments.inbound import Inbound, start_listener
from tbt_alert.config import CommentsConfig
from tbt_alert.status import CallStatus, SubscriberStatus
from tbt_alert.store.tables import CommentAttachment, CommentDraft, Subscriber
from tbt_alert.tokens import Purpose, make_token
from tests.support_comments import NOW, SECRET, SYMBOL, add_people, seed_notification, warn
from tests.support_smtp import free_port

DOMAIN = "reply.tbt.test"
LATER = NOW + timedelta(days=2)


@pytest.fixture
def world(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com", "wang@example.com")
        warn(session, smtp_sink.url, reply_domain=DOMAIN)
    warnings = {parseaddr(m["To"])[1]: m for m in smtp_sink.handler.messages()}
    inbound = Inbound(
        engine=engine,
        secret_key=SECRET,
        reply_domain=DOMAIN,
        comments=CommentsConfig(attachment_max_bytes=65536),
        clock=lambda: LATER,
    )
    port = free_port()
    controller = start_listener(inbound, host="127.0.0.1", port=port)
    try:
        yield engine, warnings, port
    finally:
        controller.stop()


def reply(to, text, *, message_id="<r1@example.com>", html=None, attachments=(), **headers):
    """A reply as a mail program writes it; ``text=None`` with ``html`` gives an HTML-only one."""
    msg = EmailMessage()
    msg["From"] = "Chen <chen@example.com>"
    msg["To"] = to
    msg["Subject"] = "Re: TBT warning"
    msg["Message-ID"] = message_id
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if text is not None:
        msg.set_content(text)
    if html is not None and text is None:
        msg.set_content(html, subtype="html")
    elif html is not None:
        msg.add_alternative(html, subtype="html")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg


def send(port, msg, *, lmtp=False):
    client = (
        smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=10)
    )
    with client:
        return client.send_message(msg)


def drafts(engine):
    with Session(engine) as session:
        return list(session.exec(select(CommentDraft)).all())


QUOTED = (
    "Article 5 should accept sewn-in labels; permanent printing costs us 3%.\n\n"
    "Chen Wei\n\n"
    "On Thu, 26 Nov 2026 at 08:00, tbt-alert <alerts@tbt-alert.test> wrote:\n"
    "> G/TBT/N/EU/1097 Draft regulation on the labelling of footwear\n"
    "> Comments due 2027-01-19\n"
)


def test_a_reply_becomes_one_draft_of_the_right_call_once(world):
    engine, warnings, port = world
    reply_to = warnings["chen@example.com"]["Reply-To"]
    local, _, domain = parseaddr(str(reply_to))[1].partition("@")
    assert domain == DOMAIN and local.startswith("reply+") and len(local) == len("reply+") + 42
    assert warnings["wang@example.com"]["Reply-To"] != reply_to  # one address per subscriber
    msg = reply(str(reply_to), QUOTED)
    assert send(port, msg) == {}
    assert send(port, msg) == {}  # the same message delivered twice
    stored = drafts(engine)
    assert len(stored) == 1
    draft = stored[0]
    assert (draft.sender, draft.channel, draft.message_id) == (
        "chen@example.com",
        "email",
        "<r1@example.com>",
    )
    assert (
        draft.text
        == "Article 5 should accept sewn-in labels; permanent printing costs us 3%.\n\nChen Wei"
    )
    assert draft.received_at == LATER
    with Session(engine) as session:
        assert find_call(session, SYMBOL).status == CallStatus.DRAFTING


def docx_bytes(text):
    doc = Document()
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_html_becomes_text_and_attachments_are_checked_by_content(world):
    engine, warnings, port = world
    to = str(warnings["wang@example.com"]["Reply-To"])
    html = (
        "<html><head><style>p{color:red}</style></head><body><p>We support the measure&nbsp;"
        "but need <b>12 months</b>.</p><script>alert('x')</script>"
        "<blockquote>G/TBT/N/EU/1097 quoted warning</blockquote></body></html>"
    )
    zip_not_docx = io.BytesIO()
    with zipfile.ZipFile(zip_not_docx, "w") as z:
        z.writestr("a.txt", "x")
    msg = reply(
        to,
        None,
        message_id="<r2@example.com>",
        html=html,
        attachments=[
            ("position.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
            ("notes.docx", docx_bytes("Clause 3: too strict")),
            ("invoice.pdf", b"MZ\x90\x00\x03" + b"\x00" * 50),  # a program called .pdf
            ("archive.docx", zip_not_docx.getvalue()),  # a zip that is no Word document
            ("big.txt", b"a" * 70000),  # over the 65536-byte cap
        ],
    )
    send(port, msg)
    [draft] = drafts(engine)
    assert "We support the measure" in draft.text and "12 months" in draft.text
    assert "alert(" not in draft.text and "color:red" not in draft.text
    assert "<" not in draft.text and "quoted warning" not in draft.text
    with Session(engine) as session:
        kept = session.exec(select(CommentAttachment)).all()
    assert sorted((a.name, a.content_type) for a in kept) == [
        ("notes.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("position.pdf", "application/pdf"),
    ]
    reasons = {r["name"]: r["reason"] for r in draft.refused}
    assert set(reasons) == {"invoice.pdf", "archive.docx", "big.txt"}
    assert "not a Word" in reasons["invoice.pdf"] and "larger than 65536" in reasons["big.txt"]


def test_forged_expired_foreign_and_closed_are_refused_with_550_and_nothing_is_stored(world):
    engine, warnings, port = world
    good = parseaddr(str(warnings["chen@example.com"]["Reply-To"]))[1]
    local, _, _ = good.partition("@")
    flipped = local[:-1] + ("a" if local[-1] != "a" else "b")
    with Session(engine) as session:
        chen = session.exec(select(Subscriber).where(Subscriber.email == "chen@example.com")).one()
        call = find_call(session, SYMBOL)
    expired = make_token(
        SECRET, Purpose.REPLY, chen.id, now=LATER - timedelta(days=200), ref_id=call.notification_id
    )
    cases = {
        f"{flipped}@{DOMAIN}": "forged",
        f"reply+{expired}@{DOMAIN}": "expired",
        f"reply+{'x' * 42}@{DOMAIN}": "token",
        f"someone@{DOMAIN}": "no reply token",
        f"{local}@elsewhere.test": "relaying denied",
    }
    for address, reason in cases.items():
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            send(port, reply(address, "text", message_id=f"<{reason}@x>"))
        code, text = caught.value.recipients[address]
        assert code == 550 and reason in text.decode(), (address, text)
    with Session(engine) as session:
        move_to(session, find_call(session, SYMBOL), CallStatus.CLOSED, now=LATER)
        session.commit()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send(port, reply(good, "too late"))
    assert b"is closed" in caught.value.recipients[good][1]
    assert drafts(engine) == []


def test_auto_replies_are_swallowed_and_mailto_unsubscribes(world):
    engine, warnings, port = world
    to = str(warnings["chen@example.com"]["Reply-To"])
    assert send(port, reply(to, "I am out of the office", Auto_Submitted="auto-replied")) == {}
    assert send(port, reply(to, "list", message_id="<b@x>", Precedence="bulk")) == {}
    assert drafts(engine) == []
    with Session(engine) as session:
        wang = session.exec(select(Subscriber).where(Subscriber.email == "wang@example.com")).one()
    # the warning's List-Unsubscribe offers a mailto: address of the listener
    header = str(warnings["wang@example.com"]["List-Unsubscribe"])
    mailto = header.split("<mailto:")[1].rstrip(">")
    assert mailto.startswith("unsubscribe+") and mailto.endswith(f"@{DOMAIN}")
    assert send(port, reply(mailto, "unsubscribe", message_id="<u@x>")) == {}
    with Session(engine) as session:
        assert session.get(Subscriber, wang.id).status == SubscriberStatus.UNSUBSCRIBED
    assert drafts(engine) == []


def test_lmtp_listener_stores_the_reply(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com")
        warn(session, smtp_sink.url, reply_domain=DOMAIN)
    [warning] = smtp_sink.handler.messages()
    inbound = Inbound(engine, SECRET, DOMAIN, CommentsConfig(), lambda: LATER)
    port = free_port()
    controller = start_listener(inbound, host="127.0.0.1", port=port, lmtp=True)
    try:
        assert send(port, reply(str(warning["Reply-To"]), QUOTED), lmtp=True) == {}
    finally:
        controller.stop()
    assert [d.sender for d in drafts(engine)] == ["chen@example.com"]


def test_an_oversize_message_is_refused_with_552(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com")
        warn(session, smtp_sink.url, reply_domain=DOMAIN)
    [warning] = smtp_sink.handler.messages()
    inbound = Inbound(
        engine, SECRET, DOMAIN, CommentsConfig(message_max_bytes=20_000), lambda: LATER
    )
    port = free_port()
    controller = start_listener(inbound, host="127.0.0.1", port=port)
    try:
        big = reply(str(warning["Reply-To"]), "x" * 50_000)
        with pytest.raises(smtplib.SMTPException) as caught:
            send(port, big)
        assert getattr(caught.value, "smtp_code", None) == 552
    finally:
        controller.stop()
    assert drafts(engine) == []


def test_the_inbound_command_serves_until_sigterm(db_url, tmp_path, smtp_sink):
    import signal
    import socket
    import subprocess
    import sys
    import time

    from tbt_alert.store.engine import make_engine, upgrade

    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com")
        warn(session, smtp_sink.url, reply_domain=DOMAIN)
    [warning] = smtp_sink.handler.messages()
    config = tmp_path / "tbt.toml"
    config.write_text(
        f'[database]\nurl = "{db_url}"\n[mail]\nreply_domain = "{DOMAIN}"\n'
        f'[web]\nsecret_key = "{SECRET}"\n',
        encoding="utf-8",
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tbt_alert.cli.main import main; main()",
            "--config",
            str(config),
            "inbound",
            "--port",
            str(port),
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        msg = reply(str(warning["Reply-To"]), "Clause 4.2 is unclear.")
        assert send(port, msg) == {}
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert f"listening on 127.0.0.1:{port} (SMTP) for @{DOMAIN}" in err
    assert [d.text for d in drafts(engine)] == ["Clause 4.2 is unclear."]
    engine.dispose()
