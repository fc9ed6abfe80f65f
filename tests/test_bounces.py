"""Bounces: each message leaves with a VERP return path naming its delivery; DSNs (RFC 3464)
received for it count hard bounces, once per delivery, and suspend the address after N."""

from __future__ import annotations

import io
import json
import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tbt_alert.config import Config, MailConfig, WebConfig
from tbt_alert.mail.bounces import handle_bounce, read_report
from tbt_alert.mail.deliver import send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.status import DeliveryStatus, SubscriberStatus
from tbt_alert.store.tables import Delivery, Notification, Subscriber
from tbt_alert.tokens import Purpose, make_token
from tests.test_deliver import NAMES, NOW, SETTINGS, plan, seed

SECRET = "a-test-secret-of-some-length"
DOMAIN = "bounces.tbt-alert.test"
CONFIG = Config(web=WebConfig(secret_key=SECRET), mail=MailConfig(bounce_threshold=2))


def dsn(status: str, action: str = "failed", recipient: str = "gone@example.com") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        "To: bounce@bounces.tbt-alert.test\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n'
        "\r\n"
        "--B\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "Your message could not be delivered.\r\n"
        "--B\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        f"Action: {action}\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; 550 {status} user unknown\r\n"
        "--B--\r\n"
    ).encode()


def add_second_notification(session: Session, number: int = 1098) -> None:
    record = {
        "symbol": f"G/TBT/N/EU/{number}",
        "member": "European Union",
        "title": f"Draft regulation {number} on footwear soles",
        "distribution_date": "2026-11-21",
        "comment_deadline": "2027-01-20",
        "hs_codes": ["6406"],
    }
    import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="import", now=NOW)
    row = session.exec(select(Notification).where(Notification.symbol == record["symbol"])).one()
    row.classification = {"sectors": [{"sector": "footwear_leather", "tier": "alert"}]}
    row.alert_sectors, row.classified_hash = ["footwear_leather"], "x"
    session.add(row)
    session.commit()


def test_verp_dsns_count_once_per_delivery_and_suspend_after_n(engine, smtp_sink):
    settings = replace(SETTINGS, bounce_domain=DOMAIN, secret_key=SECRET)
    with Session(engine) as session:
        seed(session, "gone@example.com")
        add_second_notification(session)
        plan(session)
        with SmtpMailer(smtp_sink.url, timeout=5, sender=settings.sender) as mailer:
            counts = send_due(
                session, mailer, settings, now=NOW, sector_names=NAMES, rng=random.Random(1)
            )
        assert counts == {"sent": 2}
    senders = [r.mail_from for r in smtp_sink.received]
    assert all(s.startswith("bounce+") and s.endswith("@" + DOMAIN) for s in senders)
    assert len(set(senders)) == 2  # one return path per delivery
    first, second = (s.split("+", 1)[1].split("@", 1)[0] for s in senders)

    said = handle_bounce(engine, first, dsn("5.1.1"), CONFIG, now=NOW)
    assert said.startswith("hard bounce 5.1.1") and "1 of 2" in said
    again = handle_bounce(engine, first, dsn("5.1.1"), CONFIG, now=NOW)
    assert "already counted" in again
    soft = handle_bounce(engine, second, dsn("4.2.2", action="delayed"), CONFIG, now=NOW)
    assert soft.startswith("not counted: temporary failure 4.2.2")
    with Session(engine) as session:
        person = session.exec(select(Subscriber)).one()
        assert person.hard_bounces == 1 and person.status == SubscriberStatus.ACTIVE
    last = handle_bounce(engine, second, dsn("5.2.1"), CONFIG, now=NOW)
    assert "address suspended after 2 hard bounces" in last
    with Session(engine) as session:
        person = session.exec(select(Subscriber)).one()
        assert person.hard_bounces == 2 and person.status == SubscriberStatus.SUPPRESSED
        rows = session.exec(select(Delivery)).all()
        assert {d.status for d in rows} == {DeliveryStatus.BOUNCED}
        assert all(d.last_error and d.last_error.startswith("bounced 5.") for d in rows)


def test_forged_or_garbled_bounces_change_nothing(engine):
    with Session(engine) as session:
        seed(session, "a@example.com")
        plan(session)
    forged = make_token("another-secret-of-some-length", Purpose.BOUNCE, 1, now=NOW, ref_id=1)
    assert handle_bounce(engine, forged, dsn("5.1.1"), CONFIG, now=NOW).startswith(
        "ignored: bounce address forged"
    )
    assert handle_bounce(engine, "short", dsn("5.1.1"), CONFIG, now=NOW).startswith(
        "ignored: bounce address malformed"
    )
    with Session(engine) as session:
        assert session.exec(select(Subscriber)).one().hard_bounces == 0


def test_reading_reports():
    assert read_report(dsn("5.1.1")).hard
    assert not read_report(dsn("4.4.1", action="delayed")).hard
    assert read_report(b"\x00\xff garbage \r\n\r\n\xfe") is None
    assert read_report(b"Subject: hello\r\n\r\nJust a reply, thanks.\r\n") is None
    plain = b"Subject: failure\r\n\r\nRemote said: 550 5.1.1 <a@b>: Recipient address rejected\r\n"
    verdict = read_report(plain)
    assert verdict is not None and verdict.hard and verdict.status == "5.1.1"
    assert read_report(b"Subject: x\r\n\r\n" + b"550 5.1.1 " * 200_000) is not None  # bounded


def test_a_dsn_mailed_to_the_return_path_reaches_the_inbound_listener(engine, smtp_sink):
    """The whole path: a message leaves with its VERP return path; the report a remote server
    mails back to that address is taken by `tbt-alert inbound` and counted for that delivery."""
    import smtplib

    from tbt_alert.comments.inbound import Inbound, start_listener
    from tbt_alert.config import CommentsConfig
    from tests.support_smtp import free_port

    settings = replace(SETTINGS, bounce_domain=DOMAIN, secret_key=SECRET)
    with Session(engine) as session:
        seed(session, "gone@example.com")
        plan(session)
        with SmtpMailer(smtp_sink.url, timeout=5, sender=settings.sender) as mailer:
            send_due(session, mailer, settings, now=NOW, sector_names=NAMES, rng=random.Random(1))
    [return_path] = [r.mail_from for r in smtp_sink.received]
    inbound = Inbound(
        engine=engine,
        secret_key=SECRET,
        reply_domain="",
        comments=CommentsConfig(),
        clock=lambda: NOW,
        bounce_domain=DOMAIN,
        bounce_threshold=1,
    )
    port = free_port()
    controller = start_listener(inbound, host="127.0.0.1", port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as smtp:
            refused = smtp.sendmail("", [return_path], dsn("5.1.1"))
            assert refused == {}
            forged = return_path.replace("bounce+", "bounce+x", 1)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                smtp.sendmail("", [forged], dsn("5.1.1"))
    finally:
        controller.stop()
    with Session(engine) as session:
        person = session.exec(select(Subscriber)).one()
        assert person.hard_bounces == 1 and person.status == SubscriberStatus.SUPPRESSED
        assert session.exec(select(Delivery)).one().status == DeliveryStatus.BOUNCED


@pytest.mark.parametrize(
    ("quiet_days", "suspended"),
    [
        (7, False),  # the second message went 8 days without a bounce: the address works
        (0, False),  # acceptance alone proves it
        (30, True),  # not proven yet: both bounces count
    ],
)
def test_an_address_that_worked_again_forgets_its_old_bounces(
    engine, smtp_sink, quiet_days, suspended
):
    settings = replace(SETTINGS, bounce_domain=DOMAIN, secret_key=SECRET)
    config = replace(CONFIG, mail=MailConfig(bounce_threshold=2, bounce_quiet_days=quiet_days))
    with Session(engine) as session:
        seed(session, "flaky@example.com")
        add_second_notification(session, 1098)
        add_second_notification(session, 1099)
        plan(session)
        with SmtpMailer(smtp_sink.url, timeout=5, sender=settings.sender) as mailer:
            counts = send_due(
                session, mailer, settings, now=NOW, sector_names=NAMES, rng=random.Random(1)
            )
        assert counts == {"sent": 3}
    first, _accepted, third = (
        r.mail_from.split("+", 1)[1].split("@", 1)[0] for r in smtp_sink.received
    )
    assert "1 of 2" in handle_bounce(engine, first, dsn("5.1.1"), config, now=NOW)
    later = NOW + timedelta(days=8)  # the second message has gone 8 days without a bounce
    answer = handle_bounce(engine, third, dsn("5.1.1"), config, now=later)
    with Session(engine) as session:
        person = session.exec(select(Subscriber)).one()
    if suspended:
        assert "address suspended after 2 hard bounces" in answer
        assert (person.hard_bounces, person.status) == (2, SubscriberStatus.SUPPRESSED)
    else:
        assert "1 of 2" in answer
        assert (person.hard_bounces, person.status) == (1, SubscriberStatus.ACTIVE)
