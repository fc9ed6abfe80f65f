"""Scrapy settings shared by every tbt-alert spider; the runner applies them, callers override.

Polite and bounded by default (reliability checks 16 and 23): a User-Agent naming the project, one
request at a time with a delay, robots.txt obeyed, connect/read timeouts, a body-size cap and a few
retries. Tests pass overrides such as ``{"DOWNLOAD_DELAY": 0}`` through the same argument.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tbt_alert import __version__

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
    "REDIRECT_MAX_TIMES": 3,
    "COOKIES_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "HTTPCACHE_ENABLED": False,
    "FEED_EXPORT_ENCODING": "utf-8",
    "LOG_LEVEL": "INFO",
    "SPIDER_MODULES": ["spiders"],
}


def crawl_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The default settings with ``overrides`` applied on top (a new dict)."""
    settings = dict(DEFAULTS)
    settings.update(overrides or {})
    return settings
