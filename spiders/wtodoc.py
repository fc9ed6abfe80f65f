"""WTO document spider: fetches the notification documents a caller lists and reads their boxes.

Arguments (strings, as Scrapy passes them):

* ``targets``: path of a JSON file written by the caller, ``[{"symbol": ..., "url": ...}, ...]``.
  The URLs come from ePing (``linkToNotification``, the ``dolLink`` file on Documents Online,
  ``notifiedDocumentLink``): the caller picks them, this spider never builds one from a symbol
  (Documents Online's paths are not derivable from a symbol);
* ``since``, ``until``, ``base_url``: accepted and ignored (:func:`tbt_alert.crawl.runner.run_spider`
  always passes them).

Each body goes through :func:`tbt_alert.text.documents.extract_text`, then the addendum reader for
``Add.``/``Corr.``/``Suppl.`` symbols or the form reader otherwise (a ``Rev.`` is a whole new form;
each kind falls back to the other reader when its own finds no layout). Items are canonical records
with ``source = "wtodoc"`` and ``source_url``; an addendum's record carries
``events: [{"kind", "date", "text"}]``. A document that cannot be fetched, read or parsed is counted
in ``tbt/invalid_items`` and not yielded; when every document fails, the runner reports no items and
the crawl fails. An unreadable targets file fails the crawl at once.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from spiders.base import TbtSpider
from tbt_alert.errors import CrawlError, RecordError, SymbolError
from tbt_alert.record import parse_record
from tbt_alert.sources.canonical import event_json
from tbt_alert.sources.wtodoc import AddendumDoc, parse_addendum_text, parse_notification_text
from tbt_alert.text import scan as textscan
from tbt_alert.text.documents import extract_text
from tbt_alert.text.members import member_by_code
from tbt_alert.text.symbols import parse_symbol

SOURCE = "wtodoc"
MAX_TARGETS = 2000


@dataclass(frozen=True, slots=True)
class Target:
    symbol: str  # canonical
    url: str


def read_targets(path: Path) -> list[Target]:
    """The caller's list of documents; ValueError naming the problem (the crawl then fails)."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeError, json.JSONDecodeError) as e:
        raise ValueError(f"wtodoc targets file {path} is unreadable: {e}") from e
    if not isinstance(data, list) or not 0 < len(data) <= MAX_TARGETS:
        raise ValueError(f"wtodoc targets file {path} must be a list of 1 to {MAX_TARGETS} objects")
    return [_target(entry, index) for index, entry in enumerate(data, start=1)]


def _target(entry: Any, index: int) -> Target:
    if not isinstance(entry, dict) or not isinstance(entry.get("url"), str):
        raise ValueError(f"wtodoc target {index} must be an object with 'symbol' and 'url'")
    try:
        symbol = parse_symbol(str(entry.get("symbol", ""))).canonical
    except SymbolError as e:
        raise ValueError(f"wtodoc target {index}: {e}") from e
    url = entry["url"].strip()
    if textscan.http_url(url) is None:
        raise ValueError(f"wtodoc target {index}: {url[:200]!r} is not an http(s) URL")
    return Target(symbol, url)


# --- from text to record -----------------------------------------------------------------------

Reader = Callable[[str, str, str], dict[str, Any]]


def form_record(text: str, symbol: str, source_url: str) -> dict[str, Any]:
    doc = parse_notification_text(text, symbol=symbol)
    return {**doc.to_record(source_url=source_url).to_dict(), "source": SOURCE}


def addendum_record(text: str, symbol: str, source_url: str) -> dict[str, Any]:
    doc = parse_addendum_text(text, symbol=symbol)
    own = doc.symbol or symbol
    member = doc.member or _member_from_symbol(doc, own)
    events = [event_json(e) for e in doc.events]
    data: dict[str, Any] = {
        "symbol": own,
        "member": member,
        "title": doc.title,
        "distribution_date": doc.date.isoformat() if doc.date else None,
        "description": doc.description,
        "language": "en",
        "source_url": source_url,
        "notification_type": textscan.notification_type(own),
        "document_links": textscan.find_urls("\n".join(e.text for e in doc.events)),
        "source": SOURCE,
        "parent_symbol": doc.parent_symbol,
        "layout": doc.layout,
        "communication_date": doc.communication_date.isoformat()
        if doc.communication_date
        else None,
        "events": events,
    }
    if doc.warnings:
        data["parse_warnings"] = list(doc.warnings)
    return parse_record(data).to_dict()


def _member_from_symbol(doc: AddendumDoc, symbol: str) -> str | None:
    """Addenda without the "at the request of ..." line: the member code of the symbol."""
    code = parse_symbol(symbol).member
    member = member_by_code(code) if code else None
    if member is not None:
        doc.warnings.append(f"member read from the symbol ({code})")
    return member.name_en if member else None


_READERS: dict[str, tuple[Reader, ...]] = {
    "regular": (form_record,),
    "revision": (form_record, addendum_record),
    "addendum": (addendum_record, form_record),
    "corrigendum": (addendum_record, form_record),
    "supplement": (addendum_record, form_record),
}


def document_record(text: str, symbol: str, source_url: str) -> dict[str, Any]:
    """The record of one document's text; CrawlError when no reader recognises its layout,
    RecordError when the layout was read but a required field is missing."""
    failures: list[str] = []
    for reader in _READERS[parse_symbol(symbol).kind]:
        try:
            return reader(text, symbol, source_url)
        except CrawlError as e:
            failures.append(str(e))
    raise CrawlError("; ".join(failures))


# --- the spider --------------------------------------------------------------------------------


class WtoDocSpider(TbtSpider):
    invalid_label = "WTO document skipped"
    name = "wtodoc"

    def __init__(
        self, targets: str, since: str = "", until: str = "", base_url: str = "", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.targets = read_targets(Path(targets))
        self.allowed_domains = sorted({urlsplit(t.url).hostname or "" for t in self.targets})

    async def start(self) -> AsyncIterator[Any]:
        for target in self.targets:
            yield scrapy.Request(
                target.url,
                callback=self.parse,
                errback=self.on_error,
                dont_filter=True,
                cb_kwargs={"target": target},
                meta={"target": target},
            )

    def parse(self, response: Response, target: Target) -> Iterator[dict[str, Any]]:
        content_type = response.headers.get("Content-Type")
        mime = content_type.decode("latin-1") if content_type else None
        try:
            record = document_record(
                extract_text(response.body, mime, response.url), target.symbol, target.url
            )
        except (CrawlError, RecordError, SymbolError) as e:
            self.count_invalid(f"{target.symbol} ({target.url}): {e}")
            return
        yield record

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        target = request.meta.get("target") if request is not None else None
        where = f"{target.symbol} ({target.url})" if target else "?"
        status = getattr(getattr(failure.value, "response", None), "status", None)
        reason = f"HTTP {status}" if status else failure.getErrorMessage()
        self.count_invalid(f"{where}: fetch failed: {reason}")
