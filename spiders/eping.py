"""WTO ePing spider: pages ``azureSearch/getAll`` over a distribution-date range.

Thin adapter: decoding and mapping are in :mod:`tbt_alert.eping`. An invalid item is counted
(``tbt/invalid_items``) and logged, never yielded; a garbage page or a failed request closes the
spider with a reason other than ``finished`` so the runner reports the crawl as failed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from typing import Any, NoReturn
from urllib.parse import urlencode, urljoin, urlsplit

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response
from twisted.python.failure import Failure

from tbt_alert.eping import SOURCE, map_item, page_items
from tbt_alert.errors import CrawlError, RecordError

MAX_ERRORS_KEPT = 50


class EpingSpider(scrapy.Spider):
    name = "eping"

    def __init__(
        self,
        base_url: str,
        since: str,
        until: str,
        page_size: str | int = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.since = date.fromisoformat(since).isoformat()
        self.until = date.fromisoformat(until).isoformat()
        self.page_size = int(page_size)
        if not 1 <= self.page_size <= 100 or self.since > self.until:
            raise ValueError(f"bad ePing crawl arguments: page_size={page_size} {since}..{until}")
        host = urlsplit(self.base_url).hostname
        self.allowed_domains = [host] if host else []

    def page_url(self, page: int) -> str:
        query = {
            "language": 1,
            "domainIds": 1,
            "distributionDateFrom": self.since,
            "distributionDateTo": self.until,
            "page": page,
            "pageSize": self.page_size,
            "sortBy": "distributionDate",
            "sortDirection": "asc",
        }
        return urljoin(self.base_url, "azureSearch/getAll") + "?" + urlencode(query)

    def page_request(self, page: int) -> scrapy.Request:
        return scrapy.Request(
            self.page_url(page),
            callback=self.parse,
            errback=self.on_error,
            headers={"Accept": "application/json"},
            cb_kwargs={"page": page},
        )

    async def start(self) -> AsyncIterator[Any]:
        yield self.page_request(1)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        try:
            items, total = page_items(response.body)
        except CrawlError as e:
            self.fail("eping_schema_drift", f"page {page} ({response.url}): {e}")
        for index, item in enumerate(items):
            try:
                record = map_item(item)
            except RecordError as e:
                self.count_invalid(f"page {page} item {index + 1}: {e}")
                continue
            yield {**record.to_dict(), "source": SOURCE}
        if items and page * self.page_size < total:
            yield self.page_request(page + 1)

    def count_invalid(self, message: str) -> None:
        self.logger.warning("invalid ePing item skipped: %s", message)
        stats = self.crawler.stats
        if stats is None:
            return
        stats.inc_value("tbt/invalid_items")
        errors = stats.get_value("tbt/invalid_item_errors") or []
        if len(errors) < MAX_ERRORS_KEPT:
            stats.set_value("tbt/invalid_item_errors", [*errors, message])

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        self.fail("eping_request_failed", f"{url}: {failure.getErrorMessage()}")

    def fail(self, reason: str, message: str) -> NoReturn:
        """Log, record the message in the stats and close the spider with ``reason``."""
        self.logger.error("%s: %s", reason, message)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("tbt/failure", f"{reason}: {message}")
        raise CloseSpider(reason)
