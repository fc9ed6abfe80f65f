"""EU TBT database crawl glue: URLs, the search listing, and notification pages -> items.

Pure functions, no I/O; the spider (:mod:`spiders.eutbt`) only adapts them. Notification pages are
read by :func:`tbt_alert.sources.eutbt.parse_eu_tbt_page`. The search listing of the real site has never
been recorded (no internet): :func:`listing_url` and :func:`parse_listing` follow a reconstructed
page (tests/fixtures/eutbt/listing_*.html) and are kept tolerant and isolated so that they can be
fixed against a live recording without touching the rest. The listing is read for links to
``.../notification/<id>`` and a "next page" link only, never by position or class name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import lxml.etree
import lxml.html

from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.record import parse_record
from tbt_alert.sources.eutbt import EuTbtNotice, parse_eu_tbt_page
from tbt_alert.text import scan as textscan

SOURCE = "eutbt"
DEFAULT_BASE_URL = "https://technical-barriers-trade.ec.europa.eu/en/"
_NOTIFICATION_PATH = re.compile(r"/notification/(\d{1,12})/?$")
_PAGE_ID = re.compile(r"^\d{1,12}$")
_NEXT_WORDS = frozenset({"next", "next page", "›", "»", ">", "next ›", "next »"})
_NO_RESULTS = re.compile(r"\bno\s+(?:results|notifications?)\b|\b0\s+results\b", re.I)
# Warnings of parse_eu_tbt_page that mean a label or heading every page carries was not found:
# the layout changed, and a record read from it would silently lack its dates or description.
_DRIFT_PREFIXES = ("label ", "heading ")


@dataclass(frozen=True, slots=True)
class Listing:
    ids: list[str]  # notification page ids, in page order, without duplicates
    next_url: str | None  # absolute URL of the next listing page


def base_url_of(url: str) -> str:
    """The base URL with a trailing slash; ValueError unless it is an absolute http(s) URL."""
    if textscan.http_url(url) is None:
        raise ValueError(f"EU TBT base_url must be an absolute http(s) URL, got {url!r}")
    return url if url.endswith("/") else url + "/"


def listing_url(base_url: str, since: date, until: date) -> str:
    """First page of the search listing for notifications that arrived ``since``..``until``.

    Reconstructed: the parameter names are a guess until a live recording exists. The spider only
    builds this first URL; later pages come from the listing's own "next" link.
    """
    query = {
        "dateOfArrivalFrom": since.isoformat(),
        "dateOfArrivalTo": until.isoformat(),
        "sort": "dateOfArrival",
        "page": 1,
    }
    return urljoin(base_url, "search") + "?" + urlencode(query)


def notification_url(base_url: str, page_id: str) -> str:
    return urljoin(base_url, f"notification/{page_id}")


def parse_ids(text: str) -> list[str]:
    """``"35249, 20733"`` -> ``["35249", "20733"]``; ValueError on anything but page numbers."""
    ids = [part.strip() for part in text.split(",") if part.strip()]
    bad = [i for i in ids if not _PAGE_ID.match(i)]
    if bad:
        raise ValueError(f"EU TBT ids must be notification page numbers, got {bad!r}")
    return list(dict.fromkeys(ids))


def parse_listing(html: str, url: str) -> Listing:
    """Notification ids and the next-page link of one listing page.

    CrawlError when the page is not HTML or lists no notification while not saying "no results"
    (a maintenance page or a changed layout must not read as an empty week).
    """
    root = _document(html, url)
    ids = list(dict.fromkeys(_notification_ids(root, url)))
    if not ids and not _NO_RESULTS.search(root.text_content() or ""):
        raise CrawlError(
            f"EU TBT listing {url}: no links to notification pages and no 'no results' text "
            "(maintenance page or layout changed?)"
        )
    return Listing(ids=ids, next_url=_next_url(root, url))


def _document(html: str, url: str) -> lxml.html.HtmlElement:
    if not html.strip():
        raise CrawlError(f"EU TBT listing {url}: empty response")
    try:
        return lxml.html.document_fromstring(html)
    except (lxml.etree.ParserError, ValueError) as e:
        raise CrawlError(f"EU TBT listing {url} is not readable HTML: {e}") from e


def _links(root: lxml.html.HtmlElement, url: str) -> Iterable[tuple[Any, str]]:
    for anchor in root.iter("a"):
        href = (anchor.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:", "mailto:")):
            yield anchor, urljoin(url, href)


def _notification_ids(root: lxml.html.HtmlElement, url: str) -> Iterable[str]:
    for _, link in _links(root, url):
        match = _NOTIFICATION_PATH.search(urlsplit(link).path)
        if match:
            yield match.group(1)


def _next_url(root: lxml.html.HtmlElement, url: str) -> str | None:
    for anchor, link in _links(root, url):
        if _is_next(anchor) and link != url:
            return link
    return None


def _is_next(anchor: Any) -> bool:
    text = " ".join((anchor.text_content() or "").split()).lower()
    parent = anchor.getparent()
    parent_class = parent.get("class") if parent is not None else None
    classes = f"{anchor.get('class') or ''} {parent_class or ''}".lower()
    return (
        "next" in (anchor.get("rel") or "").lower().split()
        or "next" in (anchor.get("aria-label") or "").lower()
        or text in _NEXT_WORDS
        or bool(re.search(r"(?:^|[\s_-])next(?:$|[\s_-])", classes))
    )


def notice_item(html: str, url: str, page_id: str) -> dict[str, Any]:
    """The item of one notification page; CrawlError (no symbol) or RecordError (drift, fields)."""
    notice = parse_eu_tbt_page(html, url)
    check_layout(notice)
    data = notice.to_record().to_dict()
    comments = data.pop("comments", [])
    data.update(source=SOURCE, source_id=page_id, eu_comments=comments)
    parse_record(data)  # the line run_spider reads back must be valid: check it here
    return data


def check_layout(notice: EuTbtNotice) -> None:
    """RecordError when a label or heading every page carries was not found (renamed labels)."""
    drift = [w for w in notice.warnings if w.startswith(_DRIFT_PREFIXES)]
    if drift:
        raise RecordError(f"EU TBT page {notice.url} layout drift: {'; '.join(drift)}")


def arrival_in_range(item: dict[str, Any], since: date, until: date) -> bool:
    """Whether the page's date of arrival is within ``since``..``until`` (True when unknown)."""
    arrival = item.get("date_of_arrival")
    if not isinstance(arrival, str):
        return True
    return since.isoformat() <= arrival <= until.isoformat()
