"""Claims: concurrent senders (separate processes, a real SMTP server on loopback) never send one
delivery twice and lose none; an expired lease is reclaimed; a late record changes nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from tbt_alert.mail.claims import Outcome, backlog, claim, record, worker_id
from tbt_alert.mail.deliver import DeliverySettings, deliver_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.status import DeliveryStatus
from tbt_alert.store.tables import Delivery
from tests.test_deliver import NAMES, NOW, SETTINGS, plan, seed, send

ROOT = Path(__file__).resolve().parent.parent
LEASE = timedelta(minutes=15)


def run_senders(
    db_url: str, smtp_url: str, n: int, tmp_path: Path, minutes: str = "1"
) -> list[dict]:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.support_sender", db_url, smtp_url, str(go), minutes],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(n)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.*"))) < n and time.monotonic() < deadline:
        time.sleep(0.05)  # every sender is connected and waiting
    go.touch()
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "Traceback" not in err and "database is locked" not in err, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.parametrize("senders", [2, 4])
def test_concurrent_senders_send_each_delivery_exactly_once(
    engine, db_url, smtp_sink, tmp_path, senders
):
    if senders == 4 and engine.dialect.name == "sqlite":
        pytest.skip("four senders: PostgreSQL (the multi-process backend)")
    emails = [f"u{i:03d}@example.com" for i in range(90)]
    with Session(engine) as session:
        seed(session, *emails)
        plan(session)
        planned = {d.message_id for d in session.exec(select(Delivery)).all()}
    results = run_senders(db_url, smtp_sink.url, senders, tmp_path)
    ids = Counter(str(r.message["Message-ID"]) for r in smtp_sink.received)
    assert [i for i, n in ids.items() if n > 1] == []  # zero duplicates
    assert set(ids) == planned  # zero lost
    assert sum(r.get("sent", 0) for r in results) == len(emails)
    assert sum(1 for r in results if r.get("sent")) >= 2, results  # the work was shared
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    assert {d.status for d in rows} == {DeliveryStatus.SENT}
    assert all(d.claimed_by is None and d.attempts == 1 for d in rows)


def test_an_expired_lease_is_reclaimed_and_the_late_record_changes_nothing(engine, smtp_sink):
    with Session(engine) as session:
        seed(session, "a@example.com", "b@example.com")
        plan(session)
    crashed = worker_id(9)
    taken = claim(engine, crashed, now=NOW, lease=LEASE, limit=10)
    assert len(taken) == 2
    assert claim(engine, worker_id(1), now=NOW, lease=LEASE, limit=10) == []  # still held
    with Session(engine) as session:
        assert send(session, smtp_sink, NOW + timedelta(minutes=5)) == {}
        assert send(session, smtp_sink, NOW + LEASE + timedelta(seconds=1)) == {"sent": 2}
    assert not record(engine, taken[0], crashed, Outcome(DeliveryStatus.FAILED_PERM, 1))
    with Session(engine) as session:
        assert {d.status for d in session.exec(select(Delivery)).all()} == {DeliveryStatus.SENT}
    assert len(smtp_sink.received) == 2


def test_the_backlog_says_what_is_waiting(engine, smtp_sink):
    smtp_sink.handler.at_data("grey@example.com", "451 4.3.0 Try again later")
    with Session(engine) as session:
        seed(session, "grey@example.com", "ok@example.com", "late@example.com")
        plan(session)
    late = claim(engine, worker_id(7), now=NOW, lease=LEASE, limit=10)[-1:]  # one held
    with Session(engine) as session:
        row = session.get(Delivery, late[0])
        assert row is not None and row.status == DeliveryStatus.SENDING
    with engine.begin() as conn:  # give the other two back to be sent now
        conn.execute(
            Delivery.__table__.update()
            .where(Delivery.__table__.c.id != late[0])
            .values(status="planned", claimed_by=None, lease_until=None)
        )
    with Session(engine) as session:
        assert send(session, smtp_sink) == {"sent": 1, "failed_temp": 1}
    waiting = backlog(engine, NOW)
    assert (waiting.due_now, waiting.due_later, waiting.failed_temp, waiting.in_flight) == (
        0,
        1,
        1,
        1,
    )
    assert waiting.oldest == NOW
    assert waiting.next_at is not None and NOW < waiting.next_at < NOW + timedelta(minutes=7)
    line = waiting.line()
    assert "0 due now" in line and "1 due later (next 2026-11-26 08:0" in line
    assert "1 failed temporarily" in line and "1 being sent" in line
    assert "oldest waiting since 2026-11-26 08:00 UTC" in line
    assert backlog(engine, NOW + LEASE + timedelta(hours=1)).due_now == 2  # lease ran out too


def test_kill_9_during_sends_then_rerun_loses_nothing_and_duplicates_at_most_one_per_kill(
    engine, db_url, smtp_sink, tmp_path
):
    emails = [f"k{i:03d}@example.com" for i in range(60)]
    with Session(engine) as session:
        seed(session, *emails)
        plan(session)
        planned = {d.message_id for d in session.exec(select(Delivery)).all()}
    rng = random.Random(4711)
    kills = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for round_ in range(3):
        minutes = str(1 + round_ * 20)  # each rerun comes after the killed sender's lease ended
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support_sender", db_url, smtp_sink.url, "-", minutes],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target = len(smtp_sink.received) + rng.randint(3, 12)
        deadline = time.monotonic() + 120
        while len(smtp_sink.received) < target and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(rng.uniform(0.0, 0.02))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    final = run_senders(db_url, smtp_sink.url, 1, tmp_path, minutes="100")
    assert final[0].get("sent", 0) > 0
    ids = Counter(str(r.message["Message-ID"]) for r in smtp_sink.received)
    assert set(ids) == planned  # nothing lost
    duplicated = [i for i, n in ids.items() if n > 1]
    assert kills >= 1 and len(duplicated) <= kills and max(ids.values()) <= 2
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    assert {d.status for d in rows} == {DeliveryStatus.SENT}


def hold_delivery_writes(engine, seconds: float) -> None:
    """Take the database's write lock on the delivery table for ``seconds`` (on a thread);
    returns once it is held."""
    held = threading.Event()

    def hold() -> None:
        with engine.connect() as conn, conn.begin():
            if engine.dialect.name == "postgresql":  # reads go on, writes wait
                conn.exec_driver_sql("LOCK TABLE delivery IN SHARE ROW EXCLUSIVE MODE")
            else:  # one writer at a time: a write takes the lock until the commit
                conn.exec_driver_sql("UPDATE delivery SET attempts = attempts")
            held.set()
            time.sleep(seconds)

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)


def test_each_accepted_message_is_recorded_before_the_next_one_leaves(engine, smtp_sink):
    """Outcomes are written while the server answers the next MAIL FROM, never later than the next
    content, however slow the write: a kill at any point leaves at most one accepted message
    unrecorded."""
    emails = [f"r{i:02d}@example.com" for i in range(8)]
    with Session(engine) as session:
        seed(session, *emails)
        plan(session)
    seen: list[tuple[int, int]] = []
    plain = smtp_sink.handler.handle_DATA

    async def observing(server, session, envelope):  # the content has arrived, not yet accepted
        with Session(engine) as db:
            sent = db.exec(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.status == DeliveryStatus.SENT)
            ).one()
        seen.append((len(smtp_sink.received), sent))
        reply = await plain(server, session, envelope)
        hold_delivery_writes(engine, 0.2)  # this message's record waits a while
        return reply

    smtp_sink.handler.handle_DATA = observing
    settings = DeliverySettings(**{**SETTINGS.__dict__, "batch": 3})
    with SmtpMailer(smtp_sink.url, timeout=5, sender=SETTINGS.sender) as mailer:
        counts = deliver_due(engine, mailer, settings, now=NOW, sector_names=NAMES)
    assert counts == {"sent": 8}
    assert seen == [(k, k) for k in range(8)]  # every earlier message recorded, this one not


def test_the_record_writer_writes_what_record_writes(engine):
    """The writer a sender keeps (the statement compiled once, run on the DB-API connection)
    stores the same values as record(), and changes nothing without the claim."""
    from tbt_alert.mail.claims import RecordWriter

    with Session(engine) as session:
        seed(session, "a@example.com", "b@example.com", "c@example.com")
        plan(session)
    worker = worker_id(3)
    a, b, c = claim(engine, worker, now=NOW, lease=LEASE, limit=10)
    at = NOW + timedelta(seconds=1)  # no microseconds: SQLite's text must still match
    sent = Outcome(DeliveryStatus.SENT, 1, sent_at=at)
    later = Outcome(DeliveryStatus.FAILED_TEMP, 2, "x" * 600, next_attempt_at=at + LEASE)
    writer = RecordWriter(engine)
    try:
        assert writer.write(a, worker, sent)
        assert writer.write(b, worker, later)
        assert not writer.write(c, worker_id(4), sent)  # not this sender's claim
        assert not writer.write(a, worker, later)  # already recorded: the claim has ended
    finally:
        writer.close()
    assert record(engine, c, worker, sent)
    with Session(engine) as session:
        rows = {d.id: d for d in session.exec(select(Delivery)).all()}
    assert (rows[a].status, rows[a].attempts, rows[a].sent_at) == (DeliveryStatus.SENT, 1, at)
    assert rows[a].sent_at.tzinfo is not None and rows[a].last_error is None
    assert (rows[b].status, rows[b].attempts) == (DeliveryStatus.FAILED_TEMP, 2)
    assert rows[b].last_error == "x" * 500 and rows[b].next_attempt_at == at + LEASE
    assert all(r.claimed_by is None and r.lease_until is None for r in rows.values())
    assert (rows[c].status, rows[c].sent_at) == (rows[a].status, rows[a].sent_at)
    with engine.connect() as conn:  # stored alike, so comparisons in SQL agree too
        stored = dict(
            conn.exec_driver_sql(f"SELECT id, sent_at FROM delivery WHERE id IN ({a}, {c})").all()
        )
    assert stored[a] == stored[c]


def test_statistics_are_refreshed_when_a_plan_outgrew_them(engine, monkeypatch):
    """PostgreSQL plans claims by its statistics; a plan that has just added many deliveries
    leaves them behind (every claim would read and sort all waiting rows) until refreshed."""
    from sqlalchemy import text

    from tbt_alert.mail import claims

    with Session(engine) as session:
        seed(session, *(f"s{i:02d}@example.com" for i in range(30)))
        plan(session)
    monkeypatch.setattr(claims, "STATISTICS_AFTER", 10)
    if engine.dialect.name != "postgresql":
        assert not claims.refresh_statistics(engine)  # SQLite's claims do not depend on them
        return
    assert claims.refresh_statistics(engine)
    with engine.connect() as conn:
        believed = conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'delivery'::regclass")
        )
        assert [row[0] for row in believed] == [30]
    assert not claims.refresh_statistics(engine)  # up to date: nothing to do
    # a long history the statistics know as sent, and as many waiting again: the table's size
    # is right but the estimate of what waits is not
    with engine.begin() as conn:
        conn.execute(text("UPDATE delivery SET status = 'sent'"))
        conn.execute(text("ANALYZE delivery"))
        conn.execute(text("UPDATE delivery SET status = 'planned'"))
    assert claims.refresh_statistics(engine)
