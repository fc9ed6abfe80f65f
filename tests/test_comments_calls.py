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
