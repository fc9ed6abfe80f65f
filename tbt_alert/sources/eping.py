"""ePing API items -> canonical records (pure functions, no I/O).

``page_items`` decodes one ``azureSearch/getAll`` response body and checks its shape, so that schema
drift (an HTML maintenance page served with status 200, renamed keys) fails loudly instead of reading
as "0 items". ``map_item`` turns one item into a :class:`CanonicalRecord`. The fields read are
those named in :func:`map_item` and :func:`_extra`. Scraped text is hostile: HTML is parsed with lxml, script/style
content is dropped and whitespace collapsed; only http(s) links are kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tbt_alert.errors import CrawlError, RecordError, SymbolError
from tbt_alert.record import CanonicalRecord, parse_record
from tbt_alert.sources.canonical import with_events
from tbt_alert.text import scan as textscan
from tbt_alert.text.codes import hs_listed, ics_listed, labelled_codes
from tbt_alert.text.symbols import split_joint

SOURCE = "eping"
_SPACE = re.compile(r"\s+")
_CJK = re.compile(r"[\u3400-\u9fff]")
_LINK_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True, slots=True)
class Page:
    """One decoded search response (getAll, or the keyed API's search)."""

    items: list[dict[str, Any]]
    total: int
    count_exceeded: bool


def page_items(body: bytes) -> tuple[list[dict[str, Any]], int]:
    """Decode a getAll response body into (items, totalCount); CrawlError on anything else."""
    page = read_page(body)
    return page.items, page.total


def read_page(body: bytes) -> Page:
    """Decode a search response body and check its shape; CrawlError on drift.

    ``isCountExceeded`` is optional (the keyed API may not send it) but must be a bool when present.
    """
    data = decode_object(body)
    items, total = data.get("items"), data.get("totalCount")
    if not isinstance(items, list):
        keys = ", ".join(sorted(data)[:10])
        raise CrawlError(f"ePing schema drift: no 'items' list in the response (keys: {keys})")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise CrawlError(f"ePing schema drift: 'totalCount' is {total!r}, not a count")
    exceeded = data.get("isCountExceeded", False)
    if not isinstance(exceeded, bool):
        raise CrawlError(f"ePing schema drift: 'isCountExceeded' is {exceeded!r}, not a boolean")
    check_objects(items, "items")
    return Page(items, total, exceeded)


def decode_object(body: bytes) -> dict[str, Any]:
    """A response body that must be a JSON object; CrawlError naming what it is instead."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        start = body[:60].decode("utf-8", "replace").strip()
        raise CrawlError(f"ePing response is not JSON ({e}); it starts with {start!r}") from e
    if not isinstance(data, dict):
        raise CrawlError(
            f"ePing schema drift: response is a JSON {type(data).__name__}, not an object"
        )
    return data


def check_objects(values: list[Any], name: str) -> None:
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            kind = type(value).__name__
            raise CrawlError(f"ePing schema drift: {name}[{index}] is a {kind}, not an object")


def map_item(item: dict[str, Any]) -> CanonicalRecord:
    """Map one ePing getAll item to a canonical record; RecordError names what is missing.
    An addendum's events are read from its description (ePing gives them no typed field)."""
    if not isinstance(item, dict):
        raise RecordError(f"an ePing item must be an object, got {type(item).__name__}")
    symbols = split_symbols(_as_text(item, "documentSymbol"))
    products = _plain(item, "productsFreeText")
    links = http_links(_as_text(item, "notifiedDocumentLink"))
    document_url = next(iter(http_links(_as_text(item, "linkToNotification"))), None)
    data: dict[str, Any] = {
        "symbol": symbols[0] if symbols else None,
        "joint_symbols": symbols if len(symbols) > 1 else [],
        "member": textscan.one_line(_as_text(item, "notifyingMember")),
        "title": _plain(item, "title"),
        "description": _plain(item, "description"),
        "products_text": products,
        "distribution_date": iso_date(item.get("distributionDate")),
        "comment_deadline": iso_date(item.get("commentDeadlineDate")),
        "hs_codes": hs_codes(item.get("hsCodes"), _as_text(item, "hsCodeText"), products),
        "ics_codes": ics_codes(_as_text(item, "icsCodeText"), products),
        "objective": "; ".join(_names(item.get("objectives"))) or None,
        "notification_type": textscan.one_line(_as_text(item, "notificationType")),
        "proposed_adoption": _date_or_text(item, "proposedAdoptionDate"),
        "proposed_entry_into_force": _date_or_text(item, "proposedEntryIntoForceDate"),
        "document_links": links,
        "document_url": document_url,
        "source_url": document_url,
        "source": SOURCE,
        "source_id": None if item.get("id") is None else str(item["id"]),
        **_extra(item),
    }
    data["language"] = guess_language(data["title"], data["description"])
    return with_events(parse_record(data))


def _extra(item: dict[str, Any]) -> dict[str, Any]:
    """Fields without a canonical slot, kept under ``extra``."""
    extra: dict[str, Any] = {
        "area": textscan.one_line(_as_text(item, "area")),
        "dol_link": textscan.one_line(_as_text(item, "dolLink")),
        "is_open_for_comments": item.get("isOpenForComments")
        if isinstance(item.get("isOpenForComments"), bool)
        else None,
        "keywords": _names(item.get("keywords")),
        "relevant_documents": textscan.one_line(_as_text(item, "relevantDocumentTitle")),
    }
    return extra


def _as_text(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise RecordError(f"ePing field {key!r} must be text, got {type(value).__name__}")


def _plain(item: dict[str, Any], key: str) -> str | None:
    """Prefer ``<key>Plain``; else strip the HTML of ``<key>``."""
    plain = textscan.one_line(_as_text(item, key + "Plain"))
    return plain if plain else textscan.html_to_text(_as_text(item, key))


def split_symbols(text: str | None) -> list[str]:
    """``" G/TBT/N/ARE/703, G/TBT/N/BHR/780"`` -> both symbols, normalised, duplicates dropped."""
    if not text or not text.strip(" ,;\n\t"):
        return []
    try:
        return [str(symbol) for symbol in split_joint(text)]
    except SymbolError as e:
        raise RecordError(f"ePing documentSymbol: {e}") from e


def iso_date(value: Any) -> str | None:
    """``"2026-07-02T00:00:00+00:00"`` -> ``"2026-07-02"`` (the date as written); other text kept."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise RecordError(f"an ePing date must be text, got {type(value).__name__}")
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        return textscan.one_line(text)


def _date_or_text(item: dict[str, Any], key: str) -> str | None:
    return iso_date(item.get(key)) or textscan.one_line(_as_text(item, key + "Text"))


def hs_codes(structured: Any, text: str | None, products: str | None = None) -> list[str]:
    """Codes of the ``hsCodes`` array, those leading each segment of ``hsCodeText``, and those in
    "(HS code(s): 081340)" of the products text."""
    codes: list[str] = []
    if isinstance(structured, list):
        for entry in structured:
            code = entry.get("code") if isinstance(entry, dict) else None
            if isinstance(code, str | int) and not isinstance(code, bool):
                codes.append(str(code).strip())
    codes.extend(hs_listed(text))
    codes.extend(hs_listed(" ; ".join(labelled_codes(products or "", "HS"))))
    return _unique(codes)


def ics_codes(text: str | None, products: str | None) -> list[str]:
    """ICS codes of ``icsCodeText`` plus those in "(ICS code(s): 43.020)" of the products text."""
    codes = ics_listed(text or "")
    for label in labelled_codes(products or "", "ICS"):
        codes.extend(ics_listed(label))
    return _unique(codes)


def http_links(text: str | None) -> list[str]:
    """Split on whitespace, commas and semicolons; keep absolute http(s) URLs only."""
    found = (textscan.http_url(token) for token in _LINK_SEPARATORS.split(text or ""))
    return _unique(url for url in found if url)


def guess_language(*texts: str | None) -> str:
    """``language=1`` asks for English; text in Chinese characters is marked ``zh``."""
    return "zh" if any(t and _CJK.search(t) for t in texts) else "en"


def _names(entries: Any) -> list[str]:
    if not isinstance(entries, list):
        return []
    names = (e.get("name") for e in entries if isinstance(e, dict))
    cleaned = (textscan.one_line(n) for n in names if isinstance(n, str))
    return [n for n in cleaned if n]


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))
