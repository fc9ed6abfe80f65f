"""The daemon: APScheduler 3.x jobs over the plain pipeline functions (a thin edge).

Three jobs, each with ``coalesce=True``, ``max_instances=1`` and ``misfire_grace_time`` from
``[schedule] misfire_grace_s``, so that a job missed while the machine slept runs once, not once
per missed time:

* ``cycle``: :func:`tbt_alert.pipeline.run_cycle` every ``cycle_minutes`` (first run at start);
  the crawl runs out of process with a hard timeout, so a hung crawl cannot hang the daemon;
* ``daily-digest`` and ``weekly-digest``: ``pipeline.deliver_digests`` at ``digest_hour`` local
  time in ``[schedule] timezone`` (weekly: on ``weekly_digest_day``).

Every job goes through :func:`guarded`: an exception is logged (secrets redacted) and counted in
the in-memory :class:`DaemonStatus`, printed at shutdown, and the daemon carries on. Jobs run one
at a time (a shared lock), since the sender does not yet claim rows exclusively.

The scheduler keeps time in UTC; only the digest triggers know the local zone, through
:class:`LocalTimeTrigger`. APScheduler 3.11.3's ``CronTrigger`` is not used for them: across DST
it fires twice in a repeated hour (``hour=2`` in Europe/Berlin on 2027-10-31) and skips a day
(``hour=0`` in Europe/Berlin: nothing on 2027-03-29; weekly ``hour=0`` in America/Santiago skips
weeks).
"""

from __future__ import annotations

import logging
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import FrameType
from typing import Any, Protocol
from urllib.parse import quote, unquote, urlsplit
from zoneinfo import ZoneInfo

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobEvent
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.engine import Engine, make_url

from tbt_alert.classify.annotate import ClassifierLike
from tbt_alert.config import Config
from tbt_alert.crawl.runner import run_spider
from tbt_alert.daemon.leader import Leadership
from tbt_alert.mail.mailer import Mailer
from tbt_alert.pipeline import Crawler, deliver_digests, run_cycle

log = logging.getLogger(__name__)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
REDACTED = "[redacted]"
Clock = Callable[[], datetime]
# record(job, started_at, finished_at, ok, error line): called after a job ended
Recorder = Callable[[str, datetime, datetime, bool, str | None], None]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Outcome(Protocol):
    """What a job returns: CycleSummary, and the digest summary."""

    @property
    def ok(self) -> bool: ...

    def lines(self) -> list[str]: ...


@dataclass(frozen=True)
class Jobs:
    cycle: Callable[[], Outcome]
    daily_digest: Callable[[], Outcome]
    weekly_digest: Callable[[], Outcome]


def make_jobs(
    engine: Engine,
    config: Config,
    *,
    classifier: ClassifierLike,
    mailer_factory: Callable[[], Mailer],
    clock: Clock = utc_now,
    crawler: Crawler = run_spider,
    spider_settings: dict | None = None,
) -> Jobs:
    """The three jobs as argument-less callables; each opens its own mailer and reads ``clock``."""

    def cycle() -> Outcome:
        with mailer_factory() as mailer:
            return run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=clock(),
                crawler=crawler,
                spider_settings=spider_settings,
            )

    def digest(cadence: str) -> Callable[[], Outcome]:
        def job() -> Outcome:
            with mailer_factory() as mailer:
                return deliver_digests(
                    engine,
                    config,
                    classifier=classifier,
                    mailer=mailer,
                    now=clock(),
                    cadence=cadence,
                )

        return job

    return Jobs(cycle=cycle, daily_digest=digest("daily"), weekly_digest=digest("weekly"))


class LocalTimeTrigger(BaseTrigger):
    """Fires once per local day (or per week, on ``weekday`` 0=Monday) when the wall clock in
    ``timezone`` reaches ``hour``:00. An hour skipped by DST fires when the gap ends; a repeated
    hour fires at its first occurrence. Fire times are in UTC, so the scheduler compares and
    subtracts them unambiguously."""

    __slots__ = ("hour", "timezone", "weekday")

    def __init__(self, hour: int, timezone: ZoneInfo, weekday: int | None = None) -> None:
        self.hour, self.timezone, self.weekday = hour, timezone, weekday

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        after = (previous_fire_time or now).astimezone(UTC)
        day = after.astimezone(self.timezone).date()
        while True:  # at most 8 days
            if self.weekday is None or day.weekday() == self.weekday:
                fire = self.fire_time(day)
                if fire > after or (previous_fire_time is None and fire == after):
                    return fire
            day += timedelta(days=1)

    def fire_time(self, day: date) -> datetime:
        return datetime.combine(day, time(self.hour), tzinfo=self.timezone).astimezone(UTC)

    def __str__(self) -> str:
        when = "daily" if self.weekday is None else f"weekly on {WEEKDAYS[self.weekday]}"
        return f"{when} at {self.hour:02d}:00 {self.timezone.key}"


@dataclass
class JobStatus:
    runs: int = 0
    failures: int = 0
    missed: int = 0
    last_start: datetime | None = None
    last_result: str = "not run yet"


@dataclass
class DaemonStatus:
    """What each job did since the daemon started; thread-safe, printed at shutdown."""

    jobs: dict[str, JobStatus] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def started(self, name: str, at: datetime) -> None:
        with self._lock:
            job = self.jobs.setdefault(name, JobStatus())
            job.runs, job.last_start = job.runs + 1, at

    def finished(self, name: str, *, ok: bool, result: str) -> None:
        with self._lock:
            job = self.jobs.setdefault(name, JobStatus())
            job.failures += 0 if ok else 1
            job.last_result = result

    def missed(self, name: str) -> None:
        with self._lock:
            self.jobs.setdefault(name, JobStatus()).missed += 1

    def lines(self) -> list[str]:
        with self._lock:
            return [
                f"{name:<14} runs {s.runs}, failed {s.failures}, missed {s.missed}; last "
                f"{s.last_start.isoformat(timespec='seconds') if s.last_start else '-'}: "
                f"{s.last_result}"
                for name, s in sorted(self.jobs.items())
            ]


def secrets_of(config: Config) -> list[str]:
    """Every configured secret, raw and URL-quoted, longest first."""
    found = [
        config.mail.smtp_password,
        config.eping.api_key,
        config.web.secret_key,
        make_url(config.database_url).password or "",
        unquote(urlsplit(config.mail.smtp_url).password or ""),
    ]
    values = {v for s in found if s for v in (str(s), quote(str(s), safe=""))}
    return sorted(values, key=len, reverse=True)


def redactor(config: Config) -> Callable[[str], str]:
    secrets = secrets_of(config)

    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        return text

    return redact


def guarded(
    name: str,
    job: Callable[[], Outcome],
    status: DaemonStatus,
    *,
    redact: Callable[[str], str],
    serial: threading.Lock,
    clock: Clock = utc_now,
    record: Recorder | None = None,
) -> Callable[[], None]:
    """The job wrapper: run one job at a time, log and record its outcome, never raise.

    ``record`` stores the run (in the ``job_run`` table) after the job ended; a failure to
    record is logged and does not stop the daemon."""

    def store(started: datetime, ok: bool, error: str | None) -> None:
        if record is None:
            return
        try:
            record(name, started, clock(), ok, error)
        except Exception as e:
            first = (str(e).splitlines() or [""])[0]
            log.error("job %s: its run could not be recorded: %s", name, redact(first))

    def run() -> None:
        with serial:
            started = clock()
            status.started(name, started)
            try:
                outcome = job()
            except Exception as e:
                log.error(
                    "job %s failed:\n%s",
                    name,
                    redact("".join(traceback.format_exception(e)).rstrip()),
                )
                first = (str(e).splitlines() or [""])[0]
                result = redact(f"{type(e).__name__}: {first}")
                status.finished(name, ok=False, result=result)
                store(started, False, result)
                return
            report = redact("\n".join(outcome.lines()))
            level = logging.INFO if outcome.ok else logging.ERROR
            log.log(level, "job %s %s:\n%s", name, "done" if outcome.ok else "had failures", report)
            status.finished(name, ok=outcome.ok, result="ok" if outcome.ok else "had failures")
            store(started, outcome.ok, None if outcome.ok else failure_line(outcome, redact))

    return run


def failure_line(outcome: Outcome, redact: Callable[[str], str]) -> str:
    """One line saying what failed: the outcome's first failure, else the first report line
    that names a failure (emails not accepted, say)."""
    failures = getattr(outcome, "failures", None)
    if failures:
        return redact((str(failures[0]).splitlines() or ["had failures"])[0])
    lines = [line.strip() for text in outcome.lines() for line in text.splitlines() if line.strip()]
    failed = [line for line in lines if "fail" in line.lower() or "error" in line.lower()]
    return redact((failed or lines or ["had failures"])[0])


def build_scheduler(
    config: Config,
    jobs: Jobs,
    *,
    status: DaemonStatus | None = None,
    interval: timedelta | None = None,
    initial_run: bool = True,
    clock: Clock = utc_now,
    record: Recorder | None = None,
) -> BackgroundScheduler:
    """A scheduler (not started) with the cycle every ``interval`` (default: ``cycle_minutes``),
    first run at start unless ``initial_run`` is false, and the two digests."""
    status = status if status is not None else DaemonStatus()
    sched = config.schedule
    zone = ZoneInfo(sched.timezone)
    scheduler = BackgroundScheduler(timezone=UTC)
    every = interval or timedelta(minutes=sched.cycle_minutes)
    redact, serial = redactor(config), threading.Lock()

    def wrap(name: str, fn: Callable[[], Outcome]) -> Callable[[], None]:
        return guarded(name, fn, status, redact=redact, serial=serial, clock=clock, record=record)

    common: dict[str, Any] = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": sched.misfire_grace_s,
    }
    first = {"next_run_time": datetime.now(UTC)} if initial_run else {}
    scheduler.add_job(
        wrap("cycle", jobs.cycle),
        IntervalTrigger(seconds=every.total_seconds(), timezone=UTC),
        id="cycle",
        name="cycle",
        **first,
        **common,
    )
    weekday = WEEKDAYS.index(sched.weekly_digest_day)
    for job_id, fn, trigger in (
        ("daily-digest", jobs.daily_digest, LocalTimeTrigger(sched.digest_hour, zone)),
        ("weekly-digest", jobs.weekly_digest, LocalTimeTrigger(sched.digest_hour, zone, weekday)),
    ):
        scheduler.add_job(wrap(job_id, fn), trigger, id=job_id, name=job_id, **common)

    def on_missed(event: JobEvent) -> None:
        status.missed(event.job_id)
        log.warning(
            "job %s did not run at %s (missed or still running)",
            event.job_id,
            getattr(event, "scheduled_run_time", "?"),
        )

    scheduler.add_listener(on_missed, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler


def next_runs(config: Config, last_cycle_start: datetime | None, now: datetime) -> dict[str, Any]:
    """When each job runs next, as a running daemon with ``config`` would run it: the cycle
    ``cycle_minutes`` after the last cycle started (at daemon start when it never ran, or when
    that time passed: a missed run is run once at start), the digests at the next
    ``digest_hour`` in ``[schedule] timezone`` (the triggers the daemon uses)."""
    sched = config.schedule
    zone = ZoneInfo(sched.timezone)
    weekday = WEEKDAYS.index(sched.weekly_digest_day)
    cycle = last_cycle_start + timedelta(minutes=sched.cycle_minutes) if last_cycle_start else None
    return {
        "cycle": cycle,
        "daily-digest": LocalTimeTrigger(sched.digest_hour, zone).get_next_fire_time(None, now),
        "weekly-digest": LocalTimeTrigger(sched.digest_hour, zone, weekday).get_next_fire_time(
            None, now
        ),
    }


def schedule_lines(scheduler: BackgroundScheduler, zone: ZoneInfo) -> list[str]:
    """One line per job: its trigger and next fire time in ``zone``."""
    lines = []
    for job in scheduler.get_jobs():
        when = job.next_run_time
        shown = when.astimezone(zone).isoformat(timespec="seconds") if when else "paused"
        trigger = job.trigger
        what = f"every {trigger.interval}" if isinstance(trigger, IntervalTrigger) else trigger
        lines.append(f"{job.id:<14} {what}  next {shown}")
    return lines


def serve(
    scheduler: BackgroundScheduler,
    status: DaemonStatus,
    *,
    leadership: Leadership,
    zone: ZoneInfo,
    echo: Callable[[str], None],
    check_every_s: float = 30.0,
) -> None:
    """Start ``scheduler``, print the schedule, and run until SIGTERM or SIGINT; then wait for
    the running job, stop and print each job's status. Raises LeadershipLost (after stopping)
    when the lock goes away while running. Call from the main thread."""
    stop, received = threading.Event(), []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        scheduler.start()
        for line in schedule_lines(scheduler, zone):
            echo(line)
        while not stop.wait(check_every_s):
            leadership.check()
        echo(f"received {received[0]}: waiting for the running job, then stopping")
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        echo("stopped; job status:")
        for line in status.lines() or ["no job ran"]:
            echo(f"  {line}")
