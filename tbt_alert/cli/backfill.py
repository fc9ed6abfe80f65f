"""``tbt-alert backfill``: the whole ePing history, window by window, resumable."""

from __future__ import annotations

import sys
from datetime import date, datetime
from typing import Any

import click
from sqlalchemy.engine import Engine

from tbt_alert.backfill import (
    BACKFILL_DETAILS,
    FIRST_DAY,
    UNITS,
    BackfillReport,
    Window,
    backfill,
    completes_top_window,
    pending_windows,
)
from tbt_alert.cli.context import Context, exclusive, now_utc, parse_day, pass_ctx
from tbt_alert.status import RunStatus
from tbt_alert.store.tables import CrawlRun

DETAILS = ("downloads", "related,downloads", "related", "none")


class BarProgress:
    """Advances a click progress bar by one per window of the backfill; counts notifications. When
    standard error is not a terminal (cron, a log file) the bar is hidden, so each finished window
    is written as one line instead."""

    def __init__(self, total: int, *, lines: bool) -> None:
        self.bar: Any = None
        self.total, self.lines = total, lines
        self.done = self.items = self.failed = 0

    def __call__(self, window: Window, run: CrawlRun) -> None:
        if run.status == RunStatus.SUCCESS:
            self.items += run.items
        if completes_top_window(window, run):
            self.done += 1
            self.failed += run.status != RunStatus.SUCCESS
            self.bar.update(1, current_item=window)
            if self.lines:
                click.echo(self.label(window), err=True)
        else:
            self.bar.update(0, current_item=window)

    def label(self, window: Any) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        last = f" [{window}]" if window is not None else ""
        return f"windows {self.done}/{self.total}, {self.items} notifications{failed}{last}"


@click.command(name="backfill")
@click.option(
    "--since",
    default=FIRST_DAY.isoformat(),
    show_default=True,
    help="First distribution date, YYYY-MM-DD.",
)
@click.option("--until", help="Last distribution date, YYYY-MM-DD (default: today, UTC).")
@click.option(
    "--window",
    "unit",
    type=click.Choice(UNITS),
    default="month",
    show_default=True,
    help="Size of one crawl: calendar year, month or ISO week. A window ePing finds too "
    "big is split into smaller ones (a year into months, a month or week into days).",
)
@click.option(
    "--details",
    type=click.Choice(DETAILS),
    default=BACKFILL_DETAILS,
    show_default=True,
    help="Detail requests: getDownloadLinks for items that link to no file, "
    "getRelatedNotifications for addenda and joint items (about one more request "
    "per addendum), or none.",
)
@pass_ctx
def backfill_cmd(obj: Context, since: str, until: str | None, unit: str, details: str) -> None:
    """Crawl and store the ePing history from --since to --until, one window at a time.

    Each window is one crawl (polite: one request at a time, [eping] download_delay_s apart,
    robots.txt obeyed) recorded as a crawl run. A window already crawled successfully is skipped,
    so an interrupted backfill resumes where it stopped, and running the command again retries
    only the windows that failed. A window with no notifications counts as failed ('empty'):
    that can be legitimate in the early years, and the summary says so.

    Shows a progress bar on standard error and prints a summary. Exit status 1 when any window
    failed."""
    start = parse_day(since, "--since") or FIRST_DAY
    now = now_utc()
    end = parse_day(until, "--until") or now.date()
    if start > end:
        raise click.BadParameter(f"{start} is after {end}", param_hint="--since")
    engine = obj.engine(migrate=True)
    with exclusive(engine):
        todo = pending_windows(engine, start, end, unit)
        report = _run(obj, engine, start, end, now, unit, details, len(todo))
    click.echo("\n".join(report.lines()))
    if not report.ok:
        sys.exit(1)


def _run(
    obj: Context,
    engine: Engine,
    start: date,
    end: date,
    now: datetime,
    unit: str,
    details: str,
    total: int,
) -> BackfillReport:
    progress = BarProgress(total, lines=not sys.stderr.isatty())
    with click.progressbar(
        length=max(total, 1),
        label="backfill",
        file=sys.stderr,
        show_pos=False,
        show_eta=True,
        item_show_func=progress.label,
    ) as bar:
        progress.bar = bar
        report = backfill(
            engine,
            obj.config,
            since=start,
            until=end,
            now=now,
            window=unit,
            progress=progress,
            details=details,
        )
        bar.update(max(total, 1) - progress.done)  # windows whose last part was a checkpoint
    return report
