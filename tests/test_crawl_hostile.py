"""Hostile servers through the real crawl path: refused hosts and redirects, bounded bodies.

Each test runs the eping spider in its Scrapy subprocess (``run_spider``) against a loopback
server from tests/support_hostile.py, with the allow-list the lead passes in production:
``TBT_ALLOWED_HOSTS = ["127.0.0.1:<port>"]``. Every failure must be a CrawlError that names the
problem, never "0 items, success". The maintenance page served with 200 (schema drift) and truncated
JSON are in tests/test_crawl_eping.py (test_garbage_page_fails_the_crawl); truncated XML, entity
bombs and XXE go through the feed spider's tests.
"""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.errors import CrawlError
from tests.support_hostile import (
    Hostile,
    endless,
    flaky,
    hostile_reply,
    redirect,
    serving,
    stall_after_headers,
)
from tests.support_http import Reply, fixture_reply

FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
MAX_SIZE = 16 * 1024 * 1024  # the production DOWNLOAD_MAXSIZE, left as is in these tests
MEMORY_BUDGET = 300 * 1024 * 1024
SECRET = Reply(b"TOP-SECRET-4f1c9e", headers={"Content-Type": "text/plain"})


def crawl(server: Hostile, workdir: Path, **settings: Any) -> CrawlOutput:
    return run_spider(
        "eping",
        since=date(2026, 8, 3),
        until=date(2026, 9, 1),
        base_url=server.base_url,
        workdir=workdir,
        timeout_s=60,
        settings={**FAST, "TBT_ALLOWED_HOSTS": server.allowed, **settings},
        spider_args={"details": "none"},
    )


def failed_crawl(server: Hostile, workdir: Path, match: str, **settings: Any) -> str:
    """Crawl, expect a CrawlError matching ``match``; return the whole crawl log."""
    with pytest.raises(CrawlError, match=match):
        crawl(server, workdir, **settings)
    assert not (workdir / "eping.jsonl").exists() or not (workdir / "eping.jsonl").read_text()
    return (workdir / "eping.log").read_text("utf-8")


def spider_stats(workdir: Path) -> dict[str, Any]:
    stats: dict[str, Any] = json.loads((workdir / "eping.jsonl.stats.json").read_text("utf-8"))
    return stats


def test_endless_body_is_cut_at_the_size_cap(tmp_path: Path) -> None:
    started = time.monotonic()
    with Hostile(endless) as server:
        failed_crawl(server, tmp_path, r"exceeded DOWNLOAD_MAXSIZE \(16777216 B\)")
        sent = server.bytes_sent
    assert time.monotonic() - started < 15
    assert MAX_SIZE < sent < 3 * MAX_SIZE  # the client hung up soon after the cap
    assert spider_stats(tmp_path)["tbt/bodies_too_large"] == 1


@pytest.mark.parametrize("name", ["gzip_bomb.gz", "brotli_bomb.br"])
def test_decompression_bomb_is_refused_with_bounded_memory(tmp_path: Path, name: str) -> None:
    reply = hostile_reply(name)
    assert len(reply.body) < 4096  # ... that inflates to 1 GiB (see its .meta.json)
    with Hostile(serving(reply)) as server:
        failed_crawl(server, tmp_path, r"exceeded DOWNLOAD_MAXSIZE \(16777216 B\) during decompr")
    # The spider process's own peak (VmHWM). Not RUSAGE_CHILDREN: a child's ru_maxrss starts at
    # the parent's size at fork, so under a large pytest process it measures pytest.
    peak = spider_stats(tmp_path)["tbt/max_rss_bytes"]
    assert 20 * 1024 * 1024 < peak < MEMORY_BUDGET


def test_stalled_body_hits_the_download_timeout(tmp_path: Path) -> None:
    started = time.monotonic()
    with Hostile(stall_after_headers) as server:
        failed_crawl(server, tmp_path, r"took longer than 2\.0 seconds", DOWNLOAD_TIMEOUT=2)
    assert time.monotonic() - started < 15


def test_redirect_to_another_loopback_port_is_refused_unseen(tmp_path: Path) -> None:
    with Hostile(serving(SECRET)) as other:
        target = f"http://127.0.0.1:{other.port}/secret"
        with Hostile(redirect(target)) as server:
            log = failed_crawl(
                server, tmp_path, rf"refused to fetch {target}: 127\.0\.0\.1:{other.port} is a non"
            )
        assert other.seen == []  # not even its robots.txt
    assert f"fetch guard: refused to fetch {target}" in log and " ERROR: " in log
    assert "redirected from http://127.0.0.1" in log
    stats = spider_stats(tmp_path)
    assert stats["tbt/refused_requests"] == 1
    # Refused when scheduled, so no errback ran and the spider "finished": the logged error alone
    # makes the runner fail the crawl.
    assert (stats["finish_reason"], stats["log_count/ERROR"]) == ("finished", 1)


def test_redirect_to_a_mapped_ipv6_spelling_of_the_allowed_server_is_refused(
    tmp_path: Path,
) -> None:
    def to_mapped_self(handler: Any, server: Hostile) -> None:
        redirect(f"http://[::ffff:127.0.0.1]:{server.port}/secret")(handler, server)

    with Hostile(to_mapped_self) as server:
        failed_crawl(server, tmp_path, r"\[::ffff:127\.0\.0\.1\]:\d+ is a non-public address")
        assert "/secret" not in [s.path for s in server.seen]


def test_redirect_to_a_file_url_is_refused_and_leaks_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET.body.decode())
    with Hostile(redirect(secret.as_uri())) as server:
        log = failed_crawl(server, tmp_path / "run", r"refused to fetch file:///.*scheme file:")
    outputs = [log, *(p.read_text() for p in (tmp_path / "run").iterdir())]
    assert all(SECRET.body.decode() not in text for text in outputs)


def test_base_url_outside_the_allow_list_is_never_contacted(tmp_path: Path) -> None:
    with Hostile(serving(SECRET)) as server:
        settings: dict[str, Any] = {"TBT_ALLOWED_HOSTS": ["epingalert.org", "127.0.0.1:1"]}
        failed_crawl(server, tmp_path, r"127\.0\.0\.1:\d+ is a non-public address", **settings)
        assert server.seen == []


def test_503_is_retried_with_backoff_then_succeeds(tmp_path: Path) -> None:
    page = fixture_reply("eping", "page_1.json")
    with Hostile(flaky(2, page)) as server:
        out = crawl(server, tmp_path, RETRY_TIMES=2, TBT_RETRY_BACKOFF_BASE=0.3)
        times = [s.at for s in server.api_requests()]
    assert len(out.records) == 10 and out.stats["retry/count"] == 2
    assert len(times) == 3
    assert times[1] - times[0] >= 0.3 and times[2] - times[1] >= 0.6  # 0.3 s, then twice that
    assert out.stats["tbt/retry_backoff_ms"] == 900
