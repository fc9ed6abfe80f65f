"""Real crawls: the wtodoc spider in a Scrapy subprocess against a loopback server (3 crawls).

The server serves tests/fixtures/wtodoc/ (built by ``python -m tests.wtodoc_fixtures_build`` from
the text of real WTO forms) with the headers of each ``.meta.json``. Items are compared with
tests/golden/wtodoc/*.jsonl; ``pytest --update-golden`` rewrites them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from spiders.wtodoc import Target, document_record, read_targets
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.errors import CrawlError
from tests.support_http import FIXTURES, Reply, check_golden, fixture_reply, read_jsonl, serve

SINCE, UNTIL = date(2026, 8, 3), date(2026, 9, 1)
GOOD = {
    "usa532.docx": "G/TBT/N/USA/532",
    "mex178_add9.docx": "G/TBT/N/MEX/178/Add.9",
    "kor700.pdf": "G/TBT/N/KOR/700",
    "col20_add5.pdf": "G/TBT/N/COL/20/Add.5",
    "eu1097.html": "G/TBT/N/EU/1097",
}


def route(path: str, query: dict[str, list[str]]) -> Reply:
    name = path.rsplit("/", 1)[-1]
    if not (FIXTURES / "wtodoc" / name).is_file() or name.endswith(".json"):
        return Reply(b"not found", 404, {"Content-Type": "text/plain"})
    return fixture_reply("wtodoc", name)


def crawl(base_url: str, workdir: Path, targets: list[dict[str, str]] | str) -> CrawlOutput:
    port = urlsplit(base_url).port
    path = workdir / "targets.json"
    path.write_text(targets if isinstance(targets, str) else json.dumps(targets), "utf-8")
    settings: dict[str, Any] = {
        "DOWNLOAD_DELAY": 0,
        "ROBOTSTXT_OBEY": False,
        "RETRY_TIMES": 0,
        "DOWNLOAD_TIMEOUT": 20,
        "TBT_ALLOWED_HOSTS": [f"127.0.0.1:{port}"],
    }
    return run_spider(
        "wtodoc",
        since=SINCE,
        until=UNTIL,
        base_url=base_url,
        workdir=workdir,
        timeout_s=90,
        settings=settings,
        spider_args={"targets": str(path)},
    )


def targets_for(base_url: str, names: dict[str, str]) -> list[dict[str, str]]:
    root = base_url.split("/api/")[0]
    return [{"symbol": symbol, "url": f"{root}/dol/{name}"} for name, symbol in names.items()]


def test_documents_of_every_format_match_golden(tmp_path: Path, update_golden: bool) -> None:
    names = {**GOOD, "maintenance.html": "G/TBT/N/KOR/701"}  # 1 garbage of 6: within the 20 %
    with serve(route) as (base_url, seen):
        out = crawl(base_url, tmp_path, targets_for(base_url, names))
    assert sorted(p.rsplit("/", 1)[-1] for p in seen) == sorted(names)
    assert (len(out.records), out.invalid) == (5, 1)
    assert "G/TBT/N/KOR/701" in out.errors[0] and "not a TBT notification form" in out.errors[0]
    items = read_jsonl(out.items_path)
    by_symbol = {item["symbol"]: item for item in items}
    assert set(by_symbol) == set(GOOD.values())
    assert all(
        item["source"] == "wtodoc" and item["source_url"].endswith(("docx", "pdf", "html"))
        for item in items
    )
    assert by_symbol["G/TBT/N/USA/532"]["member"] == "United States"
    assert by_symbol["G/TBT/N/KOR/700"]["distribution_date"] == "2017-01-09"
    assert by_symbol["G/TBT/N/EU/1097"]["articles"] == ["2.9.2", "5.6.2"]
    assert "events" not in by_symbol["G/TBT/N/EU/1097"]
    col = by_symbol["G/TBT/N/COL/20/Add.5"]
    assert col["events"] == [
        {"kind": "interpretive_guidance", "date": "2005-11-01", "text": col["events"][0]["text"]}
    ]
    assert (col["communication_date"], col["parent_symbol"]) == ("2005-11-09", "G/TBT/N/COL/20")
    mex = by_symbol["G/TBT/N/MEX/178/Add.9"]
    assert [e["kind"] for e in mex["events"]] == ["final_text_available"]
    assert "https://www.dof.gob.mx/2020/SEECO/NOM_051.pdf" in mex["document_links"]
    assert mex["communication_date"] == "2020-08-12" and mex["member"] == "Mexico"
    items.sort(key=lambda item: item["symbol"])
    for item in items:  # the loopback port changes from run to run
        item["source_url"] = urlsplit(item["source_url"]).path
    check_golden("wtodoc/documents.jsonl", items, update_golden)


def test_all_garbage_fails_the_crawl(tmp_path: Path) -> None:
    names = {
        "maintenance.html": "G/TBT/N/KOR/700",
        "legacy.doc": "G/TBT/N/COL/20/Add.5",
        "missing.pdf": "G/TBT/N/USA/532",
    }
    with serve(route) as (base_url, _), pytest.raises(CrawlError, match=r"no items \(3 invalid\)"):
        crawl(base_url, tmp_path, targets_for(base_url, names))
    stats = json.loads((tmp_path / "wtodoc.jsonl.stats.json").read_text())
    errors = " | ".join(stats["tbt/invalid_item_errors"])
    assert "not supported" in errors and "404" in errors and "not a TBT" in errors


def test_unreadable_targets_file_fails_the_crawl(tmp_path: Path) -> None:
    with serve(route) as (base_url, seen), pytest.raises(CrawlError, match="failed"):
        crawl(base_url, tmp_path, '[{"symbol": "G/TBT/N/USA/532", "url": "file:///etc/passwd"}]')
    assert seen == []


# --- the same readers without a crawl ---------------------------------------------------------


def test_read_targets_rejects_what_it_cannot_use(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    good = [{"symbol": " G/TBT/N/USA/532 ", "url": "https://docs.wto.org/x.docx"}]
    path.write_text(json.dumps(good))
    assert read_targets(path) == [Target("G/TBT/N/USA/532", "https://docs.wto.org/x.docx")]
    for bad in (
        [],
        {"symbol": "x"},
        [{"symbol": "nonsense", "url": "https://a/"}],
        [{"symbol": "G/TBT/N/USA/532", "url": "ftp://docs.wto.org/x"}],
        "[" * 3,
    ):
        path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
        with pytest.raises(ValueError, match="wtodoc target"):
            read_targets(path)


def test_revision_is_read_as_a_form_and_addendum_falls_back_to_the_form_reader() -> None:
    text = (FIXTURES / "pages" / "wto_form_2010_format_USA532_copy.txt").read_text("utf-8")
    revision = document_record(text, "G/TBT/N/USA/532/Rev.1", "https://docs.wto.org/r")
    assert (revision["member"], revision["source"]) == ("United States", "wtodoc")
    assert "events" not in revision
    addendum_text = "G/TBT/N/USA/532/Add.2\nAddendum\nThe comment period is extended to 1 May 2012."
    record = document_record(addendum_text, "G/TBT/N/USA/532/Add.2", "https://docs.wto.org/a")
    assert record["member"] == "United States"  # no "at the request of": read from the symbol
    assert record["events"] == [
        {
            "kind": "comment_period_changed",
            "date": "2012-05-01",
            "text": "The comment period is extended to 1 May 2012.",
        }
    ]
    assert any("member read from the symbol" in w for w in record["parse_warnings"])
    with pytest.raises(CrawlError, match="not a TBT"):
        document_record("Service unavailable", "G/TBT/N/USA/532/Add.2", "https://x/")
