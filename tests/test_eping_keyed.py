"""The official keyed ePing API (``api=keyed``): the key travels only in the environment and the
``Ocp-Apim-Subscription-Key`` header, never in argv, logs, stats, items or error messages."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from tbt_alert.backfill import backfill
from tbt_alert.config import Config, DatabaseConfig, EpingConfig
from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import CrawlOutput, run_spider, spider_command
from tbt_alert.crawl.targets import crawl_target
from tbt_alert.demo.eping_items import vary_items
from tbt_alert.demo.eping_server import FakeEping
from tbt_alert.errors import CrawlError
from tbt_alert.sources.eping_api import API_KEY_ENV, search_query, spider_args

DATA = Path(__file__).parents[1] / "tbt_alert" / "demo" / "data"
POOL: list[dict[str, Any]] = json.loads((DATA / "eping_demo_items.json").read_text("utf-8"))
KEY = "k3y-5ecr3t-0123456789abcdef"
ITEMS = vary_items(POOL, 30, first=date(2024, 5, 1), last=date(2024, 5, 20))
FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}


def keyed_crawl(server: FakeEping, workdir: Path, **args: str) -> CrawlOutput:
    settings = {**FAST, "TBT_ALLOWED_HOSTS": [host_port(server.base_url)]}
    return run_spider(
        "eping",
        since=date(2024, 5, 1),
        until=date(2024, 5, 31),
        base_url=server.base_url,
        workdir=workdir,
        timeout_s=60,
        settings=settings,
        spider_args={"api": "keyed", "api_url": server.api_url, **args},
    )


def traces(workdir: Path) -> str:
    """Everything the crawl left behind: items, log and stats."""
    return "\n".join(p.read_text("utf-8", errors="replace") for p in sorted(workdir.iterdir()))


def test_keyed_search_sends_the_key_as_a_header_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(API_KEY_ENV, KEY)
    with FakeEping(ITEMS, api_key=KEY) as server:
        out = keyed_crawl(server, tmp_path, countries="C156,U918")
    searches = [r for r in server.requests if r.path == "/eping/notifications/search"]
    assert len(out.records) == 30 and len(searches) == 1
    assert searches[0].subscription_key == KEY
    assert searches[0].query["countryIds"] == ["C156,U918"]
    assert searches[0].query["distributionDateFrom"] == ["2024-05-01"]
    assert not any(r.path.endswith("/getAll") for r in server.requests)
    assert KEY not in traces(tmp_path)


def test_wrong_key_fails_with_a_clear_message_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "wr0ng-" + KEY
    monkeypatch.setenv(API_KEY_ENV, wrong)
    with FakeEping(ITEMS, api_key=KEY) as server, pytest.raises(CrawlError) as caught:
        keyed_crawl(server, tmp_path)
    message = str(caught.value)
    assert "eping_api_key_refused" in message and "HTTP 401" in message
    assert API_KEY_ENV in message
    assert wrong not in message and KEY not in message and wrong not in traces(tmp_path)


def test_missing_key_fails_before_any_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with FakeEping(ITEMS, api_key=KEY) as server, pytest.raises(CrawlError, match="key_missing"):
        keyed_crawl(server, tmp_path)
    assert not server.requests


def test_keyed_query_joins_countries_and_the_open_one_repeats_them() -> None:
    common: dict[str, Any] = dict(
        since="2024-01-01", until="2024-01-31", page=2, page_size=50, countries=["C156", "C840"]
    )
    keyed = dict(search_query(keyed=True, **common))
    assert keyed == {
        "domainIds": 1,
        "countryIds": "C156,C840",
        "distributionDateFrom": "2024-01-01",
        "distributionDateTo": "2024-01-31",
        "page": 2,
        "pageSize": 50,
    }
    open_query = search_query(keyed=False, **common)
    assert [v for k, v in open_query if k == "countryIds"] == ["C156", "C840"]


def test_configuration_selects_the_keyed_api_without_putting_the_key_in_argv(
    tmp_path: Path,
) -> None:
    config = Config(data_dir=tmp_path, eping=EpingConfig(api_key=KEY))
    args = spider_args(config)
    assert args["api"] == "keyed" and args["api_url"] == "https://api.wto.org/eping/"
    plan = crawl_target("eping", config)
    command = spider_command("eping", tmp_path / "x.jsonl", plan.spider_args, plan.settings)
    assert KEY not in " ".join(command) and "api.wto.org:443" in " ".join(command)
    assert plan.env == {API_KEY_ENV: KEY}  # the key goes to the spider's environment only
    assert "api" not in spider_args(Config(data_dir=tmp_path))
    assert crawl_target("eping", Config(data_dir=tmp_path)).env == {}


def test_backfill_with_a_configured_key_uses_the_keyed_api(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    with FakeEping(ITEMS, api_key=KEY) as server:
        config = Config(
            data_dir=tmp_path,
            database=DatabaseConfig(url=str(engine.url)),
            eping=EpingConfig(
                base_url=server.base_url, api_key=KEY, api_url=server.api_url, download_delay_s=0
            ),
        )
        report = backfill(
            engine,
            config,
            since=date(2024, 5, 1),
            until=date(2024, 5, 31),
            now=datetime(2024, 6, 1, tzinfo=UTC),
            settings=FAST,
        )
    assert report.ok and report.items == 30, report.lines()
    keyed = [r for r in server.requests if r.path == "/eping/notifications/search"]
    assert len(keyed) == 1 and keyed[0].subscription_key == KEY
    assert API_KEY_ENV not in os.environ


def status_of(url: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_fake_keyed_endpoint_checks_the_header_and_flags_too_many_hits() -> None:
    query = "notifications/search?domainIds=1&pageSize=10&distributionDateFrom=2024-05-01"
    with FakeEping(ITEMS, api_key=KEY, max_results=25) as server:
        ok, body = status_of(server.api_url + query, {"Ocp-Apim-Subscription-Key": KEY})
        denied, _ = status_of(server.api_url + query, {})
        wrong, _ = status_of(server.api_url + query, {"Ocp-Apim-Subscription-Key": "x"})
        _, last = status_of(server.api_url + query + "&page=3", {"Ocp-Apim-Subscription-Key": KEY})
    assert (ok, denied, wrong) == (200, 401, 401)
    assert body["totalCount"] == 30 and body["isCountExceeded"] is True
    assert len(last["items"]) == 5  # only the first 25 hits can be paged
    with FakeEping(ITEMS) as keyless:
        missing, _ = status_of(keyless.api_url + query, {"Ocp-Apim-Subscription-Key": KEY})
    assert missing == 404
