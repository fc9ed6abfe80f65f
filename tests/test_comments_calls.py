"""Calls for comments follow warnings and addenda, on SQLite and PostgreSQL."""

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from tbt_alert.comments.calls import CommentsError, find_call, move_to, open_calls
from tbt_alert.status import CallStatus
from tbt_alert.store.tables import CommentCall
from tests.support_comments import NOW, SYMBOL, add_people, ingest, seed_notification, warn


def test_no_warning_no_call_then_one_call_per_warned_measure(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        assert open_calls(session, now=NOW, lead_days=10).opened == []  # nobody warned yet
        add_people(session, "a@example.com", "b@example.com")
        report = warn(session, smtp_sink.url)
        assert report.opened == [SYMBOL]
        call = session.exec(select(CommentCall)).one()
        assert call.wto_deadline == date(2027, 1, 19)
        assert call.internal_deadline == date(2027, 1, 9)
        assert call.status == CallStatus.OPEN
        assert open_calls(session, now=NOW, lead_days=10).opened == []  # rerun: nothing new
        assert len(session.exec(select(CommentCall)).all()) == 1


def test_an_addendum_extending_the_period_moves_both_deadlines(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "a@example.com")
        warn(session, smtp_sink.url)
        ingest(
            session,
            {
                "symbol": f"{SYMBOL}/Add.1",
                "member": "European Union",
                "title": "Draft regulation on the labelling of footwear",
                "distribution_date": "2026-12-20",
                "description": "The European Union informs that the deadline for comments has "
                "been extended to 19 March 2027.",
            },
        )
        later = NOW + timedelta(days=25)
        report = open_calls(session, now=later, lead_days=10)
        session.commit()
        assert [(m.symbol, m.old, m.new) for m in report.moved] == [
            (SYMBOL, date(2027, 1, 19), date(2027, 3, 19))
        ]
        call = find_call(session, f"{SYMBOL}/Add.1")  # any document of the measure finds it
        assert (call.wto_deadline, call.internal_deadline) == (date(2027, 3, 19), date(2027, 3, 9))


def test_a_withdrawal_withdraws_the_call_and_the_workflow_is_enforced(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "a@example.com")
        warn(session, smtp_sink.url)
        call = find_call(session, SYMBOL)
        move_to(session, call, CallStatus.DRAFTING, now=NOW)
        with pytest.raises(CommentsError, match="cannot become answered"):
            move_to(session, call, CallStatus.ANSWERED, now=NOW)
        ingest(
            session,
            {
                "symbol": f"{SYMBOL}/Add.2",
                "member": "European Union",
                "title": "Draft regulation on the labelling of footwear",
                "distribution_date": "2027-01-05",
                "description": "The notified draft has been withdrawn on 2 January 2027.",
            },
        )
        report = open_calls(session, now=NOW + timedelta(days=40), lead_days=10)
        assert report.withdrawn == [SYMBOL]
        assert find_call(session, SYMBOL).status == CallStatus.WITHDRAWN
        with pytest.raises(CommentsError, match=r"no notification G/TBT/N/EU/1$"):
            find_call(session, "G/TBT/N/EU/1")


def test_a_digest_that_listed_the_notification_opens_the_call_too(engine, smtp_sink):
    import random
    from zoneinfo import ZoneInfo

    from tbt_alert.alerts.digest import plan_digests
    from tbt_alert.alerts.subscribers import add_subscriber
    from tbt_alert.mail.deliver import send_due
    from tbt_alert.mail.mailer import SmtpMailer
    from tbt_alert.status import Cadence
    from tests.support_comments import NAMES, SECTORS, settings

    with Session(engine) as session:
        seed_notification(session)
        add_subscriber(
            session,
            "daily@example.com",
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            cadence="daily",
            confirmed=True,
            now=NOW,
        )
        session.commit()
        later = NOW + timedelta(days=1)
        plan = plan_digests(
            session,
            Cadence.DAILY,
            now=later,
            tz=ZoneInfo("Asia/Shanghai"),
            window_days=45,
            domain="tbt-alert.test",
        )
        session.commit()
        assert plan.deliveries == 1
        assert open_calls(session, now=later, lead_days=10).opened == []  # planned, not sent
        with SmtpMailer(smtp_sink.url, timeout=5, sender="a@tbt-alert.test") as mailer:
            send_due(
                session, mailer, settings(), now=later, sector_names=NAMES, rng=random.Random(1)
            )
        session.commit()
        assert open_calls(session, now=later, lead_days=10).opened == [SYMBOL]
