"""Operations (issue 13): every job run is recorded after it ended (job_run), on both backends;
``status`` shows each job's last and next run and the comment calls due."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from tbt_alert.config import Config, DatabaseConfig, MailConfig
from tbt_alert.daemon.scheduler import DaemonStatus, guarded, redactor
from tbt_alert.store.engine import make_engine, upgrade
from tbt_alert.store.jobruns import failures_in_a_row, last_job_runs, record_run
from tbt_alert.store.tables import JobRun
from tests.test_operations import cli
from tests.test_operations_lock import db_env  # noqa: F401

SECRET = "Pw-job-9931"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Done:
    ok: bool
    failures: list[str]

    def lines(self) -> list[str]:
        return ["window      x", f"failures    {len(self.failures)}"]


def rows(db_url: str) -> list[JobRun]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return list(session.exec(select(JobRun).order_by(JobRun.id)).all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_the_daemon_wrapper_records_each_run_after_it_ended_with_secrets_masked(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    config = Config(mail=MailConfig(smtp_url="smtp://relay.example:587", smtp_password=SECRET))
    ticks = iter(NOW + timedelta(minutes=m) for m in range(100))
    seen_during_job: list[int] = []

    def broken() -> Done:
        seen_during_job.append(len(rows(db_url)))
        raise RuntimeError(f"smtp login with {SECRET} refused\nsecond line")

    def had_failures() -> Done:
        return Done(ok=False, failures=[f"crawl of eping failed: HTTP 503 ({SECRET})"])

    wrap = {
        "redact": redactor(config),
        "serial": threading.Lock(),
        "clock": lambda: next(ticks),
        "record": lambda *a: record_run(engine, *a),
    }
    status = DaemonStatus()
    guarded("cycle", broken, status, **wrap)()  # type: ignore[arg-type]
    guarded("cycle", had_failures, status, **wrap)()  # type: ignore[arg-type]
    guarded("daily-digest", lambda: Done(ok=True, failures=[]), status, **wrap)()  # type: ignore[arg-type]
    assert seen_during_job == [0]  # nothing is recorded before the job ended
    stored = rows(db_url)
    assert [(r.job, r.outcome) for r in stored] == [
        ("cycle", "failed"),
        ("cycle", "failed"),
        ("daily-digest", "ok"),
    ]
    assert stored[0].error == "RuntimeError: smtp login with [redacted] refused"
    assert stored[1].error == "crawl of eping failed: HTTP 503 ([redacted])"
    assert stored[2].error is None
    assert all(r.finished_at > r.started_at for r in stored)
    with Session(engine) as session:
        assert set(last_job_runs(session)) == {"cycle", "daily-digest"}
        assert failures_in_a_row(session, "cycle") == 2
    engine.dispose()


def test_a_recorder_that_fails_does_not_stop_the_daemon(caplog):
    def record(*_args: object) -> None:
        raise RuntimeError(f"database gone ({SECRET})")

    config = Config(database=DatabaseConfig(url=f"postgresql://u:{SECRET}@127.0.0.1/x"))
    status = DaemonStatus()
    run = guarded(
        "cycle",
        lambda: Done(ok=True, failures=[]),
        status,
        redact=redactor(config),
        serial=threading.Lock(),
        record=record,
    )
    run()  # does not raise
    assert status.jobs["cycle"].last_result == "ok"
    assert "could not be recorded: database gone ([redacted])" in caplog.text
    assert SECRET not in caplog.text


def test_the_digest_command_records_its_run(db_env, db_url):  # noqa: F811
    assert cli(db_env, "init").returncode == 0
    result = cli(db_env, "digest", "--cadence", "weekly")
    assert result.returncode == 0, result.stderr
    stored = rows(db_url)
    assert [(r.job, r.outcome, r.error) for r in stored] == [("weekly-digest", "ok", None)]
