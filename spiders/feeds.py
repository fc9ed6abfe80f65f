"""Generic RSS/Atom feed spider: entries that carry a WTO TBT symbol, from a configured list of feeds.

Scrapy fetches every feed (timeouts, size cap, robots.txt, allow-listed hosts); the fetched bytes go
to :func:`tbt_alert.sources.feeds.parse_feed`, never a ``str`` or a URL (given one, feedparser would open it itself, unbounded), which
refuses entity declarations before feedparser sees the document. One broken feed is
logged as a warning and counted in ``tbt/failed_feeds``, the others still yield; when every feed
failed the spider closes with ``feeds_all_failed``, so the runner reports the crawl as failed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TbtSpider, failure_message
from tbt_alert.errors import CrawlError, RecordError, SymbolError
from tbt_alert.record import parse_record
from tbt_alert.sources.feeds import FeedEntry, entry_to_record, parse_feed
from tbt_alert.text.scan import http_url

SOURCE = "feeds"
ACCEPT = (
    "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)


def feed_urls(text: str) -> list[str]:
    """A JSON list or comma-separated feed URLs -> unique absolute http(s) URLs; ValueError else."""
    text = text.strip()
    raw: Any = json.loads(text) if text.startswith("[") else text.split(",")
    if not isinstance(raw, list) or not all(isinstance(u, str) for u in raw):
        raise ValueError("feed urls must be a JSON list of strings or comma-separated URLs")
    urls = [u.strip() for u in raw if u.strip()]
    for url in urls:
        if http_url(url) is None:
            raise ValueError(f"feed URL {url!r} is not an absolute http(s) URL")
    return list(dict.fromkeys(urls))


def published_in_range(published: datetime | None, since: date, until: date) -> bool:
    """An entry without a date is kept; a dated one only when its UTC date is in range."""
    return published is None or since <= published.date() <= until


def entry_item(entry: FeedEntry, feed_url: str) -> dict[str, Any] | None:
    """The item of one entry, None when it names no TBT notification; RecordError when invalid."""
    try:
        record = entry_to_record(entry)
    except SymbolError as e:
        raise RecordError(f"entry {entry.id!r}: {e}") from e
    if record is None:
        return None
    item = {**record.to_dict(), "source": SOURCE, "feed_url": feed_url}
    parse_record(item)  # the line run_spider reads back must be valid: check it here
    return item


class FeedsSpider(TbtSpider):
    invalid_label = "invalid feed entry skipped"
    name = "feeds"

    def __init__(
        self, since: str, until: str, urls: str = "", base_url: str = "", **kwargs: Any
    ) -> None:
        """``urls``: the feeds; without it, ``base_url`` is the one feed (run_spider passes it)."""
        super().__init__(**kwargs)
        self.feed_urls = feed_urls(urls or base_url)
        self.since, self.until = date.fromisoformat(since), date.fromisoformat(until)
        if not self.feed_urls or self.since > self.until:
            raise ValueError(f"bad feed crawl arguments: urls={urls!r} {since}..{until}")
        hosts = (urlsplit(url).hostname for url in self.feed_urls)
        self.allowed_domains = list(dict.fromkeys(h for h in hosts if h))
        self.failed: list[str] = []

    async def start(self) -> AsyncIterator[Any]:
        for url in self.feed_urls:
            yield scrapy.Request(
                url,
                callback=self.parse,
                errback=self.on_error,
                headers={"Accept": ACCEPT},
                cb_kwargs={"feed_url": url},
            )

    def parse(self, response: Response, feed_url: str) -> Iterator[dict[str, Any]]:
        try:
            entries = parse_feed(response.body, response.url)
        except CrawlError as e:
            self.feed_failed(feed_url, str(e))
            return
        self.logger.info("feed %s: %d entries", feed_url, len(entries))
        for entry in entries:
            if not published_in_range(entry.published, self.since, self.until):
                self.inc("tbt/out_of_range")
                continue
            yield from self.entry(entry, feed_url)

    def entry(self, entry: FeedEntry, feed_url: str) -> Iterator[dict[str, Any]]:
        try:
            item = entry_item(entry, feed_url)
        except RecordError as e:
            self.count_invalid(f"{feed_url}: {e}")
            return
        if item is None:
            self.inc("tbt/entries_without_symbol")
            return
        yield item

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.cb_kwargs.get("feed_url", request.url) if request is not None else "?"
        self.feed_failed(url, failure_message(failure))

    def feed_failed(self, feed_url: str, message: str) -> None:
        """Record one failed feed (a warning); close the spider when every feed has failed."""
        self.logger.warning("feed failed: %s: %s", feed_url, message)
        self.failed.append(feed_url)
        self.inc("tbt/failed_feeds")
        self.keep_error("tbt/failed_feed_errors", f"{feed_url}: {message}")
        if len(self.failed) >= len(self.feed_urls):
            self.fail("feeds_all_failed", f"all {len(self.feed_urls)} feed(s) failed")
