"""Backfill ePing history window by window, resumable after an interruption.

The range is cut into windows (calendar years, months or ISO weeks, clipped to the range); each is
one :func:`tbt_alert.pipeline.crawl_and_ingest` call, so each leaves a ``CrawlRun`` row.

* Checkpoints: a window is done when successful ePing runs cover every day of it (a run covering
  exactly the window is the usual case; a wider poll counts too). A rerun skips done windows, so an
  interrupted backfill resumes where it stopped and a failed window is retried on the next run.
* Splitting: a window that ePing flags ``isCountExceeded``, or whose totalCount exceeds the
  spider's cap (:data:`tbt_alert.sources.eping_api.MAX_RESULTS`, 10,000; a busy month has ~400 TBT
  notifications), fails with reason ``eping_count_exceeded`` and is split (a year into months, a
  month or week into days), each part crawled and checkpointed on its own. A day that is still too
  big fails.
* Empty windows: a crawl that returns nothing fails (silence is failure, :mod:`tbt_alert.crawl.runner`).
  In the early years ePing may legitimately have no TBT notification in a window; such a window is
  recorded as failed, the backfill carries on, and the report lists it as ``empty`` apart from
  other failures, so an operator can tell a quiet month from an outage. A rerun retries it.
* Politeness is the spider's: one request at a time, ``[eping] download_delay_s`` (1 s) apart,
  robots.txt obeyed, the project's User-Agent; only ``[fetch] allowed_hosts`` and the configured
  ePing URLs' own ``host:port`` may be fetched (:mod:`tbt_alert.crawl.targets`).
* Detail requests: ``details="downloads"`` by default. In a backfill every addendum's family
  arrives anyway (it shares ``measure_key``), while ``getRelatedNotifications`` would cost about
  one request per addendum, tens of times the page requests; pass ``"related,downloads"`` to
  have them anyway.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from tbt_alert.config import Config
from tbt_alert.crawl.runner import run_spider
from tbt_alert.pipeline import Crawler, crawl_and_ingest
from tbt_alert.sources.eping_api import COUNT_EXCEEDED
from tbt_alert.status import RunStatus
from tbt_alert.store.tables import CrawlRun

SOURCE = "eping"
UNITS = ("year", "month", "week")
BACKFILL_DETAILS = "downloads"
EMPTY_MARKER = "produced no items"
FIRST_DAY = date(1995, 1, 1)  # the TBT Agreement's entry into force


@dataclass(frozen=True)
class Window:
    """Distribution dates ``since``..``until`` inclusive; ``parent`` is the window it was split from."""

    since: date
    until: date
    unit: str
    parent: Window | None = field(default=None, compare=False, repr=False)

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def top(self) -> Window:
        return self if self.parent is None else self.parent.top

    def __str__(self) -> str:
        return f"{self.since}..{self.until}"


def split_windows(since: date, until: date, unit: str = "month") -> list[Window]:
    """Cut ``since``..``until`` into calendar windows of ``unit``, clipped to the range."""
    if unit not in (*UNITS, "day"):
        raise ValueError(f"window must be one of {', '.join(UNITS)}, got {unit!r}")
    if since > until:
        raise ValueError(f"empty range {since}..{until}")
    return list(_windows(since, until, unit, None))


def _windows(since: date, until: date, unit: str, parent: Window | None) -> Iterator[Window]:
    start = since
    while start <= until:
        end = min(_unit_end(start, unit), until)
        yield Window(start, end, unit, parent)
        start = end + timedelta(days=1)


def _unit_end(day: date, unit: str) -> date:
    if unit == "year":
        return date(day.year, 12, 31)
    if unit == "month":
        return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
    if unit == "week":
        return day + timedelta(days=6 - day.weekday())
    return day


def split_window(window: Window) -> list[Window]:
    """A year into months, a month or week into days; a day cannot be split (empty list)."""
    smaller = {"year": "month", "month": "day", "week": "day"}.get(window.unit)
    if smaller is None:
        return []
    return list(_windows(window.since, window.until, smaller, window))


def covered(window: Window, spans: Sequence[tuple[date, date]]) -> bool:
    """True when the union of the inclusive ``spans`` holds every day of ``window``."""
    day = window.since
    for since, until in sorted(spans):
        if since > day:
            return False
        day = max(day, until + timedelta(days=1))
        if day > window.until:
            return True
    return day > window.until


def done_spans(session: Session, source: str = SOURCE) -> list[tuple[date, date]]:
    """The date ranges of every successful crawl of ``source``: the checkpoints."""
    runs = session.exec(
        select(CrawlRun).where(CrawlRun.source == source, CrawlRun.status == RunStatus.SUCCESS)
    )
    return [(run.since, run.until) for run in runs]


def pending_windows(engine: Engine, since: date, until: date, unit: str = "month") -> list[Window]:
    """The windows of the backfill that no checkpoint covers yet."""
    with Session(engine) as session:
        spans = done_spans(session)
    return [w for w in split_windows(since, until, unit) if not covered(w, spans)]


def will_split(window: Window, run: CrawlRun) -> bool:
    """True when this failed run's window is split into smaller windows rather than given up."""
    failed = run.status == RunStatus.FAILED
    return failed and COUNT_EXCEEDED in (run.error or "") and bool(split_window(window))


def completes_top_window(window: Window, run: CrawlRun) -> bool:
    """True when ``run`` is the last crawl of one window of the backfill (for progress bars)."""
    return not will_split(window, run) and window.until == window.top.until


@dataclass
class BackfillReport:
    since: date
    until: date
    unit: str
    planned: int = 0
    skipped: list[Window] = field(default_factory=list)
    crawled: list[Window] = field(default_factory=list)
    split: list[Window] = field(default_factory=list)
    failed: list[tuple[Window, str]] = field(default_factory=list)
    items: int = 0
    new: int = 0
    updated: int = 0
    stopped: str | None = None  # why the backfill gave up before the last window
    failed_in_a_row: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed and self.stopped is None

    @property
    def empty(self) -> list[Window]:
        return [w for w, error in self.failed if EMPTY_MARKER in error]

    def lines(self) -> list[str]:
        lines = [
            f"backfill {SOURCE} {self.since}..{self.until} by {self.unit}: {self.planned} windows",
            f"  already done  {len(self.skipped)} (checkpoints)",
            f"  crawled       {len(self.crawled)} windows ({len(self.split)} split into smaller)",
            f"  failed        {len(self.failed)} ({len(self.empty)} empty)",
            f"  stored        {self.items} items: {self.new} new, {self.updated} updated",
        ]
        if self.stopped:
            lines.append(f"  stopped early: {self.stopped}")
        if self.failed:
            lines.append("failed windows (run the backfill again to retry only these):")
            lines += [f"  {w}  {_kind(error)}: {error}" for w, error in self.failed]
        return lines


def _kind(error: str) -> str:
    return "empty" if EMPTY_MARKER in error else "failed"


Progress = Callable[[Window, CrawlRun], None]


def backfill(
    engine: Engine,
    config: Config,
    *,
    since: date,
    until: date,
    now: datetime,
    window: str = "month",
    crawler: Crawler = run_spider,
    settings: dict[str, Any] | None = None,
    progress: Progress | None = None,
    details: str = BACKFILL_DETAILS,
) -> BackfillReport:
    """Crawl and ingest every window of ``since``..``until`` not yet done; see the module doc.

    ``progress`` is called after every crawl made (the parts of a split window too) with the
    finished ``CrawlRun`` row. Raises nothing for failed windows: the report lists them."""
    report = BackfillReport(since, until, window)
    windows = split_windows(since, until, window)
    report.planned = len(windows)
    with Session(engine) as session:
        spans = done_spans(session)
    job = _Job(
        engine, config, now, crawler, settings, {"details": details}, progress, report, spans
    )
    for part in windows:
        if report.stopped:
            break
        job.run(part)
    return report


@dataclass
class _Job:
    engine: Engine
    config: Config
    now: datetime
    crawler: Crawler
    settings: dict[str, Any] | None
    spider_args: dict[str, str]
    progress: Progress | None
    report: BackfillReport
    spans: list[tuple[date, date]]

    def run(self, window: Window) -> None:
        if self.report.stopped:
            return
        if covered(window, self.spans):
            self.report.skipped.append(window)
            return
        run = self.crawl(window)
        if self.progress is not None:
            self.progress(window, run)
        if run.status == RunStatus.SUCCESS:
            self.record_success(window, run)
        elif will_split(window, run):
            self.report.split.append(window)
            for part in split_window(window):
                self.run(part)
        else:
            self.record_failure(window, _first_line(run.error))

    def record_failure(self, window: Window, error: str) -> None:
        """A failed window; after ``backfill_max_failed_windows`` in a row (an empty window
        neither counts nor resets), stop: the source is down, or this host is offline."""
        self.report.failed.append((window, error))
        if EMPTY_MARKER in error:
            return
        self.report.failed_in_a_row += 1
        limit = self.config.eping.backfill_max_failed_windows
        if limit and self.report.failed_in_a_row >= limit:
            self.report.stopped = (
                f"{limit} windows failed in a row (last: {error}); check the source or the "
                "network, then run the backfill again: it resumes where it stopped"
            )

    def crawl(self, window: Window) -> CrawlRun:
        run, _ = crawl_and_ingest(
            self.engine,
            self.config,
            source=SOURCE,
            since=window.since,
            until=window.until,
            now=self.now,
            crawler=self.crawler,
            settings=self.settings,
            spider_args=self.spider_args,
        )
        with Session(self.engine) as session:
            row = session.get(CrawlRun, run.id)
            if row is None:  # the row is written by crawl_and_ingest before it crawls
                raise LookupError(f"crawl run {run.id} vanished")
            session.expunge(row)
        return row

    def record_success(self, window: Window, run: CrawlRun) -> None:
        self.report.failed_in_a_row = 0
        self.spans.append((window.since, window.until))
        self.report.crawled.append(window)
        self.report.items += run.items
        self.report.new += run.new
        self.report.updated += run.updated


def _first_line(error: str | None) -> str:
    return (error or "unknown error").strip().splitlines()[0][:300]
