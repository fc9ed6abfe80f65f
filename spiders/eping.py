"""WTO ePing spider: pages a search over a distribution-date range, then asks for details.

Thin adapter: decoding, mapping and the choice of detail requests are in :mod:`tbt_alert.sources.eping`
and :mod:`tbt_alert.sources.eping_api`. Arguments (all strings, as Scrapy passes them):

* ``base_url``, ``since``, ``until`` (YYYY-MM-DD), ``page_size`` (1-100);
* ``details``: ``none`` (default), ``related``, ``downloads`` or ``related,downloads``:
  ``getRelatedNotifications`` for addenda/revisions/corrigenda and joint items (``related_symbols``)
  and ``getDownloadLinks`` for items that link to no file (``download_links``);
* ``api``: ``open`` (keyless ``azureSearch/getAll``, default) or ``keyed`` (the official API at
  ``api_url`` + ``notifications/search``). The key is read from the environment variable
  ``TBT_ALERT_EPING_API_KEY`` of this process, never from an argument, and is sent only as the
  ``Ocp-Apim-Subscription-Key`` header of search requests (redirects not followed);
* ``countries``: optional comma-separated ePing country ids (``C156,U918``);
* ``max_results``: a window whose totalCount is above it, or that ePing flags with
  ``isCountExceeded``, fails with reason ``eping_count_exceeded`` so the caller can split it.

An invalid item is counted (``tbt/invalid_items``) and logged, never yielded; a garbage response or
a failed request closes the spider with a reason other than ``finished`` so the runner reports the
crawl as failed.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TbtSpider, failure_message
from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.sources.eping import SOURCE, map_item, read_page
from tbt_alert.sources.eping_api import (
    API_KEY_ENV,
    API_KEY_HEADER,
    COUNT_EXCEEDED,
    MAX_RESULTS,
    base_symbol,
    download_links,
    downloads_url,
    needs_downloads,
    parse_details,
    related_symbols,
    related_url,
    search_query,
    search_url,
)

MAX_GAPS_KEPT = 1000
Pending = tuple[dict[str, Any], str | None]  # a record, and the id to ask download links with


def _slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class EpingSpider(TbtSpider):
    invalid_label = "invalid ePing item skipped"
    name = "eping"

    def __init__(
        self,
        base_url: str,
        since: str,
        until: str,
        page_size: str | int = 100,
        details: str = "none",
        api: str = "open",
        api_url: str = "",
        countries: str = "",
        max_results: str | int = MAX_RESULTS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.base_url = _slash(base_url)
        self.since = date.fromisoformat(since).isoformat()
        self.until = date.fromisoformat(until).isoformat()
        self.page_size = int(page_size)
        if not 1 <= self.page_size <= 100 or self.since > self.until:
            raise ValueError(f"bad ePing crawl arguments: page_size={page_size} {since}..{until}")
        if api not in ("open", "keyed") or (api == "keyed" and not api_url):
            raise ValueError(
                f"bad ePing crawl arguments: api={api!r} needs 'open' or 'keyed' + api_url"
            )
        self.details = parse_details(details)
        self.keyed = api == "keyed"
        self.search_base = _slash(api_url) if self.keyed else self.base_url
        self.countries = [c.strip() for c in countries.split(",") if c.strip()]
        self.max_results = int(max_results)
        self._api_key = os.environ.get(API_KEY_ENV, "") if self.keyed else ""
        hosts = {urlsplit(url).hostname for url in (self.base_url, self.search_base)}
        self.allowed_domains = sorted(host for host in hosts if host)
        self._families: dict[str, list[str]] = {}  # base symbol -> related symbols (cache)
        self._waiting: dict[str, list[Pending]] = {}  # base symbol -> records awaiting it

    def page_request(self, page: int) -> scrapy.Request:
        query = search_query(
            since=self.since,
            until=self.until,
            page=page,
            page_size=self.page_size,
            countries=self.countries,
            keyed=self.keyed,
        )
        headers = {"Accept": "application/json"}
        if self.keyed:
            headers[API_KEY_HEADER] = self._api_key
        return scrapy.Request(
            search_url(self.search_base, query, keyed=self.keyed),
            callback=self.parse,
            errback=self.on_error,
            headers=headers,
            meta={"dont_redirect": True} if self.keyed else {},
            cb_kwargs={"page": page},
        )

    def detail_request(
        self, url: str, callback: Callable[..., Any], errback: Callable[..., Any], **kw: Any
    ) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback,
            dont_filter=True,
            headers={"Accept": "application/json"},
            cb_kwargs=kw,
        )

    async def start(self) -> AsyncIterator[Any]:
        if self.keyed and not self._api_key:
            self.fail("eping_api_key_missing", f"api=keyed but {API_KEY_ENV} is not set")
        yield self.page_request(1)

    def parse(self, response: Response, page: int = 1) -> Iterator[Any]:
        try:
            result = read_page(response.body)
        except CrawlError as e:
            self.fail("eping_schema_drift", f"page {page} ({response.url}): {e}")
        if result.count_exceeded or result.total > self.max_results:
            self.fail(
                COUNT_EXCEEDED,
                f"{result.total} notifications from {self.since} to "
                f"{self.until} (isCountExceeded={result.count_exceeded}, cap "
                f"{self.max_results}): split the window",
            )
        for index, item in enumerate(result.items):
            try:
                record = {**map_item(item).to_dict(), "source": SOURCE}
            except RecordError as e:
                self.count_invalid(f"page {page} item {index + 1}: {e}")
                continue
            yield from self.with_details(item, record)
        if result.items and page * self.page_size < result.total:
            yield self.page_request(page + 1)

    def with_details(self, item: dict[str, Any], record: dict[str, Any]) -> Iterator[Any]:
        """The record, or the detail requests that will complete it."""
        wants_files = "downloads" in self.details and needs_downloads(item)
        pending: Pending = (record, str(item["id"]) if wants_files else None)
        base = base_symbol(record) if "related" in self.details else None
        if base is None:
            yield from self.finish(pending)
        elif base in self._families:
            yield from self.relate(self._families[base], [pending])
        elif base in self._waiting:
            self._waiting[base].append(pending)
        else:
            self._waiting[base] = [pending]
            yield self.detail_request(
                related_url(self.base_url, base),
                self.parse_related,
                self.related_failed,
                base=base,
            )

    def parse_related(self, response: Response, base: str) -> Iterator[Any]:
        try:
            family = related_symbols(response.body, own=())
        except CrawlError as e:
            self.fail("eping_schema_drift", f"{response.url}: {e}")
        self._families[base] = family
        yield from self.relate(family, self._waiting.pop(base, []))

    def relate(self, family: list[str], pending: list[Pending]) -> Iterator[Any]:
        for record, download_id in pending:
            own = {record["symbol"], *record.get("joint_symbols", [])}
            record["related_symbols"] = [symbol for symbol in family if symbol not in own]
            yield from self.finish((record, download_id))

    def finish(self, pending: Pending) -> Iterator[Any]:
        record, download_id = pending
        if download_id is None:
            yield record
        else:
            url = downloads_url(self.base_url, download_id)
            yield self.detail_request(
                url, self.parse_downloads, self.downloads_failed, record=record
            )

    def parse_downloads(self, response: Response, record: dict[str, Any]) -> Iterator[Any]:
        try:
            record["download_links"] = download_links(response.body)
        except CrawlError as e:
            self.fail("eping_schema_drift", f"{response.url}: {e}")
        yield record

    # Enrichment is best-effort: a detail endpoint that fails leaves a gap (recorded in the stats
    # as ``tbt/gaps``, retried by a later cycle), never the listing's records unsent.

    def related_failed(self, failure: Failure) -> Iterator[Any]:
        base = failure.request.cb_kwargs["base"]  # type: ignore[attr-defined]
        waiting = self._waiting.pop(base, [])
        for record, _ in waiting:
            self.record_gap(record, "related", failure)
        for pending in waiting:
            yield from self.finish(pending)

    def downloads_failed(self, failure: Failure) -> Iterator[Any]:
        record = failure.request.cb_kwargs["record"]  # type: ignore[attr-defined]
        self.record_gap(record, "downloads", failure)
        yield record

    def record_gap(self, record: dict[str, Any], what: str, failure: Failure) -> None:
        url = getattr(getattr(failure, "request", None), "url", "?")
        message = f"{url}: {failure_message(failure)}"
        self.logger.warning("enrichment gap (%s) for %s: %s", what, record.get("symbol"), message)
        self.inc("tbt/gap_count")
        stats = self.crawler.stats
        if stats is not None:
            gaps = stats.get_value("tbt/gaps") or []
            if len(gaps) < MAX_GAPS_KEPT:
                gap = {"symbol": record.get("symbol"), "what": what, "error": message}
                stats.set_value("tbt/gaps", [*gaps, gap])

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if self.keyed and status in (401, 403):
            self.fail(
                "eping_api_key_refused",
                f"{url}: HTTP {status}, the ePing API refused the "
                f"subscription key; check [eping] api_key or {API_KEY_ENV}",
            )
        self.fail("eping_request_failed", f"{url}: {failure.getErrorMessage()}")
