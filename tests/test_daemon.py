"""``tbt-alert daemon``: scheduler configuration and DST (a missed job runs once), crawl isolation
in a running scheduler (a hung crawl cannot hang it), a single active daemon, refusing an old
schema, the job wrapper, secrets kept out of logs, and graceful shutdown."""

import itertools
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from click.testing import CliRunner
from sqlmodel import Session, col, select

from tbt_alert.cli.main import main
from tbt_alert.config import Config, DatabaseConfig, EpingConfig, MailConfig, ScheduleConfig
from tbt_alert.daemon.leader import Leadership, LeadershipLost, acquire_leadership
from tbt_alert.daemon.scheduler import (
    DaemonStatus,
    Jobs,
    LocalTimeTrigger,
    build_scheduler,
    guarded,
    make_jobs,
    redactor,
    schedule_lines,
    serve,
)
from tbt_alert.demo.eping_server import FakeEping, items_from_records
from tbt_alert.mail.mailer import OutboxMailer
from tbt_alert.record import parse_record
from tbt_alert.status import RunStatus
from tbt_alert.store.tables import CrawlRun
from tests.support_http import Reply
from tests.support_http import serve as serve_http

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
RUN_CLI = "from tbt_alert.cli.main import main\nmain()"
DB_SECRET, SMTP_SECRET = "S3ntinel-db-pw", "S3ntinel-smtp-pw"


# ---------------------------------------------------------------- helpers


@dataclass
class Done:
    ok: bool = True
    note: str = "fine"

    def lines(self) -> list[str]:
        return [f"note {self.note}"]


def stub_jobs(**overrides) -> Jobs:
    jobs = {"cycle": Done, "daily_digest": Done, "weekly_digest": Done}
    jobs.update(overrides)
    return Jobs(**jobs)


def wait_for(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def served_items(today: date):
    rows = [json.loads(line) for line in LABELLED.read_text("utf-8").splitlines()[:6]]
    records = [
        replace(
            parse_record(row),
            distribution_date=(today - timedelta(days=1 + i)).isoformat(),
            comment_deadline=(today + timedelta(days=50)).isoformat(),
        )
        for i, row in enumerate(rows)
    ]
    return items_from_records(records, as_of=today)


def crawl_runs(engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.exec(select(CrawlRun).order_by(col(CrawlRun.id))))


def statuses(engine) -> list[str]:
    return [run.status for run in crawl_runs(engine)]


@pytest.fixture(scope="module")
def classifier():
    from tbt_alert.classify.classifier import load_classifier

    return load_classifier()


# ---------------------------------------------------------------- scheduler configuration


def test_every_job_coalesces_runs_alone_and_has_an_explicit_misfire_grace():
    config = Config(
        schedule=ScheduleConfig(
            timezone="Europe/Berlin",
            cycle_minutes=45,
            digest_hour=7,
            weekly_digest_day="wed",
            misfire_grace_s=1234,
        )
    )
    before = datetime.now(UTC)
    scheduler = build_scheduler(config, stub_jobs())
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
        lines = schedule_lines(scheduler, ZoneInfo("Europe/Berlin"))
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {"cycle", "daily-digest", "weekly-digest"}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, 1234)
    cycle = jobs["cycle"]
    assert isinstance(cycle.trigger, IntervalTrigger)
    assert cycle.trigger.interval == timedelta(minutes=45)
    assert before <= cycle.next_run_time <= datetime.now(UTC)  # the first cycle runs at start
    berlin = ZoneInfo("Europe/Berlin")
    daily, weekly = (
        jobs[j].next_run_time.astimezone(berlin) for j in ("daily-digest", "weekly-digest")
    )
    assert (daily.hour, daily.minute) == (7, 0) and daily - before < timedelta(days=1, hours=2)
    assert (weekly.hour, weekly.weekday()) == (7, 2) and weekly - before < timedelta(days=8)
    assert str(jobs["weekly-digest"].trigger) == "weekly on wed at 07:00 Europe/Berlin"
    assert lines[0].startswith("cycle          every 0:45:00  next ") and len(lines) == 3


def test_without_the_initial_run_the_first_cycle_waits_one_interval():
    scheduler = build_scheduler(
        Config(schedule=ScheduleConfig(cycle_minutes=30)), stub_jobs(), initial_run=False
    )
    scheduler.start(paused=True)
    try:
        wait = scheduler.get_job("cycle").next_run_time - datetime.now(UTC)
    finally:
        scheduler.shutdown(wait=False)
    assert timedelta(minutes=29) < wait <= timedelta(minutes=30)


def fire_times(trigger, start: datetime, end: datetime) -> list[datetime]:
    """Iterate like the scheduler does: the previous fire time, and 'now' just after it."""
    out, fire = [], trigger.get_next_fire_time(None, start)
    while fire < end:
        out.append(fire)
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(milliseconds=5))
    return out


def hour_exists(day: date, hour: int, zone: ZoneInfo) -> bool:
    wall = datetime(day.year, day.month, day.day, hour, tzinfo=zone)
    return wall.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None)


ZONES = ["Europe/Berlin", "Asia/Shanghai", "America/New_York", "America/Santiago", "Asia/Beirut"]


@pytest.mark.parametrize("zone_name", ZONES)
@pytest.mark.parametrize("weekday", [None, 6])
def test_a_digest_fires_once_per_local_day_or_week_for_three_years_across_dst(zone_name, weekday):
    zone = ZoneInfo(zone_name)
    start, end = datetime(2026, 12, 1, tzinfo=zone), datetime(2029, 12, 1, tzinfo=zone)
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days)]
    expected = sum(1 for d in days if weekday is None or d.weekday() == weekday)
    for hour in (0, 1, 2, 3, 8, 23):
        fires = fire_times(LocalTimeTrigger(hour, zone, weekday), start, end)
        assert all(a.astimezone(UTC) < b.astimezone(UTC) for a, b in itertools.pairwise(fires))
        local = [f.astimezone(zone) for f in fires]
        per_day = Counter(f.date() for f in local)
        assert len(per_day) == len(fires) == expected, (
            hour,
            len(fires),
            expected,
        )  # no skip, no double
        assert weekday is None or {f.weekday() for f in local} == {weekday}
        for f in local:
            if hour_exists(f.date(), hour, zone):
                assert (f.hour, f.minute) == (hour, 0)
            else:  # the hour was skipped by DST: fire when the gap ends
                assert (f.hour, f.minute) == (hour + 1, 0), f


def test_the_berlin_dst_days_of_2027_fire_at_the_right_instants():
    berlin = ZoneInfo("Europe/Berlin")
    at_two = LocalTimeTrigger(2, berlin)
    spring = fire_times(
        at_two, datetime(2027, 3, 27, 12, tzinfo=UTC), datetime(2027, 3, 29, tzinfo=UTC)
    )
    assert spring == [datetime(2027, 3, 28, 1, tzinfo=UTC)]  # 03:00 CEST, right after the gap
    autumn = fire_times(
        at_two, datetime(2027, 10, 30, 12, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC)
    )
    assert autumn == [datetime(2027, 10, 31, 0, tzinfo=UTC)]  # the first 02:00 (CEST), once
    at_midnight = fire_times(
        LocalTimeTrigger(0, berlin),
        datetime(2027, 3, 27, 12, tzinfo=UTC),
        datetime(2027, 3, 30, 12, tzinfo=UTC),
    )
    assert [f.astimezone(berlin).day for f in at_midnight] == [28, 29, 30]


@pytest.mark.parametrize("zone_name", ["Europe/Berlin", "Asia/Shanghai"])
def test_away_from_dst_hours_the_digest_trigger_agrees_with_crontrigger(zone_name):
    zone = ZoneInfo(zone_name)
    start, end = datetime(2026, 12, 1, tzinfo=zone), datetime(2029, 12, 1, tzinfo=zone)
    ours = fire_times(LocalTimeTrigger(8, zone, 0), start, end)
    cron = fire_times(CronTrigger(day_of_week="mon", hour=8, minute=0, timezone=zone), start, end)
    assert len(ours) > 150 and ours == [c.astimezone(UTC) for c in cron]


def test_the_cycle_interval_is_exact_in_real_time_across_dst():
    trigger = IntervalTrigger(minutes=45, timezone=UTC)  # the scheduler keeps time in UTC
    fires = fire_times(
        trigger, datetime(2027, 3, 27, tzinfo=UTC), datetime(2027, 11, 1, tzinfo=UTC)
    )
    assert {b - a for a, b in itertools.pairwise(fires)} == {timedelta(minutes=45)}


def test_apscheduler_is_pinned_to_3x_from_3_11_2():
    from importlib.metadata import requires, version

    from packaging.requirements import Requirement

    pins = [
        Requirement(r) for r in requires("tbt-alert") or [] if r.lower().startswith("apscheduler")
    ]
    assert [str(p.specifier) for p in pins] in (["<4,>=3.11.2"], [">=3.11.2,<4"])
    assert version("apscheduler") in pins[0].specifier
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["dependencies"]
    assert "apscheduler>=3.11.2,<4" in deps


def test_the_digest_jobs_call_deliver_digests_with_their_cadence_a_mailer_and_the_clock(
    monkeypatch, tmp_path
):
    from tbt_alert.daemon import scheduler as daemon

    calls = []

    def deliver_digests(engine, config, *, classifier, mailer, now, cadence):
        calls.append((engine, config, classifier, type(mailer), now, cadence))
        return Done()

    monkeypatch.setattr(daemon, "deliver_digests", deliver_digests)
    config, moment = Config(), datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    engine: Any = "ENGINE"
    classifier: Any = "CLASSIFIER"
    jobs = make_jobs(
        engine,
        config,
        classifier=classifier,
        clock=lambda: moment,
        mailer_factory=lambda: OutboxMailer(tmp_path),
    )
    assert jobs.daily_digest().ok and jobs.weekly_digest().ok
    assert calls == [
        ("ENGINE", config, "CLASSIFIER", OutboxMailer, moment, "daily"),
        ("ENGINE", config, "CLASSIFIER", OutboxMailer, moment, "weekly"),
    ]


# ---------------------------------------------------------------- the job wrapper


def secret_config() -> Config:
    return Config(
        database=DatabaseConfig(url=f"postgresql://tbt:{DB_SECRET}@127.0.0.1:5432/x"),
        mail=MailConfig(smtp_url="smtp://relay.example:587", smtp_password=SMTP_SECRET),
    )


def test_a_failing_job_is_logged_without_secrets_recorded_and_does_not_raise(caplog):
    def broken() -> Done:
        raise RuntimeError(f"cannot connect postgresql://tbt:{DB_SECRET}@db/x, smtp {SMTP_SECRET}")

    status = DaemonStatus()
    run = guarded(
        "cycle", broken, status, redact=redactor(secret_config()), serial=threading.Lock()
    )
    with caplog.at_level("INFO", logger="tbt_alert.daemon.scheduler"):
        run()
        run()
    assert status.jobs["cycle"].runs == 2 and status.jobs["cycle"].failures == 2
    text = caplog.text + "\n".join(status.lines())
    assert "RuntimeError: cannot connect" in text and "[redacted]" in text
    assert DB_SECRET not in text and SMTP_SECRET not in text
    assert "Traceback" in caplog.text  # the operator still sees where it failed


def test_a_job_with_failures_is_logged_as_an_error_and_counted(caplog):
    status = DaemonStatus()
    run = guarded(
        "daily-digest",
        lambda: Done(ok=False, note=f"smtp {SMTP_SECRET} refused"),
        status,
        redact=redactor(secret_config()),
        serial=threading.Lock(),
    )
    with caplog.at_level("INFO", logger="tbt_alert.daemon.scheduler"):
        run()
    assert [r.levelname for r in caplog.records] == ["ERROR"]
    assert "smtp [redacted] refused" in caplog.text and SMTP_SECRET not in caplog.text
    assert status.jobs["daily-digest"].failures == 1
    assert "had failures" in status.lines()[0]


def test_jobs_run_one_at_a_time():
    active, overlaps, serial, status = [0], [], threading.Lock(), DaemonStatus()

    def slow() -> Done:
        active[0] += 1
        overlaps.append(active[0])
        time.sleep(0.05)
        active[0] -= 1
        return Done()

    runs = [guarded(n, slow, status, redact=str, serial=serial) for n in ("cycle", "daily-digest")]
    threads = [threading.Thread(target=r) for r in runs * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert overlaps == [1] * 6


# ---------------------------------------------------------------- serve: signals and leadership


def test_sigterm_waits_for_the_running_job_then_stops_and_prints_the_status(tmp_path):
    started, finished = threading.Event(), threading.Event()

    def cycle() -> Done:
        started.set()
        time.sleep(0.8)
        finished.set()
        return Done()

    from tbt_alert.store.engine import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite3'}")
    status, out = DaemonStatus(), list[str]()
    scheduler = build_scheduler(Config(), stub_jobs(cycle=cycle), status=status)

    def terminate_mid_job() -> None:
        if started.wait(10):
            os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=terminate_mid_job, daemon=True).start()
    before = signal.getsignal(signal.SIGTERM)
    with acquire_leadership(engine) as leadership:
        serve(
            scheduler,
            status,
            leadership=leadership,
            zone=ZoneInfo("UTC"),
            echo=out.append,
            check_every_s=0.05,
        )
    assert finished.is_set() and not scheduler.running
    assert signal.getsignal(signal.SIGTERM) is before
    assert any(line.startswith("received SIGTERM") for line in out)
    assert any("cycle" in line and "runs 1, failed 0" in line for line in out)
    assert out.index("stopped; job status:") > 2  # after the three schedule lines
    engine.dispose()


def test_losing_the_lock_stops_the_daemon_with_an_error():
    class Fickle(Leadership):
        description, checks = "test lock", 0

        def release(self) -> None:
            pass

        def check(self):
            self.checks += 1
            if self.checks > 2:
                raise LeadershipLost("the test lock is no longer held")

    scheduler = build_scheduler(Config(), stub_jobs(), initial_run=False)
    out = list[str]()
    with pytest.raises(LeadershipLost):
        serve(
            scheduler,
            DaemonStatus(),
            leadership=Fickle(),
            zone=ZoneInfo("UTC"),
            echo=out.append,
            check_every_s=0.05,
        )
    assert not scheduler.running and "stopped; job status:" in out


# ---------------------------------------------------------------- crawl isolation


def test_consecutive_scheduled_crawls_succeed_and_a_hung_crawl_is_killed(
    engine, tmp_path, classifier
):
    today = datetime.now(UTC).date()
    stalled = threading.Event()

    with FakeEping(served_items(today)) as fake:

        def route(path: str, query: dict[str, list[str]]) -> Reply:
            if stalled.is_set():
                return Reply(b"", stall=True)
            return Reply(
                json.dumps(fake.search(query)).encode(),
                headers={"Content-Type": "application/json"},
            )

        with serve_http(route) as (base_url, _seen):
            config = Config(
                data_dir=tmp_path,
                database=DatabaseConfig(url=str(engine.url)),
                # A crawl's whole-run timeout: long enough that a healthy crawl under load
                # never meets it, so only the stalled crawl is killed by it.
                eping=EpingConfig(base_url=base_url, download_delay_s=0, timeout_s=20),
            )
            jobs = make_jobs(
                engine,
                config,
                classifier=classifier,
                mailer_factory=lambda: OutboxMailer(tmp_path / "outbox"),
            )
            status = DaemonStatus()
            scheduler = build_scheduler(config, jobs, status=status, interval=timedelta(seconds=1))
            scheduler.start()
            try:
                wait_for(lambda: statuses(engine).count(RunStatus.SUCCESS) >= 2, 40, "two crawls")
                stalled.set()
                wait_for(lambda: RunStatus.FAILED in statuses(engine), 120, "the hung crawl")
                stalled.clear()
                wait_for(lambda: statuses(engine)[-1] == RunStatus.SUCCESS, 40, "a crawl after")
            finally:
                scheduler.shutdown(wait=True)
    runs = crawl_runs(engine)
    failed = [r for r in runs if r.status == RunStatus.FAILED]
    assert failed and all("timed out after 20 s" in (r.error or "") for r in failed)
    assert runs[0].items == 5 and runs[0].new == 5 and runs[1].new == 0  # re-crawl: no duplicates
    assert RunStatus.RUNNING not in [r.status for r in runs]
    cycle = status.jobs["cycle"]
    assert cycle.runs == len(runs) and cycle.failures == len(failed)


# ---------------------------------------------------------------- the command


class Daemon:
    """``tbt-alert daemon`` in a subprocess; its output lines are collected as they come."""

    def __init__(self, env: dict[str, str], *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", RUN_CLI, "daemon", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.stdout, self.stderr = self.proc.stdout, self.proc.stderr
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.stdout:
            self.lines.put(line)

    def wait_for_line(self, prefix: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                assert self.proc.poll() is None, self.stderr.read()
                continue
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(f"no line starting {prefix!r} in {self.seen}")

    def stop(self, seconds: float = 60) -> tuple[int, str, str]:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(seconds)
        time.sleep(0.1)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, "".join(self.seen), self.stderr.read()


def daemon_env(db_url: str, tmp_path: Path, base_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBT_ALERT_")}
    if db_url.startswith("postgresql"):  # trust auth ignores the password: a sentinel to hide
        db_url = db_url.replace("postgres@", f"postgres:{DB_SECRET}@", 1)
    env.update(
        TBT_ALERT_DATABASE_URL=db_url,
        TBT_ALERT_EPING_BASE_URL=base_url,
        TBT_ALERT_DATA_DIR=str(tmp_path),
        TBT_ALERT_SMTP_PASSWORD=SMTP_SECRET,
    )
    return env


def test_a_second_daemon_exits_non_zero_while_the_first_runs_then_sigterm_stops_it(
    engine, db_url, tmp_path
):
    today = datetime.now(UTC).date()
    with FakeEping(served_items(today)) as fake:
        env = daemon_env(db_url, tmp_path, fake.base_url)
        first = Daemon(env)
        try:
            assert first.wait_for_line("holding the ", 30)
            first.wait_for_line("weekly-digest", 30)  # the schedule is printed at start
            second = subprocess.run(
                [sys.executable, "-c", RUN_CLI, "daemon"],
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            code, out, err = first.stop()
        finally:
            if first.proc.poll() is None:
                first.proc.kill()
    assert second.returncode == 1 and "already running" in second.stderr, second.stderr
    assert "holding the" not in second.stdout
    assert code == 0, err
    assert "received SIGTERM" in out and "runs 1, failed 0" in out  # waited for the first cycle
    assert statuses(engine) == [RunStatus.SUCCESS]
    everything = out + err + second.stdout + second.stderr
    assert DB_SECRET not in everything and SMTP_SECRET not in everything
    with acquire_leadership(engine):  # released
        pass


@pytest.mark.parametrize("target", ["base", "-1"])
def test_the_daemon_refuses_a_database_that_is_not_at_head(engine, db_url, tmp_path, target):
    from alembic import command

    from tbt_alert.store.engine import alembic_config

    command.downgrade(alembic_config(engine), target)
    env = {
        "TBT_ALERT_DATABASE_URL": db_url,
        "TBT_ALERT_DATA_DIR": str(tmp_path),
        "TBT_ALERT_CONFIG": "",
    }
    result = CliRunner().invoke(main, ["daemon"], env=env)
    assert result.exit_code == 1
    assert "run 'tbt-alert init'" in result.output and "holding the" not in result.output
    with acquire_leadership(engine):  # the refusal took no lock
        pass


def test_daemon_help_describes_the_jobs_the_lock_and_the_option():
    result = CliRunner().invoke(main, ["daemon", "--help"])
    assert result.exit_code == 0
    for words in (
        "--no-initial-run",
        "daily-digest",
        "weekly-digest",
        "SIGTERM",
        "status 1",
        "tbt-alert init",
    ):
        assert words in result.output
