"""Operations (issue 13): every job run is recorded after it ended (job_run), on both backends;
``status`` shows each job's last and next run and the comment calls due."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
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


def insert_call(conn, symbol: str, deadline: date, status: str) -> None:
    nid = conn.execute(
        text("SELECT id FROM notification WHERE symbol = :s"), {"s": symbol}
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO comment_call (notification_id, symbol, wto_deadline, internal_deadline, "
            "status, created_at, updated_at) VALUES (:n, :s, :w, :d, :st, :t, :t)"
        ),
        {
            "n": nid,
            "s": symbol,
            "w": deadline + timedelta(days=10),
            "d": deadline,
            "st": status,
            "t": datetime.now(UTC),
        },
    )


def test_status_shows_each_jobs_last_and_next_run_and_the_comment_calls_due(
    db_env,  # noqa: F811
    db_url,
    tmp_path,
):
    config = tmp_path / "status.toml"
    config.write_text(
        '[schedule]\ntimezone = "Europe/Berlin"\ncycle_minutes = 60\ndigest_hour = 8\n'
        'weekly_digest_day = "wed"\n[comments]\nreminder_days = 5\n',
        "utf-8",
    )
    env = {**db_env, "TBT_ALERT_CONFIG": str(config)}
    records = tmp_path / "in.jsonl"
    records.write_text(
        "".join(
            json.dumps({"symbol": f"G/TBT/N/EU/{n}", "member": "EU", "title": f"Toys {n}"}) + "\n"
            for n in (1, 2, 3)
        )
    )
    assert cli(env, "import", str(records), "--no-classify").returncode == 0
    now = datetime.now(UTC)
    started = now - timedelta(minutes=10)
    engine = make_engine(db_url)
    record_run(engine, "cycle", started - timedelta(hours=1), started, False, "HTTP 503")
    record_run(engine, "cycle", started, started + timedelta(minutes=2), True, None)
    record_run(engine, "daily-digest", started, started, False, "smtp refused")
    berlin = ZoneInfo("Europe/Berlin")
    today = now.astimezone(berlin).date()
    with engine.begin() as conn:
        insert_call(conn, "G/TBT/N/EU/1", today + timedelta(days=3), "drafting")
        insert_call(conn, "G/TBT/N/EU/2", today + timedelta(days=20), "open")
        insert_call(conn, "G/TBT/N/EU/3", today + timedelta(days=2), "submitted")
    engine.dispose()

    shown = cli(env, "status")
    out = shown.stdout.decode()
    assert shown.returncode == 0, shown.stderr
    data = json.loads(cli(env, "status", "--json").stdout)
    jobs = {j["job"]: j for j in data["jobs"]}
    cycle = jobs["cycle"]
    assert cycle["last_run"]["outcome"] == "ok" and cycle["failures_in_a_row"] == 0
    next_cycle = datetime.fromisoformat(cycle["next_run_at"])
    assert abs(next_cycle - (started + timedelta(minutes=60))) < timedelta(seconds=1)
    assert not cycle["overdue"]
    daily = jobs["daily-digest"]
    assert daily["last_run"]["error"] == "smtp refused" and daily["failures_in_a_row"] == 1
    next_daily = datetime.fromisoformat(daily["next_run_at"]).astimezone(berlin)
    assert (next_daily.hour, next_daily.minute) == (8, 0)
    assert now < next_daily <= now + timedelta(days=1)
    weekly = jobs["weekly-digest"]
    assert weekly["last_run"] is None
    next_weekly = datetime.fromisoformat(weekly["next_run_at"]).astimezone(berlin)
    assert next_weekly.weekday() == 2 and next_weekly.hour == 8
    assert now < next_weekly <= now + timedelta(days=7)
    assert [(c["symbol"], c["days_left"]) for c in data["comment_calls_due"]] == [
        ("G/TBT/N/EU/1", 3)
    ]
    assert "job         cycle         last ok at" in out
    assert "job         daily-digest  last failed at" in out and "error: smtp refused" in out
    assert "job         weekly-digest never ran; next" in out
    assert "comments    1 call(s) due" in out
    assert "G/TBT/N/EU/1 (drafting): internal deadline" in out and "3 day(s) left" in out


def test_the_daemon_records_its_cycle_in_job_run(engine, db_url, tmp_path):
    import time

    from tbt_alert.demo.eping_server import API_PATH, FakeEping
    from tests.test_daemon import DB_SECRET, Daemon, daemon_env

    with FakeEping([], failing={API_PATH: 500}) as fake:
        env = daemon_env(db_url, tmp_path, fake.base_url)
        daemon = Daemon(env)
        try:
            daemon.wait_for_line("holding the ", 30)
            deadline = time.monotonic() + 120
            while not rows(db_url):  # the first cycle runs at start; its row comes once it ended
                assert time.monotonic() < deadline, "no job_run row after the first cycle"
                time.sleep(0.3)
            code, _out, err = daemon.stop()
        finally:
            if daemon.proc.poll() is None:
                daemon.proc.kill()
    assert code == 0, err
    [run] = rows(db_url)
    assert (run.job, run.outcome) == ("cycle", "failed")
    assert run.error and run.error.startswith("crawl eping failed") and "\n" not in run.error
    assert DB_SECRET not in run.error and run.finished_at >= run.started_at
