"""What a crawl of each source needs from the configuration: its base URL, spider arguments,
fetch bounds and allow-list, and secrets for the spider's environment (never its argv).

Every entry point (``run``, ``crawl``, ``backfill``, the daemon) crawls through
:func:`tbt_alert.pipeline.crawl_and_ingest`, which asks this module, so they all crawl alike.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tbt_alert.config import Config
from tbt_alert.crawl.fetchguard import host_port
from tbt_alert.crawl.runner import MAX_INVALID_RATIO
from tbt_alert.errors import ConfigError
from tbt_alert.sources.eping_api import API_KEY_ENV
from tbt_alert.sources.eping_api import spider_args as eping_args

SOURCES = ("eping", "eutbt", "feeds", "wtodoc")
# Share of invalid items that fails a crawl: documents fail one by one (a .doc, a 404) far more
# often than API items, so a batch of them tolerates more before the run counts as failed.
MAX_INVALID = {"wtodoc": 0.5}


@dataclass(frozen=True)
class CrawlTarget:
    base_url: str
    spider_args: dict[str, str] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    max_invalid_ratio: float = MAX_INVALID_RATIO


def crawl_target(slug: str, config: Config) -> CrawlTarget:
    """How to crawl ``slug`` under ``config``; ConfigError for an unknown or unconfigured source."""
    if slug == "eping":
        urls = [config.eping.base_url] + ([config.eping.api_url] if config.eping.api_key else [])
        env = {API_KEY_ENV: config.eping.api_key} if config.eping.api_key else {}
        return _plan(config, config.eping.base_url, urls, eping_args(config), env, slug)
    if slug == "eutbt":
        return _plan(config, config.eutbt.base_url, [config.eutbt.base_url], {}, {}, slug)
    if slug == "feeds":
        if not config.feeds.urls:
            raise ConfigError("no feeds configured: set [feeds] urls")
        args = {"urls": json.dumps(list(config.feeds.urls))}
        return _plan(config, "", list(config.feeds.urls), args, {}, slug)
    if slug == "wtodoc":
        return _plan(config, "", [], {}, {}, slug)
    raise ConfigError(f"unknown source {slug!r}; known: {', '.join(SOURCES)}")


def _plan(
    config: Config,
    base_url: str,
    urls: list[str],
    args: dict[str, str],
    env: dict[str, str],
    slug: str,
) -> CrawlTarget:
    hosts = [*config.fetch.allowed_hosts, *(host_port(u) for u in urls)]
    settings = {
        "TBT_ALLOWED_HOSTS": list(dict.fromkeys(hosts)),
        "DOWNLOAD_DELAY": config.eping.download_delay_s,
        "ROBOTSTXT_OBEY": config.eping.obey_robots,
        "DOWNLOAD_TIMEOUT": config.fetch.timeout_s,
        "DOWNLOAD_MAXSIZE": config.fetch.max_bytes,
        "RETRY_TIMES": config.fetch.retries,
    }
    return CrawlTarget(base_url, args, settings, env, MAX_INVALID.get(slug, MAX_INVALID_RATIO))
