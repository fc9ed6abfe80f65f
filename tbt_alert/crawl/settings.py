"""Scrapy settings shared by every tbt-alert spider; the runner applies them, callers override.

Polite and bounded by default: a User-Agent naming the project,
one request at a time with a delay, robots.txt obeyed, connect/read timeouts, a body-size cap that
also bounds decompression, a few retries with exponential backoff, and a host allow-list enforced
on every request and redirect (:mod:`tbt_alert.crawl.middlewares`). ``TBT_ALLOWED_HOSTS`` defaults to the
production hosts, and :func:`tbt_alert.crawl.runner.run_spider` adds the base URL's ``host:port`` when
the caller passes none (:func:`tbt_alert.crawl.fetchguard.host_port` builds such entries). Tests pass overrides such as ``{"DOWNLOAD_DELAY": 0}``
through the same argument. ``DOWNLOADER_MIDDLEWARES`` overrides are merged into ours, not swapped
for them, so an override cannot drop the fetch guard by accident.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tbt_alert import __version__
from tbt_alert.config import DEFAULT_ALLOWED_HOSTS

PROJECT_URL = "https://github.com/tbt-alert/tbt-alert"  # placeholder until the project is published
USER_AGENT = f"tbt-alert/{__version__} (+{PROJECT_URL}; WTO TBT notification alerts for exporters)"

DEFAULTS: dict[str, Any] = {
    "BOT_NAME": "tbt-alert",
    "USER_AGENT": USER_AGENT,
    "ROBOTSTXT_OBEY": True,
    "DOWNLOAD_DELAY": 1.0,
    "RANDOMIZE_DOWNLOAD_DELAY": False,
    "CONCURRENT_REQUESTS": 1,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
    "DOWNLOAD_TIMEOUT": 30,
    "DNS_TIMEOUT": 20,
    "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024,
    "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
    "RETRY_ENABLED": True,
    "RETRY_TIMES": 2,
    # Scrapy logs a request that ran out of retries at ERROR, and a logged error fails the crawl;
    # each spider's errback decides instead whether one lost URL is fatal (an ePing page) or not
    # (one feed among several, one WTO document in a batch).
    "RETRY_GIVE_UP_LOG_LEVEL": "WARNING",
    "TBT_RETRY_BACKOFF_BASE": 2.0,  # seconds before the 1st retry; doubled for each next one
    "TBT_RETRY_BACKOFF_MAX": 30.0,
    "REDIRECT_MAX_TIMES": 3,
    "TBT_ALLOWED_HOSTS": list(DEFAULT_ALLOWED_HOSTS),
    "DOWNLOADER_MIDDLEWARES": {
        # before OffsiteMiddleware (50) and RobotsTxtMiddleware (100): refused hosts are never
        # contacted, not even for robots.txt, and the refusal is logged with its reason
        "tbt_alert.crawl.middlewares.BodySizeMiddleware": 30,
        "tbt_alert.crawl.middlewares.FetchGuardMiddleware": 40,
        "tbt_alert.crawl.middlewares.RetryBackoffMiddleware": 45,
    },
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "FEED_EXPORT_ENCODING": "utf-8",
    "LOG_LEVEL": "INFO",
    "SPIDER_MODULES": ["spiders"],  # loaded by name: the package never imports them
}

MERGED = ("DOWNLOADER_MIDDLEWARES",)


def crawl_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default settings with ``overrides`` applied on top (a new dict)."""
    settings = dict(DEFAULTS)
    settings.update(overrides or {})
    for key in MERGED:
        settings[key] = {**DEFAULTS[key], **(overrides or {}).get(key, {})}
    return settings
