"""Real crawls of the generic feed spider (Scrapy subprocess) against a loopback server.

Valid feeds and the failure modes come from tests/fixtures/feeds/. Items are compared with tests/golden/feeds/*.jsonl
after the loopback address is replaced by ``http://loopback``. A broken feed fails alone; bombs and XXE
are refused fast and in bounded memory.
Five subprocess crawls.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from spiders.feeds import feed_urls, published_in_range
from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import CrawlOutput, run_spider
from tbt_alert.errors import CrawlError
from tests.support_http import Reply, Route, check_golden, fixture_reply, serve

ROOT = Path(__file__).parents[1]
FAST = {"DOWNLOAD_DELAY": 0, "RETRY_TIMES": 0, "DOWNLOAD_TIMEOUT": 20}
WIDE = {"since": date(2000, 1, 1), "until": date(2030, 12, 31)}
VALID = {
    "atom.xml": ("feeds", "enquiry_point_atom.xml"),
    "rss2.xml": ("feeds", "enquiry_point_rss2.xml"),
}
_LOOPBACK = re.compile(r"http://127\.0\.0\.1:\d+")
# Catches a hang only (the whole subprocess crawl, Scrapy start-up included); the memory bound
# shows the bomb was not expanded.
BOMB_SECONDS = 30.0
BOMB_MAX_RSS_MB = 150  # a plain crawl process peaks near 90 MB; an expanded bomb takes GBs


def feeds_site(substitutions: Mapping[bytes, bytes] | None = None) -> Route:
    """``/tbt/<name>`` -> a valid fixture of VALID, else tests/fixtures/feeds/<name>."""

    def route(path: str, query: dict[str, list[str]]) -> Reply:
        name = path.removeprefix("/tbt/")
        slug, file = VALID.get(name, ("feeds", name))
        try:
            reply = fixture_reply(slug, file)
        except FileNotFoundError:
            return Reply(b"not found", 404)
        body = reply.body
        for placeholder, value in (substitutions or {}).items():
            body = body.replace(placeholder, value)
        return Reply(body, reply.status, reply.headers)

    return route


def urls(base: str, *names: str) -> str:
    root = base.split("/api/v1/")[0]
    return json.dumps([f"{root}/tbt/{name}" for name in names])


def crawl(base: str, workdir: Path, *names: str, **options: Any) -> CrawlOutput:
    allowed = {"TBT_ALLOWED_HOSTS": [host_port(base)]}
    kwargs: dict[str, Any] = {**WIDE, "timeout_s": 60, "settings": FAST}
    kwargs.update(options)
    kwargs["settings"] = {**kwargs["settings"], **allowed}
    args = {"urls": urls(base, *names)}
    return run_spider("feeds", base_url="", workdir=workdir, spider_args=args, **kwargs)


def stats(workdir: Path) -> dict[str, Any]:
    return json.loads((workdir / "feeds.jsonl.stats.json").read_text("utf-8"))


def loopback_free(path: Path) -> list[dict[str, Any]]:
    text = _LOOPBACK.sub("http://loopback", path.read_text("utf-8"))
    items = [json.loads(line) for line in text.splitlines() if line.strip()]
    return sorted(items, key=lambda item: (item["symbol"], item["source_id"]))


@contextmanager
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP listener on loopback that records every connection (and what it was sent)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.1)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                if stop.is_set():
                    return  # one more timeout after stop: the backlog is drained
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    hits.append(conn.recv(2048))
                except OSError:
                    hits.append(b"")

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1], hits
    finally:
        stop.set()
        thread.join(5)
        sock.close()


def test_valid_feeds_match_golden_and_the_dtd_is_never_fetched(
    tmp_path: Path, update_golden: bool
) -> None:
    with listener() as (port, hits):
        with serve(feeds_site({b"LISTENER_PORT": str(port).encode()})) as (base, seen):
            out = crawl(
                base,
                tmp_path,
                "atom.xml",
                "rss2.xml",
                "external_dtd.xml",
                settings={**FAST, "ROBOTSTXT_OBEY": True},
            )
        assert hits == []  # the external DTDs (rss2: port 9, external_dtd: this listener)
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the detector works
        threading.Event().wait(0.5)
        assert len(hits) == 1
    assert seen[0] == "/robots.txt"
    assert sorted(r.symbol for r in out.records) == [
        "G/TBT/N/COL/20/Add.5",
        "G/TBT/N/EU/1097",
        "G/TBT/N/EU/666",
        "G/TBT/N/KOR/700",
        "G/TBT/N/USA/532",
    ]
    assert all(r.source == "feeds" for r in out.records) and out.invalid == 0
    assert out.stats["tbt/entries_without_symbol"] == 2
    assert "tbt/failed_feeds" not in out.stats
    check_golden("feeds/valid.jsonl", loopback_free(out.items_path), update_golden)


def test_one_truncated_feed_among_three_is_logged_and_the_others_yield(tmp_path: Path) -> None:
    with serve(feeds_site()) as (base, _):
        out = crawl(
            base,
            tmp_path,
            "atom.xml",
            "truncated.xml",
            "rss2.xml",
            since=date(2017, 1, 1),
            until=date(2024, 12, 31),
        )
    assert sorted(r.symbol for r in out.records) == ["G/TBT/N/EU/1097", "G/TBT/N/KOR/700"]
    assert out.stats["tbt/out_of_range"] == 2  # USA/532 (2010) and COL/20/Add.5 (2005)
    assert out.stats["tbt/failed_feeds"] == 1
    [error] = out.stats["tbt/failed_feed_errors"]
    assert error.endswith("is cut short: SAXParseException('no element found')")
    assert "truncated.xml" in error
    assert out.stats["finish_reason"] == "finished"


def test_every_feed_broken_fails_the_crawl(tmp_path: Path) -> None:
    with (
        serve(feeds_site()) as (base, _),
        pytest.raises(CrawlError, match="feeds_all_failed: all 3 feed") as caught,
    ):
        crawl(base, tmp_path, "truncated.xml", "maintenance.html", "missing.xml")
    assert "0 items" not in str(caught.value)
    errors = stats(tmp_path)["tbt/failed_feed_errors"]
    assert any("cut short" in e for e in errors)
    assert any("not an RSS or Atom feed" in e for e in errors)
    assert any(e.endswith("missing.xml: HTTP 404") for e in errors)
    assert (tmp_path / "feeds.jsonl").read_text() == ""


CRAWL_IN_A_SMALL_PARENT = """
import json, resource, sys, time
from datetime import date
from pathlib import Path
from tbt_alert.crawl.runner import run_spider
from tbt_alert.errors import CrawlError
args = json.loads(sys.argv[1])
started = time.monotonic()
try:
    run_spider("feeds", since=date(2000, 1, 1), until=date(2030, 12, 31), base_url="",
               workdir=Path(args["workdir"]), timeout_s=30, settings=args["settings"],
               spider_args={"urls": args["urls"]})
    error = None
except CrawlError as e:
    error = str(e)
print(json.dumps({"error": error, "seconds": time.monotonic() - started,
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def test_entity_bombs_fail_fast_with_bounded_memory(tmp_path: Path) -> None:
    """The crawl is started by run_spider in a fresh, small Python: Linux carries a process's peak
    RSS across fork+exec, so a crawl forked from a large pytest process would report pytest's size.
    RUSAGE_CHILDREN of that small parent is the peak of the crawl process itself."""
    with serve(feeds_site()) as (base, _):
        args = {
            "workdir": str(tmp_path),
            "settings": {**FAST, "TBT_ALLOWED_HOSTS": [host_port(base)]},
            "urls": urls(base, "billion_laughs.xml", "quadratic_blowup.xml"),
        }
        done = subprocess.run(
            [sys.executable, "-c", CRAWL_IN_A_SMALL_PARENT, json.dumps(args)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    result = json.loads(done.stdout.splitlines()[-1])
    assert "feeds_all_failed: all 2 feed(s) failed" in result["error"]
    assert result["seconds"] < BOMB_SECONDS
    assert result["max_rss_kib"] / 1024 < BOMB_MAX_RSS_MB
    crawl_stats = stats(tmp_path)
    assert crawl_stats["elapsed_time_seconds"] < 20.0  # catches a hang only
    errors = crawl_stats["tbt/failed_feed_errors"]
    assert len(errors) == 2 and all("entity declarations are refused" in e for e in errors)


def test_xxe_fails_leaks_nothing_and_never_calls_out(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    sentinel = "sentinel-" + secrets.token_hex(16)
    secret.write_text(sentinel)
    hostname = Path("/etc/hostname").read_text().strip()
    workdir = tmp_path / "crawl"
    with listener() as (port, hits):
        subs = {b"LISTENER_PORT": str(port).encode(), b"SENTINEL_PATH": str(secret).encode()}
        with (
            serve(feeds_site(subs)) as (base, _),
            pytest.raises(CrawlError, match="feeds_all_failed") as caught,
        ):
            crawl(base, workdir, "xxe_file.xml", "xxe_http.xml")
        threading.Event().wait(0.3)
        assert hits == []
    errors = stats(workdir)["tbt/failed_feed_errors"]
    assert len(errors) == 2 and all("entity declarations are refused" in e for e in errors)
    outputs = [str(caught.value)] + [p.read_text("utf-8") for p in workdir.iterdir()]
    assert len(outputs) == 4  # the error, and the items, log and stats files
    for text in outputs:
        assert sentinel not in text
        assert f"leak:{hostname}" not in text and f"leak:\n{hostname}" not in text


# --- the glue without a crawl -------------------------------------------------------------------


def test_feed_urls_accept_json_or_commas_and_refuse_other_schemes() -> None:
    listed = ["https://a.example/f.xml", "http://b.example/rss?x=1,2"]
    assert feed_urls(json.dumps(listed)) == listed
    assert feed_urls(" https://a.example/f.xml, https://a.example/f.xml ,") == listed[:1]
    for bad in ("file:///etc/passwd", "[1]", "ftp://a.example/f.xml", "/relative.xml"):
        with pytest.raises(ValueError):
            feed_urls(bad)


def test_published_range_keeps_undated_entries() -> None:
    since, until = date(2024, 11, 1), date(2024, 11, 22)
    assert published_in_range(None, since, until)
    assert published_in_range(datetime(2024, 11, 22, 23, 59, tzinfo=UTC), since, until)
    assert not published_in_range(datetime(2024, 11, 23, tzinfo=UTC), since, until)


def test_spiders_never_hand_feedparser_anything() -> None:
    """Check 18: only tbt_alert.sources.feeds calls feedparser; the spider passes it the fetched bytes."""
    sources = {p.name: p.read_text("utf-8") for p in (ROOT / "spiders").glob("*.py")}
    uses = re.compile(r"^\s*(?:import|from)\s+feedparser\b|feedparser\.\w+\(", re.M)
    assert not any(uses.search(text) for text in sources.values())
    assert uses.search(
        (ROOT / "tbt_alert" / "sources" / "feeds.py").read_text("utf-8")
    )  # the check can fail
    assert "parse_feed(response.body, response.url)" in sources["feeds.py"]


def test_an_unreachable_feed_after_retries_does_not_fail_the_others(tmp_path: Path) -> None:
    """Scrapy logs a request that ran out of retries at ERROR; that must not sink the crawl."""
    with socket.socket() as probe:  # a loopback port with nothing listening
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with serve(feeds_site()) as (base, _):
        root = base.split("/api/v1/")[0]
        settings = {
            **FAST,
            "RETRY_TIMES": 1,
            "TBT_RETRY_BACKOFF_BASE": 0.05,
            "TBT_ALLOWED_HOSTS": [host_port(base), f"127.0.0.1:{dead}"],
        }
        out = run_spider(
            "feeds",
            base_url="",
            workdir=tmp_path,
            timeout_s=60,
            settings=settings,
            since=date(2000, 1, 1),
            until=date(2030, 12, 31),
            spider_args={
                "urls": json.dumps([f"{root}/tbt/atom.xml", f"http://127.0.0.1:{dead}/feed.xml"])
            },
        )
    assert out.records and out.stats["tbt/failed_feeds"] == 1
    assert out.stats["finish_reason"] == "finished"
    assert any("Connection refused" in e for e in out.stats["tbt/failed_feed_errors"])
