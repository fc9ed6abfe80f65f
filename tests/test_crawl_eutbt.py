"""Real crawls of the EU TBT database spider (Scrapy subprocess) against a loopback server.

The search listing is reconstructed (no copy of the real one exists); notification pages are built
from text copies of real pages. Items are compared with tests/golden/eutbt/*.jsonl after the loopback
address is replaced by ``http://loopback``; ``pytest --update-golden`` rewrites them.
A garbage listing fails the crawl; golden items, and layout drift fails loudly. Four subprocess crawls.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from spiders.eutbt import EuTbtSpider
from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.errors import CrawlError
from tbt_alert.sources.eutbt_listing import (
    arrival_in_range,
    listing_url,
    parse_ids,
    parse_listing,
)
from tests.support_http import FIXTURES, Reply, Route, check_golden, fixture_reply, serve

FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
SINCE, UNTIL = date(2017, 1, 1), date(2024, 12, 31)
PAGES = {page_id: f"notification_{page_id}.html" for page_id in ("35249", "20733", "27581")}
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")


def site(listings: Mapping[int, str], pages: Mapping[str, str]) -> Route:
    """``/en/search?page=N`` -> ``listings[N]``; ``/en/notification/<id>`` -> ``pages[id]``."""

    def route(path: str, query: dict[str, list[str]]) -> Reply:
        if path == "/en/search":
            name = listings.get(int(query.get("page", ["1"])[0]))
        else:
            name = pages.get(path.removeprefix("/en/notification/"))
        return fixture_reply("eutbt", name) if name else Reply(b"not found", 404)

    return route


def crawl(base: str, workdir: Path, **options: Any) -> CrawlOutput:
    root = base.split("/api/v1/")[0]
    kwargs: dict[str, Any] = {"since": SINCE, "until": UNTIL, "timeout_s": 60, "settings": FAST}
    kwargs.update(options)
    kwargs["settings"] = {**kwargs["settings"], "TBT_ALLOWED_HOSTS": [host_port(root)]}
    return run_spider("eutbt", base_url=f"{root}/en/", workdir=workdir, **kwargs)


def loopback_free(path: Path) -> list[dict[str, Any]]:
    text = _LOOPBACK.sub("http://loopback", path.read_text("utf-8"))
    items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return sorted(items, key=lambda item: int(item["source_id"]))


def test_listing_crawl_matches_golden(tmp_path: Path, update_golden: bool) -> None:
    listings = {1: "listing_p1.html", 2: "listing_p2.html"}
    with serve(site(listings, PAGES)) as (base, seen):
        out = crawl(base, tmp_path, settings={**FAST, "ROBOTSTXT_OBEY": True})
    assert seen[0] == "/robots.txt"
    first = seen[1]
    assert first.startswith("/en/search?") and "dateOfArrivalFrom=2017-01-01" in first
    assert "dateOfArrivalTo=2024-12-31" in first
    assert sum(p.startswith("/en/search") for p in seen) == 2  # followed the "Next" link once
    assert sorted(p for p in seen if "/notification/" in p) == [
        f"/en/notification/{i}" for i in ("20733", "27581", "35249")
    ]
    assert (len(out.records), out.invalid) == (3, 0)
    by_symbol = {r.symbol: r for r in out.records}
    eu489 = by_symbol["G/TBT/N/EU/489"]
    assert eu489.comment_deadline == "2017-08-27" and eu489.source == "eutbt"
    assert eu489.extra["eu_comments"][1] == {
        "kind": "answer",
        "member": "European Union",
        "date": "2018-01-22",
    }
    assert by_symbol["G/TBT/N/EU/1097"].extra["eu_comments"] == []
    assert by_symbol["G/TBT/N/EU/666"].source_id == "27581"
    check_golden("eutbt/listing.jsonl", loopback_free(out.items_path), update_golden)


def test_ids_skip_the_listing_and_the_date_range_and_a_missing_page_is_counted(
    tmp_path: Path,
) -> None:
    with serve(site({}, PAGES)) as (base, seen):
        out = crawl(
            base,
            tmp_path,
            since=date(2030, 1, 1),
            until=date(2030, 1, 31),
            spider_args={"ids": "20733,99999,35249"},
            max_invalid_ratio=0.5,
        )
    assert not any(p.startswith("/en/search") for p in seen)
    assert "/en/notification/99999" in seen
    assert sorted(r.symbol for r in out.records) == ["G/TBT/N/EU/1097", "G/TBT/N/EU/489"]
    assert out.invalid == 1 and out.errors[0].endswith("/en/notification/99999: HTTP 404")


def test_drifted_pages_fail_the_crawl_loudly(tmp_path: Path) -> None:
    pages = {"20733": PAGES["20733"], "35249": "drift_35249.html", "27581": "drift_27581.html"}
    with (
        serve(site({1: "listing_drift.html"}, pages)) as (base, _),
        pytest.raises(CrawlError, match="2 of 3 items invalid") as caught,
    ):
        crawl(base, tmp_path)
    assert "layout drift: label 'Date of arrival' not found" in str(caught.value)


def test_maintenance_page_instead_of_listing_fails_the_crawl(tmp_path: Path) -> None:
    with (
        serve(site({1: "maintenance.html"}, PAGES)) as (base, seen),
        pytest.raises(CrawlError, match="eutbt_schema_drift") as caught,
    ):
        crawl(base, tmp_path)
    assert "no links to notification pages" in str(caught.value)
    assert not any("/notification/" in p for p in seen)


# --- the glue without a crawl -------------------------------------------------------------------


def read(name: str) -> str:
    return (FIXTURES / "eutbt" / name).read_text("utf-8")


def test_listing_parser_reads_links_not_layout() -> None:
    url = "http://h/en/search?page=2"
    listing = parse_listing(read("listing_p2.html"), url)
    assert listing == type(listing)(ids=["20733"], next_url=None)  # text/ link, duplicate dropped
    minimal = '<html><body><a href="notification/7/">x</a><a rel="next" href="?page=3">»</a></body>'
    assert parse_listing(minimal, url) == type(listing)(["7"], "http://h/en/search?page=3")


def test_listing_with_no_results_text_is_empty_not_drift() -> None:
    listing = parse_listing("<html><body><p>No results found.</p></body></html>", "http://h/")
    assert listing.ids == [] and listing.next_url is None
    with pytest.raises(CrawlError, match="empty response"):
        parse_listing("  ", "http://h/")


def test_listing_url_and_ids_arguments() -> None:
    url = listing_url("https://x.example/en/", date(2026, 1, 5), date(2026, 1, 11))
    assert url.startswith("https://x.example/en/search?dateOfArrivalFrom=2026-01-05&")
    assert parse_ids(" 35249, 20733,35249 ") == ["35249", "20733"]
    with pytest.raises(ValueError, match="page numbers"):
        parse_ids("35249,../etc")
    with pytest.raises(ValueError, match="http"):
        EuTbtSpider(since="2026-01-01", until="2026-01-02", base_url="file:///etc/")


def test_arrival_range_is_inclusive() -> None:
    since, until = date(2024, 11, 1), date(2024, 11, 22)
    assert arrival_in_range({"date_of_arrival": "2024-11-22"}, since, until)
    assert not arrival_in_range({"date_of_arrival": "2024-11-23"}, since, until)
    assert arrival_in_range({}, since, until)
