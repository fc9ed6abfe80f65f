"""One full cycle: crawl -> ingest -> classify -> plan -> deliver. Plain functions; the CLI and the
daemon only call them. A failed crawl ingests nothing and is reported as a failure (silence is
failure), but what is already due is still planned and sent: retries never wait for a source."""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tbt_alert.alerts.digest import plan_digests
from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.alerts.signup import purge_unconfirmed
from tbt_alert.classify.annotate import ClassifierLike, annotate_pending
from tbt_alert.comments.calls import CallReport, open_calls
from tbt_alert.comments.reminders import ReminderSettings, send_reminders
from tbt_alert.config import Config
from tbt_alert.crawl.documents import document_targets, write_targets
from tbt_alert.crawl.fetchguard import AllowList
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.crawl.targets import crawl_target
from tbt_alert.errors import CrawlError
from tbt_alert.mail.claims import Backlog, backlog, worker_id
from tbt_alert.mail.deliver import DeliverySettings, deliver_due
from tbt_alert.mail.language import translator_from
from tbt_alert.mail.mailer import Mailer
from tbt_alert.mail.operator import watch_sources
from tbt_alert.sources.canonical import read_jsonl
from tbt_alert.status import Cadence, ReviewMode, RunStatus
from tbt_alert.store.engine import session_scope
from tbt_alert.store.gaps import WHOLE_RUN, Gap, gaps_from_stats, oldest_gap_day, record_gaps
from tbt_alert.store.ingest import IngestReport, ingest_lines, ingest_records
from tbt_alert.store.tables import CrawlRun
from tbt_alert.text.dates import parse_date
from tbt_alert.triage.index import refresh_index

# Re-read the last week on every poll: sources publish late and correct themselves, and a window
# of a week always holds notifications (the WTO circulates ~80 a week), so an empty answer is an
# anomaly rather than a quiet day.
OVERLAP = timedelta(days=7)
ALERT_WINDOW_DAYS = 45

Crawler = Callable[..., CrawlOutput]


def unsent(counts: Counter[str]) -> int:
    """Messages due that the mail server did not take (or that waited behind an open breaker)."""
    return sum(counts[k] for k in ("failed_temp", "failed_perm", "unknown", "paused", "deadline"))


@dataclass
class CycleSummary:
    since: date
    until: date
    crawled: int = 0
    invalid: int = 0
    new: int = 0
    updated: int = 0
    classified: int = 0
    relevant: int = 0
    bulletins: int = 0
    deliveries_planned: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    calls: CallReport = field(default_factory=CallReport)
    reminders: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    waiting: Backlog = field(default_factory=Backlog)
    warnings: list[str] = field(default_factory=list)  # stored, but something was not understood
    gaps: list[str] = field(default_factory=list)  # enrichment that failed: retried next cycle
    operator: list[str] = field(default_factory=list)  # operator alerts sent this cycle

    @property
    def ok(self) -> bool:
        return not self.failures and not unsent(self.sent) and not unsent(self.reminders)

    def lines(self) -> list[str]:
        sent = ", ".join(f"{k} {v}" for k, v in sorted(self.sent.items())) or "none due"
        return [
            f"window      {self.since} .. {self.until}",
            f"crawled     {self.crawled} items ({self.invalid} invalid)",
            f"stored      {self.new} new, {self.updated} updated",
            f"classified  {self.classified} ({self.relevant} with an alert-tier sector)",
            f"planned     {self.bulletins} bulletins, {self.deliveries_planned} deliveries",
            f"emails      {sent}",
            f"comments    {len(self.calls.opened)} calls opened, {len(self.calls.moved)} moved, "
            f"{len(self.calls.withdrawn)} withdrawn; reminders "
            + (", ".join(f"{k} {v}" for k, v in sorted(self.reminders.items())) or "none due"),
            f"waiting     {self.waiting.line()}",
            f"failures    {len(self.failures)}" + "".join(f"\n  - {f}" for f in self.failures),
            f"gaps        {len(self.gaps)}" + "".join(f"\n  - {g}" for g in self.gaps[:10]),
            f"warnings    {len(self.warnings)}" + "".join(f"\n  - {w}" for w in self.warnings[:10]),
        ] + [f"operator    {line}" for line in self.operator]


def default_since(session: Session, source: str, today: date, lookback_days: int) -> date:
    """The end of the last successful crawl (less an overlap), else ``lookback_days`` back."""
    last = session.exec(
        select(CrawlRun)
        .where(CrawlRun.source == source, CrawlRun.status == RunStatus.SUCCESS)
        .order_by(col(CrawlRun.until).desc())
    ).first()
    if last is None:
        return today - timedelta(days=lookback_days)
    return min(last.until - OVERLAP, today)


def retry_since(session: Session, today: date, lookback_days: int) -> date:
    """Where the ePing crawl starts: as :func:`default_since`, or earlier to reach the oldest
    open enrichment gap, but never more than ``lookback_days`` back."""
    start = default_since(session, "eping", today, lookback_days)
    gap_day = oldest_gap_day(session, "eping")
    if gap_day is not None:
        start = min(start, max(gap_day, today - timedelta(days=lookback_days)))
    return start


def crawl_and_ingest(
    engine: Engine,
    config: Config,
    *,
    source: str,
    since: date,
    until: date,
    now: datetime,
    crawler: Crawler = run_spider,
    settings: dict | None = None,
    spider_args: dict[str, str] | None = None,
) -> tuple[CrawlRun, IngestReport | None]:
    """Crawl one source into the database, recording the run. Raises nothing for a failed crawl:
    the run row says failed and carries the error; nothing is ingested from it. ``settings`` and
    ``spider_args`` add to what the configuration implies (:mod:`tbt_alert.crawl.targets`)."""
    target = crawl_target(source, config)
    with session_scope(engine) as session:
        run = CrawlRun(source=source, since=since, until=until, started_at=now)
        session.add(run)
    workdir = run_workdir(config, source, run.id)
    try:
        output = crawler(
            source,
            since=since,
            until=until,
            base_url=target.base_url,
            workdir=workdir,
            timeout_s=config.eping.timeout_s,
            settings={**target.settings, **(settings or {})},
            spider_args={**target.spider_args, **(spider_args or {})},
            max_invalid_ratio=target.max_invalid_ratio,
            env=target.env,
        )
    except CrawlError as e:  # the work folder stays: its log is the evidence
        _close_run(engine, run, RunStatus.FAILED, now, error=f"{e}\n(work folder {workdir})")
        return run, None
    except BaseException as e:  # interrupted (SIGTERM, Ctrl-C) or a bug: never left 'running'
        _close_run(engine, run, RunStatus.ABANDONED, now, error=f"interrupted: {e!r}")
        raise
    with session_scope(engine) as session:
        report = ingest_records(session, output.records, source=source, now=now)
        args = {**target.spider_args, **(spider_args or {})}
        report.gaps = _record_gaps(session, source, output, args, now)
    _close_run(
        engine,
        run,
        RunStatus.SUCCESS,
        now,
        items=len(output.records),
        invalid=output.invalid + len(report.invalid),
        new=len(report.new),
        updated=len(report.updated),
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return run, report


def run_workdir(config: Config, source: str, run_id: int | None) -> Path:
    """A folder of this run's own: two runs on one host never share crawl files."""
    config.work_dir.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{source}-run{run_id}-", dir=config.work_dir))


def _record_gaps(
    session: Session, source: str, output: CrawlOutput, args: dict[str, str], now: datetime
) -> list[str]:
    """Record what the crawl could not add (``tbt/gaps``) and resolve what it now added."""
    days = {r.symbol: parse_date(r.distribution_date) for r in output.records}
    gaps = gaps_from_stats(output.stats, days)
    kinds = [k.strip() for k in args.get("details", "").split(",") if k.strip() not in ("", "none")]
    if source == "wtodoc":
        kinds = ["documents"]
    record_gaps(session, source, gaps, crawled=days, kinds=kinds, now=now)
    return [g.line() for g in gaps]


def document_gap(engine: Engine, run: CrawlRun, now: datetime) -> str:
    """A failed WTO document run is a gap: the warnings went out without the documents' fields."""
    error = (run.error or "failed").splitlines()[0][:300]
    with session_scope(engine) as session:
        gap = Gap(WHOLE_RUN, "documents", error)
        record_gaps(session, "wtodoc", [gap], crawled=(), kinds=(), now=now)
    return f"wtodoc documents: {error} (retried next cycle)"


def fetch_documents(
    engine: Engine,
    config: Config,
    *,
    now: datetime,
    crawler: Crawler = run_spider,
    settings: dict | None = None,
) -> tuple[CrawlRun | None, IngestReport | None]:
    """Fetch and parse the WTO documents of recent notifications whose record leaves something
    out (:mod:`tbt_alert.crawl.documents`); (None, None) when there is nothing to fetch."""
    wtodoc = crawl_target("wtodoc", config)
    with session_scope(engine) as session:
        targets = document_targets(
            session, now, AllowList.parse(wtodoc.settings["TBT_ALLOWED_HOSTS"])
        )
    if not targets:
        return None, None
    folder = run_workdir(config, "wtodoc-targets", None)
    try:
        path = write_targets(targets, folder)
        return crawl_and_ingest(
            engine,
            config,
            source="wtodoc",
            since=now.date(),
            until=now.date(),
            now=now,
            crawler=crawler,
            settings=settings,
            spider_args={"targets": str(path)},
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def storable(text: str | None) -> str | None:
    """Text fit for any database: PostgreSQL refuses NUL characters, scraped errors hold some."""
    return text.replace("\x00", "\\x00") if text else text


def _close_run(
    engine: Engine,
    run: CrawlRun,
    status: RunStatus,
    now: datetime,
    *,
    error: str | None = None,
    **counts: int,
) -> None:
    with session_scope(engine) as session:
        row = session.get(CrawlRun, run.id)
        if row is None:
            return
        error = storable(error)
        for target in (row, run):
            target.status, target.finished_at, target.error = status, now, error
            for key, value in counts.items():
                setattr(target, key, value)
        session.add(row)


def run_cycle(
    engine: Engine,
    config: Config,
    *,
    classifier: ClassifierLike,
    mailer: Mailer,
    now: datetime,
    since: date | None = None,
    until: date | None = None,
    crawler: Crawler = run_spider,
    spider_settings: dict | None = None,
) -> CycleSummary:
    """Crawl ePing from ``since``, ingest, classify, plan and send due warnings."""
    today = now.date()
    with session_scope(engine) as session:
        start = since or retry_since(session, today, config.eping.lookback_days)
    summary = CycleSummary(since=start, until=until or today)
    run, report = crawl_and_ingest(
        engine,
        config,
        source="eping",
        since=start,
        until=summary.until,
        now=now,
        crawler=crawler,
        settings=spider_settings,
    )
    if report is None:
        summary.failures.append(f"crawl eping failed: {run.error}")
    else:
        summary.crawled, summary.invalid = run.items, run.invalid
        summary.new, summary.updated = len(report.new), len(report.updated)
        summary.failures.extend(f"invalid item, {e}" for e in report.invalid)
        summary.warnings.extend(report.warnings)
        summary.gaps.extend(report.gaps)
        docs, doc_report = fetch_documents(
            engine, config, now=now, crawler=crawler, settings=spider_settings
        )
        if docs is not None and docs.status == RunStatus.FAILED:
            summary.gaps.append(document_gap(engine, docs, now))
        elif doc_report is not None:
            summary.gaps.extend(doc_report.gaps)
    deliver_pending(engine, config, classifier=classifier, mailer=mailer, now=now, summary=summary)
    summary.calls, summary.reminders = follow_calls(engine, config, mailer=mailer, now=now)
    told, untold = watch_sources(engine, config, mailer, now)
    summary.operator.extend(told)
    summary.failures.extend(untold)
    return summary


def reminder_settings(config: Config) -> ReminderSettings:
    return ReminderSettings(
        sender=config.mail.sender,
        domain=config.mail.message_id_domain,
        public_url=config.web.public_url,
        secret_key=config.web.secret_key,
        reply_domain=config.mail.reply_domain,
        reminder_days=config.comments.reminder_days,
    )


def follow_calls(
    engine: Engine, config: Config, *, mailer: Mailer, now: datetime
) -> tuple[CallReport, Counter[str]]:
    """Open calls for comments on what was warned about, follow addenda, send due reminders."""
    with session_scope(engine) as session:
        calls = open_calls(session, now=now, lead_days=config.comments.lead_days)
    with Session(engine, expire_on_commit=False) as session:
        sent = send_reminders(session, mailer, reminder_settings(config), now=now)
    return calls, sent


def delivery_settings(config: Config) -> DeliverySettings:
    return DeliverySettings(
        sender=config.mail.sender,
        public_url=config.web.public_url,
        domain=config.mail.message_id_domain,
        limit=config.mail.max_per_run,
        reply_domain=config.mail.reply_domain,
        message_timeout_s=config.mail.message_timeout_s,
        run_timeout_s=config.mail.run_timeout_s,
        bounce_domain=config.mail.bounce_domain,
        secret_key=config.web.secret_key,
    )


def deliver_pending(
    engine: Engine,
    config: Config,
    *,
    classifier: ClassifierLike,
    mailer: Mailer,
    now: datetime,
    summary: CycleSummary,
) -> None:
    """Purge stale unconfirmed signups, classify what is new, plan what is due, send it."""
    with session_scope(engine) as session:
        purge_unconfirmed(session, now=now, days=config.web.unconfirmed_days)
    with session_scope(engine) as session:
        annotated = annotate_pending(session, classifier)
        refresh_index(session)
        plan = plan_warnings(
            session,
            now=now,
            window_days=ALERT_WINDOW_DAYS,
            domain=config.mail.message_id_domain,
            review=ReviewMode(config.review.mode),
        )
    summary.classified, summary.relevant = annotated.classified, annotated.with_alert
    summary.bulletins, summary.deliveries_planned = len(plan.bulletins), plan.deliveries
    summary.sent.update(
        deliver_due(
            engine,
            mailer,
            delivery_settings(config),
            now=now,
            sector_names=classifier.sector_names(),
            translator=translator_from(config.translate, config.translate_cache),
        )
    )
    summary.waiting = backlog(engine, now)


def send_pending(
    engine: Engine,
    config: Config,
    *,
    mailer_factory: Callable[[], Mailer],
    now: datetime,
    sector_names: dict[str, tuple[str, str]],
    workers: int = 1,
) -> Counter[str]:
    """Send everything due (first attempts and retries) with ``workers`` concurrent senders,
    each with its own mail connection; claims keep them from sending one delivery twice."""
    settings = delivery_settings(config)
    translator = translator_from(config.translate, config.translate_cache)

    def work(index: int) -> Counter[str]:
        with mailer_factory() as mailer:
            return deliver_due(
                engine,
                mailer,
                settings,
                now=now,
                sector_names=sector_names,
                worker=worker_id(index),
                translator=translator,
            )

    totals: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=max(workers, 1)) as pool:
        for counts in pool.map(work, range(max(workers, 1))):
            totals.update(counts)
    return totals


@dataclass
class DigestSummary:
    cadence: str
    bulletins: list[str] = field(default_factory=list)
    deliveries_planned: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    waiting: Backlog = field(default_factory=Backlog)

    @property
    def ok(self) -> bool:
        return not unsent(self.sent)

    def lines(self) -> list[str]:
        sent = ", ".join(f"{k} {v}" for k, v in sorted(self.sent.items())) or "none due"
        periods = ", ".join(b.rsplit(":", 1)[-1] for b in self.bulletins) or "none due"
        return [
            f"{self.cadence} digests  periods {periods}",
            f"planned     {self.deliveries_planned} deliveries",
            f"emails      {sent}",
            f"waiting     {self.waiting.line()}",
        ]


def deliver_digests(
    engine: Engine,
    config: Config,
    *,
    classifier: ClassifierLike,
    mailer: Mailer,
    now: datetime,
    cadence: str,
) -> DigestSummary:
    """Classify what is new, plan the digests of every closed period not yet planned, send."""
    rhythm = Cadence(cadence)
    summary = DigestSummary(cadence=rhythm.value)
    with session_scope(engine) as session:
        annotate_pending(session, classifier)
        refresh_index(session)
        plan = plan_digests(
            session,
            rhythm,
            now=now,
            tz=ZoneInfo(config.schedule.timezone),
            window_days=ALERT_WINDOW_DAYS,
            domain=config.mail.message_id_domain,
            review=ReviewMode(config.review.mode),
        )
    summary.bulletins, summary.deliveries_planned = plan.bulletins, plan.deliveries
    summary.sent.update(
        deliver_due(
            engine,
            mailer,
            delivery_settings(config),
            now=now,
            sector_names=classifier.sector_names(),
            translator=translator_from(config.translate, config.translate_cache),
        )
    )
    summary.waiting = backlog(engine, now)
    return summary


def import_jsonl(
    session: Session, stream: IO[bytes] | IO[str], *, source: str, now: datetime
) -> IngestReport:
    """Store canonical JSON Lines (``tbt-alert import``): each line read by the source adapter
    (which reads an addendum's events), then upserted; a bad line is reported by number."""
    return ingest_lines(session, read_jsonl(stream), source=source, now=now)
