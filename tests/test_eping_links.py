"""Links between documents: getRelatedNotifications -> ``related_symbols`` and getDownloadLinks ->
``download_links``; the fake server's endpoints, the pure parsers and a real crawl."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.demo.eping_server import FakeEping
from tbt_alert.errors import CrawlError
from tbt_alert.sources.eping_api import (
    base_symbol,
    download_links,
    needs_downloads,
    parse_details,
    related_symbols,
)
from tests.support_http import Reply, serve

FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
DAY = "2024-06-03T00:00:00+00:00"


def item(number: int, symbol: str, **fields: Any) -> dict[str, Any]:
    base = {
        "id": number,
        "area": "TBT",
        "documentSymbol": symbol,
        "distributionDate": DAY,
        "notifyingMember": "Brazil",
        "titlePlain": f"Measure {symbol}",
        "notifiedDocumentLink": "https://example.org/text.pdf",
    }
    return {**base, **fields}


ITEMS = [
    item(1, "G/TBT/N/BRA/312"),
    item(2, "G/TBT/N/BRA/312/Add.1"),
    item(3, "G/TBT/N/BRA/312/Add.2", notifiedDocumentLink=None),
    item(4, "G/TBT/N/BRA/900", notifiedDocumentLink=None, dolLink="G/TBTN24/BRA900"),
    item(
        5,
        "G/TBT/N/BRA/901",
        notifiedDocumentLink=None,
        _downloadLinks=[
            {"displayName": "Draft (PT)", "urlLink": "https://example.org/d.pdf"},
            {"displayName": "bad", "urlLink": "javascript:alert(1)"},
        ],
    ),
    item(6, "G/TBT/N/ARE/703, G/TBT/N/BHR/780", notifyingMember="United Arab Emirates"),
    item(7, "G/TBT/N/ARE/703/Add.1", notifyingMember="United Arab Emirates"),
]


def get(server: FakeEping, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(server.base_url + path, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def crawl(base_url: str, workdir: Path, details: str) -> CrawlOutput:
    settings = {**FAST, "TBT_ALLOWED_HOSTS": [host_port(base_url)]}
    return run_spider(
        "eping",
        since=date(2024, 6, 1),
        until=date(2024, 6, 30),
        base_url=base_url,
        workdir=workdir,
        timeout_s=60,
        settings=settings,
        spider_args={"details": details},
    )


# --- the fake server ---------------------------------------------------------------------------


def test_fake_serves_the_family_of_a_symbol() -> None:
    with FakeEping(ITEMS) as server:
        status, body = get(
            server,
            "notifications/getRelatedNotifications?"
            "documentSymbol=G/TBT/N/BRA/312/Add.1&includeOriginal=true",
        )
        _, without = get(
            server,
            "notifications/getRelatedNotifications?"
            "documentSymbol=G/TBT/N/BRA/312&includeOriginal=false",
        )
        bad, _ = get(server, "notifications/getRelatedNotifications?documentSymbol=nonsense")
    assert status == 200 and [i["id"] for i in body["items"]] == [1, 2, 3]
    assert [i["documentSymbol"] for i in without["items"]] == [
        "G/TBT/N/BRA/312/Add.1",
        "G/TBT/N/BRA/312/Add.2",
    ]
    assert bad == 400


def test_fake_rebuilds_download_links_from_the_item() -> None:
    with FakeEping(ITEMS) as server:
        _, dol = get(server, "azureSearch/getDownloadLinks?notificationId=4")
        _, given = get(server, "azureSearch/getDownloadLinks?notificationId=5")
        missing, _ = get(server, "azureSearch/getDownloadLinks?notificationId=999")
    names = [e["displayName"] for e in dol["items"]]
    assert names == [
        "G/TBT/N/BRA/900 (English)",
        "G/TBT/N/BRA/900 (French)",
        "G/TBT/N/BRA/900 (Spanish)",
    ]
    assert "filename=r:/G/TBTN24/BRA900.pdf" in dol["items"][1]["urlLink"]
    assert len(given["items"]) == 2 and missing == 404


# --- pure parsing ------------------------------------------------------------------------------


def test_related_symbols_are_normalised_deduplicated_and_exclude_the_item_itself() -> None:
    body = json.dumps(
        {
            "items": [
                {"documentSymbol": " G/TBT/N/BRA/312"},
                {"documentSymbol": "G/TBT/N/BRA/312/add.1"},
                {"documentSymbol": "G/TBT/N/BRA/312/Add.1"},
            ]
        }
    ).encode()
    assert related_symbols(body, own=["G/TBT/N/BRA/312"]) == ["G/TBT/N/BRA/312/Add.1"]
    assert related_symbols(b'[{"documentSymbol": "G/TBT/N/EU/1"}]', own=[]) == ["G/TBT/N/EU/1"]


@pytest.mark.parametrize(
    "body",
    [
        b"<html>maintenance</html>",
        b'{"result": []}',
        b'{"items": [3]}',
        b'{"items": [{"id": 1}]}',
        b'{"items": [{"documentSymbol": "x"}]}',
    ],
)
def test_related_drift_fails_loudly(body: bytes) -> None:
    with pytest.raises(CrawlError):
        related_symbols(body, own=[])


def test_download_links_keep_http_only_and_name_them() -> None:
    body = json.dumps(
        {
            "items": [
                {"displayName": " English ", "urlLink": "https://docs.wto.org/a.pdf"},
                {"displayName": None, "urlLink": "http://example.org/files/b.docx"},
                {"displayName": "evil", "urlLink": "javascript:alert(1)"},
                {"displayName": "local", "urlLink": "file:///etc/passwd"},
            ]
        }
    ).encode()
    assert download_links(body) == [
        {"name": "English", "url": "https://docs.wto.org/a.pdf"},
        {"name": "b.docx", "url": "http://example.org/files/b.docx"},
    ]
    with pytest.raises(CrawlError, match="urlLink"):
        download_links(b'{"items": [{"displayName": "x", "urlLink": 5}]}')


def test_which_items_need_details() -> None:
    assert base_symbol({"symbol": "G/TBT/N/BRA/312/Add.2"}) == "G/TBT/N/BRA/312"
    assert (
        base_symbol({"symbol": "G/TBT/N/ARE/703", "joint_symbols": ["a", "b"]}) == "G/TBT/N/ARE/703"
    )
    assert base_symbol({"symbol": "G/TBT/N/BRA/312"}) is None
    assert needs_downloads({"id": 1, "notifiedDocumentLink": " "})
    assert not needs_downloads({"id": 1, "dolLink": "G/TBTN24/BRA900"})
    assert not needs_downloads({"notifiedDocumentLink": None})  # no id to ask with
    assert parse_details("none") == frozenset() and parse_details("related,downloads") == {
        "related",
        "downloads",
    }
    with pytest.raises(ValueError, match="unknown"):
        parse_details("related,everything")


# --- real crawls -------------------------------------------------------------------------------


def test_crawl_records_related_symbols_and_download_links(tmp_path: Path) -> None:
    with FakeEping(ITEMS) as server:
        out = crawl(server.base_url, tmp_path, "related,downloads")
    by_symbol = {r.symbol: r for r in out.records}
    assert len(by_symbol) == 7
    assert by_symbol["G/TBT/N/BRA/312/Add.1"].extra["related_symbols"] == [
        "G/TBT/N/BRA/312",
        "G/TBT/N/BRA/312/Add.2",
    ]
    assert by_symbol["G/TBT/N/ARE/703"].extra["related_symbols"] == ["G/TBT/N/ARE/703/Add.1"]
    assert "related_symbols" not in by_symbol["G/TBT/N/BRA/312"].extra  # regular: not asked
    assert by_symbol["G/TBT/N/BRA/901"].extra["download_links"] == [
        {"name": "Draft (PT)", "url": "https://example.org/d.pdf"}
    ]
    assert "download_links" not in by_symbol["G/TBT/N/BRA/900"].extra  # has a dolLink
    related = [r for r in server.requests if r.path.endswith("/getRelatedNotifications")]
    downloads = [r for r in server.requests if r.path.endswith("/getDownloadLinks")]
    assert sorted(r.query["documentSymbol"][0] for r in related) == [
        "G/TBT/N/ARE/703",
        "G/TBT/N/BRA/312",
    ]  # one request per family, not per addendum
    assert sorted(r.query["notificationId"][0] for r in downloads) == ["3", "5"]
    add2 = by_symbol["G/TBT/N/BRA/312/Add.2"].extra  # both details, one after the other
    assert add2["download_links"] == [] and add2["related_symbols"][0] == "G/TBT/N/BRA/312"


def test_crawl_without_details_makes_no_detail_request(tmp_path: Path) -> None:
    with FakeEping(ITEMS) as server:
        out = crawl(server.base_url, tmp_path, "none")
    assert len(out.records) == 7
    assert {r.path for r in server.requests} == {"/robots.txt", "/api/v1/azureSearch/getAll"}


def test_drifted_related_response_fails_the_crawl(tmp_path: Path) -> None:
    page = json.dumps({"items": ITEMS[1:2], "totalCount": 1}).encode()

    def route(path: str, query: dict[str, list[str]]) -> Reply:
        if path.endswith("/getAll"):
            return Reply(page, headers={"Content-Type": "application/json"})
        return Reply(b"<html>Service unavailable</html>", headers={"Content-Type": "text/html"})

    with serve(route) as (base_url, _), pytest.raises(CrawlError, match="eping_schema_drift"):
        crawl(base_url, tmp_path, "related")
