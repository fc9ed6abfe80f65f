"""``tbt-alert send`` and ``run --once`` as an operator runs them: real database, real SMTP server."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlmodel import Session, select

from tbt_alert.cli.main import main
from tbt_alert.status import DeliveryStatus
from tbt_alert.store.tables import Delivery
from tests.test_deliver import plan, seed


@pytest.fixture
def run(tmp_path, db_url, engine, smtp_sink, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.setenv("TBT_ALERT_SMTP_URL", smtp_sink.url)
    monkeypatch.setenv("TBT_ALERT_MAIL_FROM", "alerts@tbt-alert.test")
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def planned(engine, n: int) -> set[str]:
    with Session(engine) as session:
        seed(session, *(f"u{i}@example.com" for i in range(n)))
        plan(session, now=datetime.now(UTC))
        return {d.message_id for d in session.exec(select(Delivery)).all()}


def test_send_with_workers_sends_each_due_message_once(run, engine, smtp_sink):
    ids = planned(engine, 12)
    result = run("send", "--workers", "3")
    assert result.exit_code == 0, result.output
    assert "sent 12" in result.output and "waiting     nothing" in result.output
    got = Counter(str(r.message["Message-ID"]) for r in smtp_sink.received)
    assert set(got) == ids and max(got.values()) == 1
    again = run("send")
    assert again.exit_code == 0 and "none due" in again.output
    assert len(smtp_sink.received) == 12


def test_run_once_sends_what_is_due_even_when_the_crawl_failed(run, engine, smtp_sink, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_EPING_BASE_URL", "http://127.0.0.1:9/api/v1/")  # nothing listens
    ids = planned(engine, 2)
    result = run("run", "--once")
    assert result.exit_code == 1  # the crawl failed, and the exit status says so
    assert "crawl eping failed" in result.output and "waiting     nothing" in result.output
    assert {str(r.message["Message-ID"]) for r in smtp_sink.received} == ids
    with Session(engine) as session:
        rows = session.exec(select(Delivery)).all()
    assert {d.status for d in rows} == {DeliveryStatus.SENT}


def test_send_refuses_credentials_over_plain_smtp_in_one_line(run, engine, smtp_sink, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_SMTP_USERNAME", "user")
    monkeypatch.setenv("TBT_ALERT_SMTP_PASSWORD", "right")
    planned(engine, 1)
    result = run("send")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: refusing to send SMTP credentials without TLS: use smtps:// or [mail] starttls = "
        "true (or allow_plaintext_auth = true on a trusted network)"
    ]
    assert smtp_sink.received == []
