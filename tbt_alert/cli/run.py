"""``tbt-alert run``, ``crawl`` and ``demo``: the main job and its parts."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tbt_alert.cli.context import (
    Context,
    exclusive,
    loopback_warning,
    make_classifier,
    make_mailer,
    now_utc,
    parse_window,
    pass_ctx,
)
from tbt_alert.crawl.targets import SOURCES

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.engine import Engine

    from tbt_alert.store.ingest import IngestReport
    from tbt_alert.store.tables import CrawlRun


@dataclass
class JobRecord:
    outcome: Any = None  # a CycleSummary or DigestSummary, once the job returned


@contextmanager
def recorded(obj: Context, engine: Engine, job: str, started: datetime) -> Iterator[JobRecord]:
    """Store the run of ``job`` in the job_run table once it ended (ok, failed or raised), with
    its error on one line and the configured secrets masked."""
    from tbt_alert.daemon.scheduler import failure_line
    from tbt_alert.store.jobruns import record_job_run

    secrets = sorted(obj.secrets(), key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in secrets:
            text = text.replace(secret, "[redacted]")
        return text

    run = JobRecord()
    try:
        yield run
    except Exception as e:
        first = (str(e).splitlines() or [""])[0]
        with suppress(Exception):  # the job's own error is the one to report
            record_job_run(
                engine,
                job,
                started,
                now_utc(),
                ok=False,
                error=redact(f"{type(e).__name__}: {first}"),
            )
        raise
    ok = bool(run.outcome is not None and run.outcome.ok)
    error = None if ok or run.outcome is None else failure_line(run.outcome, redact)
    record_job_run(engine, job, started, now_utc(), ok=ok, error=error)


@click.command(name="run")
@click.option(
    "--once",
    is_flag=True,
    required=True,
    help="Run one full cycle and exit (required; 'tbt-alert daemon' runs on a schedule).",
)
@click.option(
    "--since",
    help="Crawl from this distribution date, YYYY-MM-DD "
    "(default: the end of the last successful crawl, else 30 days back).",
)
@click.option("--until", help="Crawl up to this distribution date, YYYY-MM-DD (default: today).")
@pass_ctx
def run_cmd(obj: Context, once: bool, since: str | None, until: str | None) -> None:
    """Crawl ePing, ingest, classify, plan and send what is due; print a summary.

    Sending happens even when the crawl failed (retries and earlier warnings never wait for a
    source). Exit status 1 when a step failed (crawl, invalid items, or messages not accepted)."""
    from tbt_alert.pipeline import run_cycle

    warning = loopback_warning(obj.config)
    if warning:
        click.echo(warning, err=True)
    now = now_utc()
    start, end = parse_window(since, until, now.date())
    engine = obj.engine(migrate=True)
    with (
        exclusive(engine),
        recorded(obj, engine, "cycle", now) as job_run,
        make_mailer(obj.config) as mailer,
    ):
        summary = run_cycle(
            engine,
            obj.config,
            classifier=make_classifier(obj.config),
            mailer=mailer,
            now=now,
            since=start,
            until=end,
        )
        job_run.outcome = summary
    click.echo("\n".join(summary.lines()))
    if not summary.ok:
        sys.exit(1)


@click.command(name="send")
@click.option(
    "--workers",
    type=click.IntRange(1, 32),
    default=1,
    show_default=True,
    help="Concurrent senders, each with its own mail connection.",
)
@pass_ctx
def send_cmd(obj: Context, workers: int) -> None:
    """Send the messages that are due (first attempts and retries) without crawling or planning.

    Safe to run next to 'run --once', the daemon or other 'send' processes: each delivery is
    claimed before it is sent. Exit status 1 when messages were not accepted."""
    from tbt_alert.mail.claims import backlog
    from tbt_alert.pipeline import send_pending, unsent

    engine = obj.engine(migrate=True)
    now = now_utc()
    counts = send_pending(
        engine,
        obj.config,
        mailer_factory=lambda: make_mailer(obj.config),
        now=now,
        sector_names=make_classifier(obj.config).sector_names(),
        workers=workers,
    )
    click.echo(
        "emails      " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none due")
    )
    click.echo(f"waiting     {backlog(engine, now_utc()).line()}")
    if unsent(counts):
        sys.exit(1)


@click.command(name="digest")
@click.option(
    "--cadence",
    type=click.Choice(["daily", "weekly"]),
    required=True,
    help="Which digests: the previous day's or the previous ISO week's.",
)
@pass_ctx
def digest_cmd(obj: Context, cadence: str) -> None:
    """Plan and send the daily or weekly digests of every closed period not yet sent.

    A period is a calendar day or ISO week in [schedule] timezone; periods missed while nothing
    ran are caught up (at most 7 days or 4 weeks), each once. Exit status 1 when messages failed."""
    from tbt_alert.pipeline import deliver_digests

    warning = loopback_warning(obj.config)
    if warning:
        click.echo(warning, err=True)
    engine = obj.engine(migrate=True)
    now = now_utc()
    job = f"{cadence}-digest"
    with (
        exclusive(engine),
        recorded(obj, engine, job, now) as job_run,
        make_mailer(obj.config) as mailer,
    ):
        summary = deliver_digests(
            engine,
            obj.config,
            classifier=make_classifier(obj.config),
            mailer=mailer,
            now=now,
            cadence=cadence,
        )
        job_run.outcome = summary
    click.echo("\n".join(summary.lines()))
    if not summary.ok:
        sys.exit(1)


@click.command(name="crawl")
@click.argument("source", type=click.Choice(SOURCES), default="eping")
@click.option("--since", help="First distribution date, YYYY-MM-DD (default: as for 'run').")
@click.option("--until", help="Last distribution date, YYYY-MM-DD (default: today).")
@pass_ctx
def crawl_cmd(obj: Context, source: str, since: str | None, until: str | None) -> None:
    """Crawl SOURCE into the database without classifying or sending.

    Sources: eping (the WTO's ePing API; the keyed API when [eping] api_key is set), eutbt (the
    EU TBT database), feeds (the RSS/Atom feeds in [feeds] urls), wtodoc (the WTO documents of
    recent notifications whose record leaves fields or addendum events out; dates ignored).
    Exit status 1 when the run failed (unreachable, nothing returned, or mostly invalid items)."""
    now = now_utc()
    first, last = parse_window(since, until, now.date())
    engine = obj.engine(migrate=True)
    with exclusive(engine):
        run, report = _crawl(obj, engine, source, first, last, now)
    if run is None:
        click.echo("crawl wtodoc: no recent notification needs its document")
        return
    if report is None:
        click.echo(f"crawl {source} {run.since}..{run.until} failed: {run.error}", err=True)
        sys.exit(1)
    click.echo(f"crawl {source} {run.since}..{run.until}: {run.items} items; {report.summary()}")
    for gap in report.gaps:
        click.echo(f"  gap: {gap}")


def _crawl(
    obj: Context, engine: Engine, source: str, first: date | None, last: date | None, now: datetime
) -> tuple[CrawlRun | None, IngestReport | None]:
    from tbt_alert.pipeline import crawl_and_ingest, default_since, fetch_documents
    from tbt_alert.store.engine import session_scope

    if source == "wtodoc":
        return fetch_documents(engine, obj.config, now=now)
    else:
        start = first
        if start is None:
            with session_scope(engine) as session:
                start = default_since(session, source, now.date(), obj.config.eping.lookback_days)
        end = last or now.date()
        return crawl_and_ingest(engine, obj.config, source=source, since=start, until=end, now=now)


@click.command(name="demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path),
    default=Path("tbt-alert-demo"),
    show_default=True,
    help="Folder for the demo's database and outbox.",
)
@click.option("--fresh", is_flag=True, help="Start from an empty demo folder.")
def demo_cmd(directory: Path, fresh: bool) -> None:
    """Run the main job offline on bundled real notifications.

    Serves the bundled notifications from a loopback server shaped like ePing, runs one full
    cycle against it for demo subscribers, and writes the warnings to the outbox as .eml files.
    Run it twice: the second run sends nothing again."""
    from tbt_alert.demo.run import run_demo

    ok, lines = run_demo(directory, fresh=fresh, now=now_utc())
    click.echo("\n".join(lines))
    if not ok:
        sys.exit(1)
