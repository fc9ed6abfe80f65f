"""EU TBT database spider: the search listing for a date-of-arrival range, then each notification.

Thin adapter over :mod:`tbt_alert.sources.eutbt_listing`. With ``ids`` the listing is skipped and exactly
those pages are fetched (the date range is then not applied). A notification page that cannot be
read, lacks a label every page carries (layout drift) or fails to download is counted in
``tbt/invalid_items`` and never yielded: the runner fails a crawl whose items are mostly invalid. A
listing page that is garbage, fails to download, or pages on past ``max_pages`` closes the spider
with a reason other than ``finished``, so the runner reports the crawl as failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spiders.base import TbtSpider, failure_message
from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.sources.eutbt_listing import (
    DEFAULT_BASE_URL,
    arrival_in_range,
    base_url_of,
    listing_url,
    notice_item,
    notification_url,
    parse_ids,
    parse_listing,
)


class EuTbtSpider(TbtSpider):
    invalid_label = "invalid EU TBT page skipped"
    name = "eutbt"

    def __init__(
        self,
        since: str,
        until: str,
        base_url: str = DEFAULT_BASE_URL,
        ids: str = "",
        max_pages: str | int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url_of(base_url)
        self.since, self.until = date.fromisoformat(since), date.fromisoformat(until)
        self.ids = parse_ids(ids)
        self.max_pages = int(max_pages)
        if self.since > self.until or self.max_pages < 1:
            raise ValueError(f"bad EU TBT crawl arguments: {since}..{until} max_pages={max_pages}")
        host = urlsplit(self.base_url).hostname
        self.allowed_domains = [host] if host else []

    async def start(self) -> AsyncIterator[Any]:
        if self.ids:
            for page_id in self.ids:
                yield self.notification_request(page_id)
            return
        yield self.listing_request(listing_url(self.base_url, self.since, self.until), 1)

    def listing_request(self, url: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse, errback=self.on_listing_error, cb_kwargs={"page": page}
        )

    def notification_request(self, page_id: str) -> scrapy.Request:
        return scrapy.Request(
            notification_url(self.base_url, page_id),
            callback=self.parse_notification,
            errback=self.on_notification_error,
            cb_kwargs={"page_id": page_id},
        )

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        """A listing page: one request per notification, then the next listing page."""
        try:
            listing = parse_listing(_text(response), response.url)
        except CrawlError as e:
            self.fail("eutbt_schema_drift", f"listing page {page}: {e}")
        if not listing.ids:
            self.logger.warning("EU TBT listing %s says there are no results", response.url)
        for page_id in listing.ids:
            yield self.notification_request(page_id)
        if listing.next_url is None:
            return
        if page >= self.max_pages:
            self.fail("eutbt_too_many_pages", f"more than {self.max_pages} listing pages")
        yield self.listing_request(listing.next_url, page + 1)

    def parse_notification(self, response: Response, page_id: str) -> Iterator[dict[str, Any]]:
        try:
            item = notice_item(_text(response), response.url, page_id)
        except (CrawlError, RecordError) as e:
            self.count_invalid(f"notification {page_id}: {e}")
            return
        if self.ids or arrival_in_range(item, self.since, self.until):
            yield item
        elif self.crawler.stats is not None:
            self.crawler.stats.inc_value("tbt/out_of_range")

    def on_notification_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        self.count_invalid(f"{url}: {failure_message(failure)}")

    def on_listing_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        self.fail("eutbt_request_failed", f"{url}: {failure_message(failure)}")


def _text(response: Response) -> str:
    """The decoded page; a body served without a text content type is read as UTF-8."""
    if isinstance(response, TextResponse):
        return response.text
    return response.body.decode("utf-8", errors="replace")
