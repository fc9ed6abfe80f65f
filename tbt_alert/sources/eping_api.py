"""ePing endpoints besides the item mapping: search URLs (keyless ``getAll`` or the official keyed
API), the detail endpoints ``getRelatedNotifications`` and ``getDownloadLinks``, and the spider
arguments a configuration implies. Pure functions.

Which items get detail requests (each costs one request at about one per second):

* related symbols: items whose symbol has a suffix (Add./Rev./Corr./Suppl.) or that are joint, one
  request per base symbol per crawl (the family is the same for every member of it);
* download links: only items that give no link to any file at all (no ``notifiedDocumentLink``,
  ``linkToNotification`` nor ``dolLink``); the others already point to their documents.

Response shapes of the detail endpoints are reconstructed (no raw body was available): an object with an
``items`` list (a bare list is accepted too); related items carry ``documentSymbol``, download items
``displayName`` and ``urlLink``. Anything else is schema drift and fails the crawl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode, urljoin

from tbt_alert.config import Config
from tbt_alert.errors import CrawlError, RecordError, SymbolError
from tbt_alert.sources.eping import check_objects, http_links, split_symbols
from tbt_alert.text.scan import one_line
from tbt_alert.text.symbols import parse_symbol

API_KEY_ENV = "TBT_ALERT_EPING_API_KEY"  # the keyed API's key reaches the spider only this way
API_KEY_HEADER = "Ocp-Apim-Subscription-Key"
KEYED_SEARCH_PATH = "notifications/search"
DETAILS = frozenset({"related", "downloads"})
# ePing's search sets ``isCountExceeded`` when a query matches more hits than it will page
# through; the cap is not documented. We also refuse a totalCount above MAX_RESULTS (10,000 here,
# Azure-Search-sized and far above the ~400 TBT notifications of a busy month), so a window
# that is too wide fails with reason ``eping_count_exceeded`` and the backfill splits it.
MAX_RESULTS = 10_000
COUNT_EXCEEDED = "eping_count_exceeded"


def parse_details(text: str) -> frozenset[str]:
    """``"related,downloads"`` / ``"none"`` / ``""`` -> the set of detail requests to make."""
    names = {part.strip() for part in text.split(",") if part.strip()} - {"none"}
    unknown = names - DETAILS
    if unknown:
        raise ValueError(f"unknown ePing details {sorted(unknown)}; use related, downloads or none")
    return frozenset(names)


def search_query(
    *, since: str, until: str, page: int, page_size: int, countries: Sequence[str], keyed: bool
) -> list[tuple[str, str | int]]:
    """Query parameters of one search page; the keyed API joins ``countryIds`` with commas."""
    query: list[tuple[str, str | int]] = [("language", 1), ("domainIds", 1)]
    if keyed:
        query = [("domainIds", 1)]
        if countries:
            query.append(("countryIds", ",".join(countries)))
    else:
        query += [("countryIds", c) for c in countries]
    query += [("distributionDateFrom", since), ("distributionDateTo", until)]
    query += [("page", page), ("pageSize", page_size)]
    if not keyed:
        query += [("sortBy", "distributionDate"), ("sortDirection", "asc")]
    return query


def search_url(base: str, query: Sequence[tuple[str, str | int]], *, keyed: bool) -> str:
    path = KEYED_SEARCH_PATH if keyed else "azureSearch/getAll"
    return urljoin(base, path) + "?" + urlencode(query)


def related_url(base_url: str, symbol: str) -> str:
    query = urlencode({"documentSymbol": symbol, "includeOriginal": "true"})
    return urljoin(base_url, "notifications/getRelatedNotifications") + "?" + query


def downloads_url(base_url: str, notification_id: str) -> str:
    query = urlencode({"notificationId": notification_id})
    return urljoin(base_url, "azureSearch/getDownloadLinks") + "?" + query


def base_symbol(record: Mapping[str, Any]) -> str | None:
    """The base symbol when the record needs its relations (suffix or joint), else None."""
    symbol = record.get("symbol")
    if not isinstance(symbol, str):
        return None
    try:
        parsed = parse_symbol(symbol)
    except SymbolError:
        return None
    return parsed.base.canonical if parsed.suffixes or record.get("joint_symbols") else None


def needs_downloads(item: Mapping[str, Any]) -> bool:
    """True when the item links to no file at all (and has an id to ask with)."""
    fields = ("notifiedDocumentLink", "linkToNotification", "dolLink")
    texts = [item.get(key) for key in fields]
    has_file = any(isinstance(t, str) and t.strip() for t in texts)
    return not has_file and item.get("id") is not None


def detail_items(body: bytes, endpoint: str) -> list[dict[str, Any]]:
    """The item objects of a detail response (``{"items": [...]}`` or a bare list)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        start = body[:60].decode("utf-8", "replace").strip()
        raise CrawlError(f"ePing {endpoint} response is not JSON; it starts with {start!r}") from e
    items = data.get("items") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise CrawlError(f"ePing schema drift: {endpoint} gave no 'items' list")
    check_objects(items, f"{endpoint} items")
    return items


def related_symbols(body: bytes, own: Sequence[str]) -> list[str]:
    """Symbols of a getRelatedNotifications response, less ``own``; drift raises CrawlError."""
    found: list[str] = []
    for index, item in enumerate(detail_items(body, "getRelatedNotifications")):
        text = item.get("documentSymbol")
        if not isinstance(text, str):
            raise CrawlError(f"ePing schema drift: related item {index} has no documentSymbol")
        try:
            found.extend(split_symbols(text))
        except RecordError as e:
            raise CrawlError(f"ePing related item {index}: {e}") from e
    mine = set(own)
    return [s for s in dict.fromkeys(found) if s not in mine]


def download_links(body: bytes) -> list[dict[str, str]]:
    """``[{"name", "url"}]`` of a getDownloadLinks response; only http(s) URLs are kept."""
    links: list[dict[str, str]] = []
    for index, item in enumerate(detail_items(body, "getDownloadLinks")):
        url, name = item.get("urlLink"), item.get("displayName")
        if not isinstance(url, str) or not isinstance(name, str | None):
            raise CrawlError(f"ePing schema drift: download item {index} has no text urlLink")
        for kept in http_links(url.strip()):
            links.append({"name": one_line(name) or kept.rsplit("/", 1)[-1], "url": kept})
    return links


def spider_args(config: Config, *, details: str = "related,downloads") -> dict[str, str]:
    """Spider arguments implied by the configuration. The key itself is never an argument
    (argv is visible in ``ps``): the spider reads it from :data:`API_KEY_ENV`."""
    args = {"page_size": str(config.eping.page_size), "details": details}
    if config.eping.api_key:
        args.update(api="keyed", api_url=config.eping.api_url)
    return args
