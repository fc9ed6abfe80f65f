"""Backfill: windows, checkpoints, resuming, splitting, and the ``backfill`` command.

Real crawls (the eping spider in a subprocess, ~1.5 s each) run over few windows; the window
logic and the splitting are also tested with pure functions and a stub crawler.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from tbt_alert.backfill import (
    Window,
    backfill,
    covered,
    pending_windows,
    split_window,
    split_windows,
)
from tbt_alert.cli.backfill import backfill_cmd
from tbt_alert.cli.main import main
from tbt_alert.config import Config, DatabaseConfig, EpingConfig
from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.demo.eping_items import vary_items
from tbt_alert.demo.eping_server import FakeEping
from tbt_alert.errors import CrawlError
from tbt_alert.sources.eping import map_item
from tbt_alert.status import RunStatus
from tbt_alert.store.tables import CrawlRun, Notification

DATA = Path(__file__).parents[1] / "tbt_alert" / "demo" / "data"
POOL: list[dict[str, Any]] = json.loads((DATA / "eping_demo_items.json").read_text("utf-8"))
NOW = datetime(2024, 4, 1, 12, tzinfo=UTC)
FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
D = date.fromisoformat


def items(count: int, first: str, last: str) -> list[dict[str, Any]]:
    return vary_items(POOL, count, first=D(first), last=D(last))


def config(tmp_path: Path, server: FakeEping, db_url: str = "") -> Config:
    return Config(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_url),
        eping=EpingConfig(base_url=server.base_url, download_delay_s=0, timeout_s=60),
    )


def search_dates(server: FakeEping) -> list[tuple[str, str]]:
    return [
        (r.query["distributionDateFrom"][0], r.query["distributionDateTo"][0])
        for r in server.requests
        if r.path.endswith("/getAll") and r.query["page"] == ["1"]
    ]


def runs(engine: Engine) -> list[CrawlRun]:
    with Session(engine) as session:
        return list(session.exec(select(CrawlRun).order_by(col(CrawlRun.id))))


def notification_count(engine: Engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Notification)).one()


# --- pure window logic ------------------------------------------------------------------------


def test_months_are_calendar_months_clipped_to_the_range() -> None:
    windows = split_windows(D("2024-01-15"), D("2024-03-10"), "month")
    assert [str(w) for w in windows] == [
        "2024-01-15..2024-01-31",
        "2024-02-01..2024-02-29",
        "2024-03-01..2024-03-10",
    ]


def test_weeks_run_monday_to_sunday_and_years_cover_the_range() -> None:
    weeks = split_windows(D("2024-01-03"), D("2024-01-20"), "week")
    assert [(w.since.isoformat(), w.until.isoformat()) for w in weeks] == [
        ("2024-01-03", "2024-01-07"),
        ("2024-01-08", "2024-01-14"),
        ("2024-01-15", "2024-01-20"),
    ]
    years = split_windows(D("1995-01-01"), D("2026-11-26"), "year")
    assert (
        len(years) == 32
        and sum(w.days for w in years) == (D("2026-11-26") - D("1995-01-01")).days + 1
    )


def test_bad_unit_or_range_is_refused() -> None:
    with pytest.raises(ValueError, match="window must be"):
        split_windows(D("2024-01-01"), D("2024-02-01"), "fortnight")
    with pytest.raises(ValueError, match="empty range"):
        split_windows(D("2024-02-01"), D("2024-01-01"))


def test_split_goes_year_month_day_and_stops_at_a_day() -> None:
    year = Window(D("2024-11-10"), D("2024-12-31"), "year")
    months = split_window(year)
    assert [str(m) for m in months] == ["2024-11-10..2024-11-30", "2024-12-01..2024-12-31"]
    days = split_window(months[1])
    assert len(days) == 31 and days[-1].top == year and all(d.unit == "day" for d in days)
    assert split_window(days[0]) == []


def test_coverage_is_the_union_of_successful_spans() -> None:
    window = Window(D("2024-02-01"), D("2024-02-29"), "month")
    assert covered(window, [(D("2024-01-20"), D("2024-02-10")), (D("2024-02-11"), D("2024-03-05"))])
    assert covered(window, [(D("2024-02-01"), D("2024-02-29"))])
    assert not covered(window, [(D("2024-02-01"), D("2024-02-27"))])
    assert not covered(
        window, [(D("2024-02-01"), D("2024-02-10")), (D("2024-02-12"), D("2024-03-01"))]
    )
    assert not covered(window, [])


# --- real crawls over a loopback ePing ---------------------------------------------------------


@pytest.fixture
def server() -> Iterator[FakeEping]:
    with FakeEping(items(300, "2024-01-10", "2024-03-20")) as fake:
        yield fake


def test_backfill_checkpoints_and_a_second_run_crawls_nothing(
    engine: Engine, tmp_path: Path, server: FakeEping
) -> None:
    cfg = config(tmp_path, server)
    seen: list[str] = []
    report = backfill(
        engine,
        cfg,
        since=D("2024-01-10"),
        until=D("2024-03-20"),
        now=NOW,
        settings=FAST,
        progress=lambda w, run: seen.append(f"{w} {run.status}"),
    )
    assert report.ok and len(report.crawled) == report.planned == 3 and report.items == 300
    assert seen == [
        "2024-01-10..2024-01-31 success",
        "2024-02-01..2024-02-29 success",
        "2024-03-01..2024-03-20 success",
    ]
    assert [(r.since, r.until, r.status) for r in runs(engine)] == [
        (w.since, w.until, RunStatus.SUCCESS) for w in report.crawled
    ]
    assert notification_count(engine) == 300 and report.new == 300
    requests_before = len(server.requests)
    again = backfill(
        engine, cfg, since=D("2024-01-10"), until=D("2024-03-20"), now=NOW, settings=FAST
    )
    assert again.ok and len(again.skipped) == 3 and not again.crawled
    assert len(server.requests) == requests_before  # nothing fetched, not even robots.txt
    assert pending_windows(engine, D("2024-01-10"), D("2024-03-20")) == []


def test_interrupted_backfill_resumes_with_the_missing_windows_only(
    engine: Engine, tmp_path: Path, server: FakeEping
) -> None:
    calls: list[date] = []

    def interrupted(slug: str, **kwargs: Any) -> CrawlOutput:
        calls.append(kwargs["since"])
        if len(calls) == 3:
            raise KeyboardInterrupt  # the operator's Ctrl-C, or the machine going down
        return run_spider(slug, **kwargs)

    cfg = config(tmp_path, server)
    with pytest.raises(KeyboardInterrupt):
        backfill(
            engine,
            cfg,
            since=D("2024-01-10"),
            until=D("2024-03-20"),
            now=NOW,
            crawler=interrupted,
            settings=FAST,
        )
    assert search_dates(server) == [("2024-01-10", "2024-01-31"), ("2024-02-01", "2024-02-29")]
    resumed = backfill(
        engine, cfg, since=D("2024-01-10"), until=D("2024-03-20"), now=NOW, settings=FAST
    )
    assert [str(w) for w in resumed.crawled] == ["2024-03-01..2024-03-20"]
    assert len(resumed.skipped) == 2 and resumed.ok
    assert search_dates(server)[2:] == [("2024-03-01", "2024-03-20")]
    assert notification_count(engine) == 300


def test_failed_window_is_reported_and_retried_alone(
    engine: Engine, tmp_path: Path, server: FakeEping
) -> None:
    def failing_february(slug: str, **kwargs: Any) -> CrawlOutput:
        if kwargs["since"].month == 2:
            raise CrawlError("crawl of eping failed: eping_request_failed: HTTP 503")
        return run_spider(slug, **kwargs)

    cfg = config(tmp_path, server)
    first = backfill(
        engine,
        cfg,
        since=D("2024-01-10"),
        until=D("2024-03-20"),
        now=NOW,
        crawler=failing_february,
        settings=FAST,
    )
    assert not first.ok and [str(w) for w, _ in first.failed] == ["2024-02-01..2024-02-29"]
    assert "HTTP 503" in first.failed[0][1] and "failed" in "\n".join(first.lines())
    retry = backfill(
        engine, cfg, since=D("2024-01-10"), until=D("2024-03-20"), now=NOW, settings=FAST
    )
    assert [str(w) for w in retry.crawled] == ["2024-02-01..2024-02-29"] and retry.ok


def test_a_too_wide_window_fails_the_crawl_with_the_count_exceeded_reason(tmp_path: Path) -> None:
    with FakeEping(items(40, "2024-01-01", "2024-01-04"), max_results=20) as fake:
        with pytest.raises(CrawlError, match="eping_count_exceeded") as caught:
            run_spider(
                "eping",
                since=D("2024-01-01"),
                until=D("2024-01-04"),
                base_url=fake.base_url,
                workdir=tmp_path,
                timeout_s=60,
                settings={**FAST, "TBT_ALLOWED_HOSTS": [host_port(fake.base_url)]},
            )
        pages = [r for r in fake.requests if r.path.endswith("/getAll")]
    assert "40 notifications" in str(caught.value) and len(pages) == 1


def test_window_with_count_exceeded_is_split_into_days(engine: Engine, tmp_path: Path) -> None:
    served = items(60, "2024-02-26", "2024-03-03")  # one ISO week, ~9 items a day
    crawled: list[str] = []

    def capped(slug: str, *, since: date, until: date, **kwargs: Any) -> CrawlOutput:
        crawled.append(f"{since}..{until}")
        if since != until:
            raise CrawlError("crawl of eping failed: eping_count_exceeded: 60 notifications")
        records = [map_item(i) for i in served if i["distributionDate"][:10] == since.isoformat()]
        return CrawlOutput(records, 0, tmp_path / "i", tmp_path / "l", {})

    with FakeEping([]) as fake:
        cfg = config(tmp_path, fake)
    progress: list[bool] = []
    report = backfill(
        engine,
        cfg,
        since=D("2024-02-26"),
        until=D("2024-03-03"),
        now=NOW,
        window="week",
        crawler=capped,
        progress=lambda w, run: progress.append(w.until == w.top.until),
    )
    assert crawled[0] == "2024-02-26..2024-03-03" and len(crawled) == 8
    assert [str(w) for w in report.split] == ["2024-02-26..2024-03-03"]
    assert len(report.crawled) == 7 and report.ok and report.items == 60
    assert notification_count(engine) == 60
    again = backfill(
        engine,
        cfg,
        since=D("2024-02-26"),
        until=D("2024-03-03"),
        now=NOW,
        window="week",
        crawler=capped,
    )
    assert len(crawled) == 8 and len(again.skipped) == 1  # the days cover the week


# --- the command ------------------------------------------------------------------------------


def invoke(cfg: Config, tmp_path: Path, *args: str) -> Any:
    if "backfill" not in main.commands:
        main.add_command(backfill_cmd)
    toml = tmp_path / "config.toml"
    toml.write_text(
        f'data_dir = "{tmp_path}"\n[database]\nurl = "{cfg.database.url}"\n'
        f'[eping]\nbase_url = "{cfg.eping.base_url}"\ndownload_delay_s = 0\ntimeout_s = 60\n',
        "utf-8",
    )
    return CliRunner().invoke(main, ["--config", str(toml), "backfill", *args])


def test_command_shows_progress_reports_an_empty_window_and_exits_1(
    db_url: str, tmp_path: Path
) -> None:
    served = [
        i for i in items(120, "2024-01-05", "2024-03-25") if i["distributionDate"][5:7] != "02"
    ]
    with FakeEping(served) as fake:
        cfg = replace(config(tmp_path, fake), database=DatabaseConfig(url=db_url))
        result = invoke(cfg, tmp_path, "--since", "2024-01-01", "--until", "2024-03-31")
        assert result.exit_code == 1, result.output
        assert "windows 1/3, 41 notifications [2024-01-01..2024-01-31]" in result.stderr
        assert "windows 3/3, 77 notifications, 1 failed" in result.stderr
        assert "crawled       2 windows" in result.stdout
        assert "2024-02-01..2024-02-29  empty: crawl of eping produced no items" in result.stdout
        done = invoke(cfg, tmp_path, "--since", "2024-03-01", "--until", "2024-03-31")
    assert done.exit_code == 0, done.output
    assert "already done  1" in done.stdout and "failed        0" in done.stdout


def test_command_help_and_bad_dates(tmp_path: Path) -> None:
    with FakeEping([]) as fake:
        cfg = config(tmp_path, fake, f"sqlite:///{tmp_path / 'db.sqlite3'}")
    helped = invoke(cfg, tmp_path, "--help")
    assert helped.exit_code == 0
    for text in ("--since", "--until", "--window", "[year|month|week]", "Exit status 1", "resumes"):
        assert text in helped.output
    bad = invoke(cfg, tmp_path, "--since", "2024-13-01")
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output
    backwards = invoke(cfg, tmp_path, "--since", "2024-03-01", "--until", "2024-02-01")
    assert backwards.exit_code == 2 and "after" in backwards.output
