"""Operations (issue 13): the operator gets one email when a source failed
``[operations] alert_after_failures`` runs in a row, once per incident, and one when it recovers;
through the normal mailer to a real SMTP server on loopback, stored only once it was accepted."""

from __future__ import annotations

import os
from datetime import timedelta

from sqlmodel import Session, select

from tbt_alert.config import Config, OperationsConfig
from tbt_alert.crawl.runner import CrawlOutput
from tbt_alert.errors import CrawlError
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import run_cycle
from tbt_alert.store.health import health_report
from tbt_alert.store.tables import SourceIncident
from tests.support_smtp import smtp_sink  # noqa: F401
from tests.test_e2e import NOW, classifier, served_records  # noqa: F401

OPS = "ops@example.com"


def incidents(engine) -> list[SourceIncident]:
    with Session(engine) as session:
        return list(session.exec(select(SourceIncident)).all())


def test_k_failures_in_a_row_alert_once_and_recovery_is_told(
    engine,
    tmp_path,
    smtp_sink,  # noqa: F811
    classifier,  # noqa: F811
):
    records = [r for r, _ in served_records()[:2]]
    up = {"value": False}

    def crawler(source, *, workdir, **_kw):
        if not up["value"]:
            raise CrawlError(f"crawl of {source} failed: HTTP 503 Service Unavailable")
        return CrawlOutput(records, 0, workdir / "i.jsonl", workdir / "l.log", {})

    config = Config(
        data_dir=tmp_path,
        operations=OperationsConfig(alert_email=OPS, alert_after_failures=3),
    )
    cycles = iter(range(100))

    def cycle():
        now = NOW + timedelta(hours=next(cycles))
        with SmtpMailer(smtp_sink.url, timeout=10, sender="alerts@tbt-alert.test") as mailer:
            return run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=now,
                since=NOW.date() - timedelta(days=5),
                until=NOW.date(),
                crawler=crawler,
            )

    for _ in range(2):
        summary = cycle()
        assert not summary.ok and not summary.operator
    assert smtp_sink.received == [] and incidents(engine) == []

    smtp_sink.handler.at_rcpt(OPS, "452 4.2.2 Mailbox full")  # the third failure: refused
    summary = cycle()
    assert summary.operator == [] and incidents(engine) == []
    assert any("operator alert for eping not sent" in f for f in summary.failures)

    smtp_sink.handler.behave_normally(OPS)  # the fourth: sent, and stored
    summary = cycle()
    assert summary.operator == ["operator alerted: eping failed 4 runs in a row"]
    [alert] = smtp_sink.handler.messages()
    assert alert["To"] == OPS and alert["Subject"] == (
        "tbt-alert: source eping failed 4 runs in a row"
    )
    body = alert.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "HTTP 503 Service Unavailable" in body and "Last success: never" in body
    [incident] = incidents(engine)
    assert incident.alerted_at is not None and incident.recovered_at is None
    with Session(engine) as session:
        shown = health_report(session, NOW)["operator_alerts"]
    assert [(a["source"], a["failures"]) for a in shown] == [("eping", 4)]

    summary = cycle()  # still failing: the same incident, no second email
    assert summary.operator == [] and len(smtp_sink.received) == 1

    up["value"] = True
    summary = cycle()
    assert summary.ok, summary.lines()
    assert summary.operator == ["operator told: eping recovered"]
    assert [m["Subject"] for m in smtp_sink.handler.messages()][1:] == [
        "tbt-alert: source eping recovered"
    ]
    assert "operator    operator told: eping recovered" in summary.lines()
    [incident] = incidents(engine)
    assert incident.recovered_at is not None
    with Session(engine) as session:
        assert health_report(session, NOW)["operator_alerts"] == []

    assert cycle().operator == [] and len(smtp_sink.received) == 2  # healthy: silence

    up["value"] = False  # a new incident after recovery is told again
    for _ in range(3):
        summary = cycle()
    assert summary.operator == ["operator alerted: eping failed 3 runs in a row"]
    assert len(incidents(engine)) == 2 and len(smtp_sink.received) == 3


def test_no_alert_email_means_no_operator_mail(
    engine,
    tmp_path,
    smtp_sink,  # noqa: F811
    classifier,  # noqa: F811
):
    def crawler(source, *, workdir, **_kw):
        raise CrawlError("crawl of eping failed: HTTP 503")

    config = Config(data_dir=tmp_path, operations=OperationsConfig(alert_after_failures=1))
    with SmtpMailer(smtp_sink.url, timeout=10, sender="alerts@tbt-alert.test") as mailer:
        for n in range(2):
            summary = run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=NOW + timedelta(hours=n),
                since=NOW.date() - timedelta(days=5),
                until=NOW.date(),
                crawler=crawler,
            )
            assert not summary.operator
    assert smtp_sink.received == [] and incidents(engine) == []


def test_a_bad_alert_address_is_one_line_naming_it(tmp_path):
    from tests.test_operations import cli, one_error_line

    config = tmp_path / "bad.toml"
    config.write_text('[operations]\nalert_email = "ops at example"\n', "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBT_ALERT_")}
    env |= {"TBT_ALERT_DATA_DIR": str(tmp_path / "data"), "TBT_ALERT_CONFIG": str(config)}
    line = one_error_line(cli(env, "status"))
    assert "alert_email" in line and "ops at example" in line


def test_run_once_against_a_failing_listing_records_the_run_and_alerts_the_operator(
    db_url,
    tmp_path,
    smtp_sink,  # noqa: F811
):
    from tbt_alert.demo.eping_server import API_PATH, FakeEping, items_from_records
    from tbt_alert.store.engine import make_engine
    from tbt_alert.store.tables import JobRun
    from tests.test_operations import cli

    items = items_from_records([r for r, _ in served_records()], as_of=NOW.date())
    with FakeEping(items, failing={API_PATH: 500}) as server:
        config = tmp_path / "ops.toml"
        config.write_text(
            f'[mail]\nsmtp_url = "{smtp_sink.url}"\n'
            f'[eping]\nbase_url = "{server.base_url}"\ndownload_delay_s = 0\n'
            f"[fetch]\nallowed_hosts = []\n"
            f'[operations]\nalert_email = "{OPS}"\nalert_after_failures = 1\n',
            "utf-8",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("TBT_ALERT_")}
        env |= {
            "TBT_ALERT_DATA_DIR": str(tmp_path / "data"),
            "TBT_ALERT_CONFIG": str(config),
            "TBT_ALERT_DATABASE_URL": db_url,
        }
        result = cli(env, "run", "--once")
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr
    assert "operator    operator alerted: eping failed 1 runs in a row" in out
    [alert] = smtp_sink.handler.messages()
    assert alert["To"] == OPS and "eping failed 1 runs in a row" in alert["Subject"]
    engine = make_engine(db_url)
    with Session(engine) as session:
        runs = list(session.exec(select(JobRun)).all())
        assert len(incidents(engine)) == 1
    engine.dispose()
    assert [(r.job, r.outcome) for r in runs] == [("cycle", "failed")]
    assert runs[0].error and runs[0].error.startswith("crawl eping failed")
    status = cli(env, "status").stdout.decode()
    assert "incident    eping: operator alerted at" in status and "not recovered yet" in status
    assert "job         cycle         last failed at" in status
