"""Downloader middlewares shared by every tbt-alert spider: the fetch guard on every request and
redirect, and bounded bodies.

:class:`FetchGuardMiddleware` applies :func:`tbt_alert.crawl.fetchguard.check_url` with the setting
``TBT_ALLOWED_HOSTS`` to every request, twice over: when it is scheduled (the ``request_scheduled``
signal - start requests, and the new requests ``RedirectMiddleware`` and meta refreshes return,
which go back through the scheduler), and in ``process_request`` before any other downloader
middleware (robots.txt and ``engine.download`` requests skip the scheduler). Scheduling comes first
on purpose: Scrapy's ``OffsiteMiddleware`` drops off-site requests there with only a DEBUG line, so
a redirect to another host would otherwise vanish silently. Scrapy also drops a redirect to a
non-http(s) scheme without a word; the guard's ``process_response`` sees that 3xx and refuses it by
name. A refusal is logged at ERROR, counted in ``tbt/refused_requests``, recorded as
``tbt/failure`` unless the spider recorded one, and raised as ``IgnoreRequest`` (in
``process_request``/``process_response`` the request's errback runs). Either way the logged error
makes the crawl process exit non-zero.

:class:`RetryBackoffMiddleware` delays each retry that ``RetryMiddleware`` schedules by
``TBT_RETRY_BACKOFF_BASE * 2**(retry-1)`` seconds, at most ``TBT_RETRY_BACKOFF_MAX``.

The decompressed-size cap needs no middleware: Scrapy's ``HttpCompressionMiddleware`` (2.11.1+)
decompresses gzip, deflate, br and zstd in chunks and stops at ``DOWNLOAD_MAXSIZE``. Scrapy also
cuts a body streamed past ``DOWNLOAD_MAXSIZE``, but then fails the request with a bare, message-less
cancellation; :class:`BodySizeMiddleware` counts the bytes received and names the cap instead.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, NoReturn, Self
from urllib.parse import urljoin

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy.utils.asyncio import sleep

from tbt_alert.crawl.fetchguard import AllowList, FetchRefused, backoff_delay

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

REFUSED_STAT = "tbt/refused_requests"
FAILURE_STAT = "tbt/failure"  # what tbt_alert.crawl.runner reports for a failed crawl
BACKOFF_STAT = "tbt/retry_backoff_ms"
TOO_LARGE_STAT = "tbt/bodies_too_large"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RECEIVED = "tbt_bytes_received"  # request.meta key


class FetchGuardMiddleware:
    """Refuse every request, and every redirect target, that ``TBT_ALLOWED_HOSTS`` does not allow."""

    def __init__(self, allow: AllowList, stats: StatsCollector | None) -> None:
        self.allow = allow
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        allow = AllowList.parse(crawler.settings.getlist("TBT_ALLOWED_HOSTS"))
        guard = cls(allow, crawler.stats)
        crawler.signals.connect(guard.request_scheduled, signal=signals.request_scheduled)
        return guard

    def request_scheduled(self, request: Request, **kwargs: Any) -> None:
        self.process_request(request)

    def process_request(self, request: Request) -> None:
        try:
            self.allow.check(request.url)
        except FetchRefused as e:
            self.refuse(request, e)

    def process_response(self, request: Request, response: Response) -> Response:
        """Refuse a redirect that was not followed (e.g. to ``file:``) if its target is refused."""
        target = redirect_target(request, response)
        if target is not None:
            try:
                self.allow.check(target)
            except FetchRefused as e:
                self.refuse(request, e, f" (redirect {response.status} from {request.url})")
        return response

    def refuse(self, request: Request, error: FetchRefused, via: str = "") -> NoReturn:
        chain = request.meta.get("redirect_urls") or []
        if chain and not via:
            via = f" (redirected from {chain[-1]})"
        message = f"{error}{via}"
        logger.error("fetch guard: %s", message)
        if self.stats is not None:
            self.stats.inc_value(REFUSED_STAT)
            if self.stats.get_value(FAILURE_STAT) is None:
                self.stats.set_value(FAILURE_STAT, f"fetch_refused: {message}")
        raise IgnoreRequest(message) from error


def redirect_target(request: Request, response: Response) -> str | None:
    """The absolute URL a redirect response points to, or None if it is no redirect."""
    location = response.headers.get("Location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    return urljoin(request.url, location.decode("latin-1").strip())


class RetryBackoffMiddleware:
    """Wait before each retry, exponentially longer: ``RetryMiddleware`` alone retries at once."""

    def __init__(self, base_s: float, max_s: float, stats: StatsCollector | None) -> None:
        self.base_s = base_s
        self.max_s = max_s
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        base = settings.getfloat("TBT_RETRY_BACKOFF_BASE")
        return cls(base, settings.getfloat("TBT_RETRY_BACKOFF_MAX"), crawler.stats)

    async def process_request(self, request: Request) -> None:
        retry = int(request.meta.get("retry_times", 0))
        delay = backoff_delay(retry, self.base_s, self.max_s)
        # A retried request that is then redirected keeps its retry_times: wait only once.
        if delay <= 0 or request.meta.get("tbt_backoff_done") == retry:
            return
        logger.info("retry %d of %s in %.2f s", retry, request.url, delay)
        if self.stats is not None:
            self.stats.inc_value(BACKOFF_STAT, round(delay * 1000))
        request.meta["tbt_backoff_done"] = retry
        await sleep(delay)


class BodySizeMiddleware:
    """Turn Scrapy's silent cancellation of a body larger than the cap into a named failure."""

    def __init__(self, max_size: int, stats: StatsCollector | None) -> None:
        self.max_size = max_size
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        middleware = cls(crawler.settings.getint("DOWNLOAD_MAXSIZE"), crawler.stats)
        crawler.signals.connect(middleware.bytes_received, signal=signals.bytes_received)
        return middleware

    def bytes_received(self, data: bytes, request: Request, **kwargs: Any) -> None:
        request.meta[RECEIVED] = request.meta.get(RECEIVED, 0) + len(data)

    def process_exception(self, request: Request, exception: Exception) -> None:
        """IgnoreRequest naming the cap when the failed download had received more than it."""
        max_size = int(request.meta.get("download_maxsize", self.max_size))
        received = int(request.meta.get(RECEIVED, 0))
        if not max_size or received <= max_size:
            return
        message = (
            f"body of {request.url} exceeded DOWNLOAD_MAXSIZE ({max_size} B): "
            f"{received} B received, download aborted ({type(exception).__name__})"
        )
        logger.error("%s", message)
        if self.stats is not None:
            self.stats.inc_value(TOO_LARGE_STAT)
        raise IgnoreRequest(message) from exception
