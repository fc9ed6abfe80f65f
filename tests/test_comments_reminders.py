"""Reminders before the internal deadline, with time-machine, through `tbt-alert comments remind`
over real SMTP, across a deadline moved by an addendum: to exporters warned who sent no draft and
to the analyst; never after the deadline; each once per deadline."""

from datetime import UTC, datetime

import pytest
import time_machine
from click.testing import CliRunner
from sqlmodel import Session

from tbt_alert.cli.main import main
from tbt_alert.store.engine import make_engine, upgrade
from tests.support_comments import SYMBOL, add_people, ingest, seed_notification, warn


@pytest.fixture
def run(tmp_path, db_url, monkeypatch, smtp_sink):
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com", "wang@example.com")
        warn(session, smtp_sink.url)
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.setenv("TBT_ALERT_SMTP_URL", smtp_sink.url)
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def invoke(*args, at=None):
        if at is None:
            return CliRunner().invoke(main, list(args), catch_exceptions=False)
        with time_machine.travel(at, tick=False):
            return CliRunner().invoke(main, list(args), catch_exceptions=False)

    yield invoke, engine
    engine.dispose()


def day(month, d, year=2027):
    return datetime(year, month, d, 9, 0, tzinfo=UTC)


def test_reminders_each_once_never_after_and_again_after_an_addendum(run, smtp_sink, tmp_path):
    invoke, engine = run
    smtp_sink.handler.received.clear()  # the warnings themselves
    draft = tmp_path / "wang.txt"
    draft.write_text("Article 5 is fine for us.", encoding="utf-8")
    invoke(
        "comments",
        "import",
        str(draft),
        "--symbol",
        SYMBOL,
        "--from",
        "wang@example.com",
        at=day(12, 1, 2026),
    )
    invoke("comments", "assign", SYMBOL, "--to", "analyst@wzqi.example", at=day(12, 1, 2026))

    def remind(at):
        before = len(smtp_sink.received)
        result = invoke("comments", "remind", at=at)
        assert result.exit_code == 0, result.output
        return sorted(r.rcpt_tos[0] for r in smtp_sink.received[before:]), result.output

    # internal deadline 2027-01-09 (WTO 2027-01-19 less 10 days); window from 2027-01-04
    assert remind(day(1, 3)) == (
        [],
        "0 call(s) opened, 0 moved, 0 withdrawn; reminders: none due\n",
    )
    assert remind(day(1, 9))[0] == []  # the deadline day itself: never at or after it
    sent, out = remind(day(1, 5))
    assert sent == ["analyst@wzqi.example", "chen@example.com"]  # wang contributed already
    assert "reminders: sent 2" in out
    listed = invoke("comments", "list", at=day(1, 5)).output
    assert "4 days left" in listed and "DUE SOON" in listed
    assert remind(day(1, 6))[0] == []  # each once
    zh = next(m for m in smtp_sink.handler.messages() if m["To"] == "chen@example.com")
    assert "提醒" in str(zh["Subject"]) and "2027-01-09" in str(zh["Subject"])
    assert "2027-01-19" in zh.get_body(("plain",)).get_content()
    assert (
        "网页表单提交意见：http://127.0.0.1:8080/comment/" in zh.get_body(("plain",)).get_content()
    )

    with Session(engine) as session:
        ingest(
            session,
            {
                "symbol": f"{SYMBOL}/Add.1",
                "member": "European Union",
                "title": "Draft regulation on the labelling of footwear",
                "distribution_date": "2027-01-08",
                "description": "The deadline for comments has been extended to 19 March 2027.",
            },
        )
    sent, out = remind(day(1, 10))
    assert "WTO deadline moved from 2027-01-19 to 2027-03-19" in out
    assert sent == ["analyst@wzqi.example"]  # the analyst is told of the move, once
    moved = smtp_sink.handler.messages()[-1]
    assert "comment deadline moved to 2027-03-09" in str(moved["Subject"])
    assert remind(day(1, 11))[0] == []
    assert "OVERDUE" not in invoke("comments", "list", at=day(1, 10)).output
    assert remind(day(3, 3))[0] == []  # new window opens 2027-03-04
    assert remind(day(3, 5))[0] == ["analyst@wzqi.example", "chen@example.com"]
    assert remind(day(3, 6))[0] == []
    assert "OVERDUE" in invoke("comments", "list", at=day(3, 12)).output
