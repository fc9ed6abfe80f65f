"""Real crawls: the eping spider in a Scrapy subprocess against loopback servers (as in production).

Each test costs one subprocess (~1-2 s). Items are compared with tests/golden/eping/*.jsonl;
``pytest --update-golden`` rewrites them. Drift, partial pages, timeouts and stalls
fail the crawl loudly.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.demo.eping_server import FakeEping
from tbt_alert.demo.items_build import ANCHOR, ITEMS_FILE
from tbt_alert.errors import CrawlError
from tests.support_http import Reply, by_page, check_golden, fixture_reply, read_jsonl, serve

FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
DATA = Path(__file__).parents[1] / "tbt_alert" / "demo" / "data"
DEMO_ITEMS: list[dict[str, Any]] = json.loads((DATA / ITEMS_FILE).read_text("utf-8"))
SINCE, UNTIL = date(2026, 8, 3), ANCHOR


def crawl(base_url: str, workdir: Path, **options: Any) -> CrawlOutput:
    kwargs: dict[str, Any] = {"since": SINCE, "until": UNTIL, "timeout_s": 60, "settings": FAST}
    kwargs.update(options)
    return run_spider("eping", base_url=base_url, workdir=workdir, **kwargs)


def fixture_pages(*names: str) -> dict[int, Reply]:
    return {page: fixture_reply("eping", name) for page, name in enumerate(names, start=1)}


def api_queries(server: FakeEping) -> list[dict[str, list[str]]]:
    return [r.query for r in server.requests if r.path.endswith("/azureSearch/getAll")]


def test_demo_crawl_matches_golden(tmp_path: Path, update_golden: bool) -> None:
    with FakeEping(DEMO_ITEMS) as server:
        out = crawl(server.base_url, tmp_path, settings={**FAST, "ROBOTSTXT_OBEY": True})
        requests = server.requests
    assert requests[0].path == "/robots.txt"
    assert "tbt-alert" in (requests[0].user_agent or "")
    query = api_queries(server)[0]
    assert query["distributionDateFrom"] == ["2026-08-03"]
    assert query["distributionDateTo"] == ["2026-09-01"]
    assert (query["domainIds"], query["pageSize"], query["page"]) == (["1"], ["100"], ["1"])
    assert len(out.records) == len(DEMO_ITEMS) and out.invalid == 0
    assert out.stats["finish_reason"] == "finished"
    check_golden("eping/demo.jsonl", read_jsonl(out.items_path), update_golden)


def test_paging_across_three_pages(tmp_path: Path) -> None:
    with FakeEping(DEMO_ITEMS[:25]) as server:
        out = crawl(server.base_url, tmp_path, spider_args={"page_size": "10"})
    assert [q["page"] for q in api_queries(server)] == [["1"], ["2"], ["3"]]
    assert [r.source_id for r in out.records] == [str(i["id"]) for i in DEMO_ITEMS[:25]]


def test_date_range_is_sent_and_honoured(tmp_path: Path) -> None:
    since, until = date(2026, 8, 10), date(2026, 8, 20)
    expected = [
        i
        for i in DEMO_ITEMS
        if since.isoformat() <= i["distributionDate"][:10] <= until.isoformat()
    ]
    with FakeEping(DEMO_ITEMS) as server:
        out = crawl(server.base_url, tmp_path, since=since, until=until)
    assert 0 < len(out.records) == len(expected) < len(DEMO_ITEMS)
    assert all("2026-08-10" <= (r.distribution_date or "") <= "2026-08-20" for r in out.records)


def test_recorded_shape_pages_match_golden(tmp_path: Path, update_golden: bool) -> None:
    with serve(by_page(fixture_pages("page_1.json", "page_2.json"))) as (base_url, seen):
        out = crawl(base_url, tmp_path, spider_args={"page_size": "10"})
    assert sum("getAll" in path for path in seen) == 2
    assert len(out.records) == 15
    html_only = out.records[10:13]  # page 2 carries three items with HTML fields only
    assert all(r.title and "<" not in r.title and r.description for r in html_only)
    check_golden("eping/pages.jsonl", read_jsonl(out.items_path), update_golden)


def test_joint_notifications_match_golden(tmp_path: Path, update_golden: bool) -> None:
    with serve(by_page(fixture_pages("joint.json"))) as (base_url, _):
        out = crawl(base_url, tmp_path)
    gcc = next(r for r in out.records if r.symbol == "G/TBT/N/ARE/703")
    assert len(gcc.joint_symbols) == 7
    assert gcc.document_links[0].endswith("26_02883_00_e.pdf") and len(gcc.document_links) == 2
    check_golden("eping/joint.jsonl", read_jsonl(out.items_path), update_golden)


@pytest.mark.parametrize("name", ["maintenance.html", "truncated.json"])
def test_garbage_page_fails_the_crawl(tmp_path: Path, name: str) -> None:
    with (
        serve(by_page(fixture_pages(name))) as (base_url, _),
        pytest.raises(CrawlError, match="failed") as caught,
    ):
        crawl(base_url, tmp_path)
    assert "eping_schema_drift" in str(caught.value)
    assert not (tmp_path / "eping.jsonl").exists() or not (tmp_path / "eping.jsonl").read_text()


def test_one_broken_item_in_ten_is_counted_and_the_crawl_passes(tmp_path: Path) -> None:
    with serve(by_page(fixture_pages("broken_1_of_10.json"))) as (base_url, _):
        out = crawl(base_url, tmp_path)
    assert (len(out.records), out.invalid) == (9, 1)
    assert out.stats["tbt/invalid_items"] == 1
    assert "item 10" in out.errors[0] and "title" in out.errors[0]


def test_eight_broken_items_in_ten_fail_the_crawl(tmp_path: Path) -> None:
    with (
        serve(by_page(fixture_pages("broken_8_of_10.json"))) as (base_url, _),
        pytest.raises(CrawlError, match="8 of 10 items invalid"),
    ):
        crawl(base_url, tmp_path)


def test_empty_result_is_a_failure_not_success(tmp_path: Path) -> None:
    with FakeEping(DEMO_ITEMS) as server, pytest.raises(CrawlError, match="no items"):
        crawl(server.base_url, tmp_path, since=date(2001, 1, 1), until=date(2001, 1, 31))


def test_server_error_fails_the_crawl(tmp_path: Path) -> None:
    error = {1: fixture_reply("eping", "page_1.json"), 2: Reply(b"oops", 500)}
    with serve(by_page(error)) as (base_url, _), pytest.raises(CrawlError, match="failed"):
        crawl(base_url, tmp_path, spider_args={"page_size": "10"})


def test_oversized_body_is_refused(tmp_path: Path) -> None:
    settings = {**FAST, "DOWNLOAD_MAXSIZE": 2000}
    with (
        serve(by_page(fixture_pages("page_1.json"))) as (base_url, _),
        pytest.raises(CrawlError, match="eping_request_failed"),
    ):
        crawl(base_url, tmp_path, settings=settings)


def test_stalled_server_is_killed_at_the_hard_timeout(tmp_path: Path) -> None:
    settings = {**FAST, "DOWNLOAD_TIMEOUT": 600}
    started = time.monotonic()
    with (
        serve(lambda path, query: Reply(b"", stall=True)) as (base_url, _),
        pytest.raises(CrawlError, match="timed out after 4 s"),
    ):
        crawl(base_url, tmp_path, settings=settings, timeout_s=4)
    assert time.monotonic() - started < 10


def test_stalled_server_hits_the_download_timeout(tmp_path: Path) -> None:
    settings = {**FAST, "DOWNLOAD_TIMEOUT": 2}
    with (
        serve(lambda path, query: Reply(b"", stall=True)) as (base_url, _),
        pytest.raises(CrawlError, match="eping_request_failed"),
    ):
        crawl(base_url, tmp_path, settings=settings, timeout_s=60)
