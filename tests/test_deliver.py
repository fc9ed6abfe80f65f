"""Planning and sending against a real SMTP server on loopback, on SQLite and PostgreSQL."""

import io
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.alerts.subscribers import add_subscriber, set_status
from tbt_alert.mail.deliver import DeliverySettings, send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.status import DeliveryStatus, SubscriberStatus
from tbt_alert.store.tables import Delivery, Notification

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SECTORS = ["footwear_leather", "eyewear", "low_voltage_electrical"]
NAMES = {"footwear_leather": ("Footwear and leather", "鞋革"), "eyewear": ("Eyewear", "眼镜")}
SETTINGS = DeliverySettings(
    sender="alerts@tbt-alert.test", public_url="https://tbt.example/", domain="tbt-alert.test"
)


def seed(
    session: Session, *emails: str, sector: str = "footwear_leather", lang: str = "zh"
) -> None:
    record = {
        "symbol": "G/TBT/N/EU/1097",
        "member": "European Union",
        "title": "Draft regulation on the labelling of footwear",
        "distribution_date": "2026-11-20",
        "comment_deadline": "2027-01-19",
        "hs_codes": ["6403"],
    }
    import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="import", now=NOW)
    row = session.exec(select(Notification)).one()
    # what the classifier decided, stored as annotate() stores it
    row.classification = {
        "symbol": row.symbol,
        "horizontal": False,
        "sectors": [
            {
                "sector": "footwear_leather",
                "tier": "alert",
                "score": 0.97,
                "reasons": ["HS 6403 (strong match for footwear_leather)"],
                "risk": {"level": "red", "reasons": ["EU: main footwear market"]},
            }
        ],
    }
    row.alert_sectors, row.classified_hash = ["footwear_leather"], "x"
    session.add(row)
    for email in emails:
        add_subscriber(
            session,
            email,
            sectors=[sector],
            known_sectors=SECTORS,
            language=lang,
            confirmed=True,
            now=NOW,
        )
    session.commit()


def plan(session: Session, now: datetime = NOW):
    report = plan_warnings(session, now=now, window_days=45, domain="tbt-alert.test")
    session.commit()
    return report


def deliveries(session: Session) -> dict[str, Delivery]:
    from tbt_alert.store.tables import Subscriber

    rows = session.exec(
        select(Delivery, Subscriber).where(Delivery.subscriber_id == Subscriber.id)
    ).all()
    return {s.email: d for d, s in rows}


def send(session, sink, now=NOW):
    with SmtpMailer(sink.url, timeout=5, sender=SETTINGS.sender) as mailer:
        return send_due(
            session, mailer, SETTINGS, now=now, sector_names=NAMES, rng=random.Random(1)
        )


def test_planning_is_idempotent_and_the_database_refuses_duplicates(engine):
    with Session(engine) as session:
        seed(session, "a@example.com", "b@example.com")
        first, second = plan(session), plan(session)
        assert (len(first.bulletins), first.deliveries) == (1, 2)
        assert (len(second.bulletins), second.deliveries) == (0, 0)
        assert session.exec(select(func.count()).select_from(Delivery)).one() == 2
        d = session.exec(select(Delivery)).first()
        session.add(
            Delivery(
                bulletin_id=d.bulletin_id,
                subscriber_id=d.subscriber_id,
                message_id="<dup@x>",
                created_at=NOW,
            )
        )
        with pytest.raises(IntegrityError):
            session.commit()


def test_sent_once_one_recipient_each_and_a_rerun_sends_nothing(engine, smtp_sink):
    with Session(engine) as session:
        seed(session, "a@example.com", "b@example.com")
        plan(session)
        assert send(session, smtp_sink)["sent"] == 2
        assert send(session, smtp_sink) == {}
        plan(session)
        assert send(session, smtp_sink) == {}
    got = smtp_sink.received
    assert sorted(r.rcpt_tos for r in got) == [("a@example.com",), ("b@example.com",)]
    msg = got[0].message
    assert "G/TBT/N/EU/1097" in msg["Subject"] and "鞋革" in msg["Subject"]
    assert msg["To"] in ("a@example.com", "b@example.com") and msg["Cc"] is None
    # the seeded classification has reasons as an earlier version stored them (sentences):
    # they still display, as they are
    body = msg.get_body(("plain",)).get_content()
    assert "HS 6403 (strong match for footwear_leather)" in body
    assert "EU: main footwear market" in body


def test_temporary_failure_backs_off_then_succeeds(engine, smtp_sink):
    smtp_sink.handler.at_data("a@example.com", "451 4.3.0 Try again later")
    with Session(engine) as session:
        seed(session, "a@example.com")
        plan(session)
        assert send(session, smtp_sink) == {"failed_temp": 1}
        row = deliveries(session)["a@example.com"]
        assert row.attempts == 1 and row.next_attempt_at > NOW
        first_wait = row.next_attempt_at - NOW
        assert timedelta(minutes=4) <= first_wait <= timedelta(minutes=6)
        assert send(session, smtp_sink, NOW + timedelta(minutes=1)) == {}  # not due yet
        assert send(session, smtp_sink, NOW + timedelta(minutes=7)) == {"failed_temp": 1}
        second_wait = deliveries(session)["a@example.com"].next_attempt_at - (
            NOW + timedelta(minutes=7)
        )
        assert second_wait > first_wait  # exponential
        smtp_sink.handler.behave_normally("a@example.com")
        assert send(session, smtp_sink, NOW + timedelta(minutes=30)) == {"sent": 1}
        assert deliveries(session)["a@example.com"].status == DeliveryStatus.SENT
    assert len(smtp_sink.received) == 1


def test_permanent_failure_is_never_retried(engine, smtp_sink):
    smtp_sink.handler.at_rcpt("gone@example.com", "550 5.1.1 No such user")
    with Session(engine) as session:
        seed(session, "gone@example.com", "ok@example.com")
        plan(session)
        assert send(session, smtp_sink) == {"failed_perm": 1, "sent": 1}
        assert send(session, smtp_sink, NOW + timedelta(days=1)) == {}
        assert deliveries(session)["gone@example.com"].status == DeliveryStatus.FAILED_PERM


def test_unknown_outcome_is_retried_with_the_same_message_id(engine, smtp_sink):
    smtp_sink.handler.drop_after_data("a@example.com")
    with Session(engine) as session:
        seed(session, "a@example.com")
        plan(session)
        assert send(session, smtp_sink) == {"unknown": 1}
        smtp_sink.handler.behave_normally("a@example.com")
        assert send(session, smtp_sink, NOW + timedelta(hours=1)) == {"sent": 1}
    ids = [r.message["Message-ID"] for r in smtp_sink.received]
    assert len(ids) == 2 and ids[0] == ids[1]


def test_unsubscribed_before_sending_gets_nothing_others_do(engine, smtp_sink):
    with Session(engine) as session:
        seed(session, "stays@example.com", "leaves@example.com")
        plan(session)
        set_status(session, "leaves@example.com", SubscriberStatus.UNSUBSCRIBED)
        session.commit()
        assert send(session, smtp_sink) == {"sent": 1, "skipped": 1}
    assert [r.rcpt_tos for r in smtp_sink.received] == [("stays@example.com",)]


def test_never_sent_late(engine, smtp_sink):
    with Session(engine) as session:
        seed(session, "a@example.com", "b@example.com")
        plan(session)
        assert send(session, smtp_sink, NOW + timedelta(days=8)) == {"expired": 2}
    assert smtp_sink.received == []


def test_pending_subscribers_and_stale_notifications_are_not_planned(engine):
    with Session(engine) as session:
        seed(session)
        add_subscriber(
            session,
            "pending@example.com",
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            now=NOW,
        )
        session.commit()
        assert plan(session).deliveries == 0
        add_subscriber(
            session,
            "active@example.com",
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            confirmed=True,
            now=NOW,
        )
        session.commit()
        assert plan(session, now=NOW + timedelta(days=90)).deliveries == 0  # deadline passed
        assert plan(session).deliveries == 1


def test_mail_server_down_nothing_marked_sent_and_sending_pauses(engine, smtp_sink):
    with Session(engine) as session:
        seed(session, *(f"u{i}@example.com" for i in range(5)))
        plan(session)
        smtp_sink.stop()
        counts = send(session, smtp_sink)
        assert counts["failed_temp"] == SETTINGS.breaker_threshold and counts["paused"] == 2
        assert all(d.status != DeliveryStatus.SENT for d in deliveries(session).values())
        smtp_sink.start()
        assert send(session, smtp_sink, NOW + timedelta(hours=2))["sent"] == 5


def test_each_reader_gets_their_own_links_and_id_across_batches(engine, smtp_sink):
    """Each message is personalised while the server reads the one before: every reader's
    links must still be their own, in both languages and across batch boundaries."""
    import re
    from dataclasses import replace

    from tbt_alert.tokens import Purpose, read_token

    zh = [f"zh{i}@example.com" for i in range(4)]
    en = [f"en{i}@example.com" for i in range(3)]
    with Session(engine) as session:
        seed(session, *zh)
        for email in en:
            add_subscriber(
                session,
                email,
                sectors=["footwear_leather"],
                known_sectors=SECTORS,
                language="en",
                confirmed=True,
                now=NOW,
            )
        session.commit()
        plan(session)
        planned = {
            email: (d.subscriber_id, d.message_id) for email, d in deliveries(session).items()
        }
        settings = replace(SETTINGS, batch=3)
        with SmtpMailer(smtp_sink.url, timeout=5, sender=SETTINGS.sender) as mailer:
            counts = send_due(session, mailer, settings, now=NOW, sector_names=NAMES)
    assert counts["sent"] == 7
    seen = set()
    for received in smtp_sink.received:
        (email,) = received.rcpt_tos
        msg = received.message
        subscriber_id, message_id = planned[email]
        assert msg["To"] == email and msg["Message-ID"] == message_id
        links = re.findall(
            r"https://tbt\.example/(unsubscribe|preferences)/([a-z0-9]+)",
            msg.get_body(("plain",)).get_content(),
        )
        assert {page for page, _ in links} == {"unsubscribe", "preferences"}
        for page, token in links:
            purpose = Purpose.UNSUBSCRIBE if page == "unsubscribe" else Purpose.PREFERENCES
            assert read_token(SETTINGS.secret_key, token, purpose, now=NOW).subscriber_id == (
                subscriber_id
            )
        assert ("鞋革" in msg["Subject"]) == (email in zh)
        seen.add(email)
    assert seen == set(zh + en)
