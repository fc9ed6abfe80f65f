"""What every tbt-alert spider does alike: count an invalid item without yielding it, keep a
bounded list of errors in the stats, and fail loudly with a reason the runner reports."""

from __future__ import annotations

from typing import NoReturn

import scrapy
from scrapy.exceptions import CloseSpider
from twisted.python.failure import Failure

MAX_ERRORS_KEPT = 50


class TbtSpider(scrapy.Spider):
    """Base of the project's spiders. ``invalid_label`` names what an invalid item is in logs."""

    invalid_label = "invalid item skipped"

    def count_invalid(self, message: str) -> None:
        self.logger.warning("%s: %s", self.invalid_label, message)
        self.inc("tbt/invalid_items")
        self.keep_error("tbt/invalid_item_errors", message)

    def inc(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)

    def keep_error(self, key: str, message: str) -> None:
        stats = self.crawler.stats
        if stats is None:
            return
        errors = stats.get_value(key) or []
        if len(errors) < MAX_ERRORS_KEPT:
            stats.set_value(key, [*errors, message])

    def fail(self, reason: str, message: str) -> NoReturn:
        """Log, record the message in the stats and close the spider with ``reason``."""
        self.logger.error("%s: %s", reason, message)
        if self.crawler.stats is not None:
            self.crawler.stats.set_value("tbt/failure", f"{reason}: {message}")
        raise CloseSpider(reason)


def failure_message(failure: Failure) -> str:
    """``HTTP 404`` for a refused status (Scrapy says only "Ignoring non-200 response"), else the
    error message."""
    status = getattr(getattr(failure.value, "response", None), "status", None)
    return f"HTTP {status}" if isinstance(status, int) else failure.getErrorMessage()
