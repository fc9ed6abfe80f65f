"""Rebuild ePing items from canonical records, and the detail payloads :class:`FakeEping` serves.

:func:`items_from_records` rebuilds ePing getAll items from canonical records (the fields
:func:`tbt_alert.sources.eping.map_item` reads), deterministically. :func:`download_entries` and :func:`related_entry`
reconstruct the ``getDownloadLinks`` and ``getRelatedNotifications`` items of a served item.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from tbt_alert.errors import SymbolError
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.scan import notification_type
from tbt_alert.text.symbols import parse_symbol, split_joint

# A record whose distribution date cannot be read is served on this day: the TBT Agreement's entry
# into force, before every real notification, so such records appear only in crawls that ask for
# the whole history and never pose as recent ones. The item keeps the date as read (see below).
UNDATED = date(1995, 1, 1)
# Objectives as ePing joins them ("; ") or as monitors copy them ("... (TBT), ... (TBT)").
_OBJECTIVE_SEPARATOR = re.compile(r";\s+|(?<=\(TBT\)),\s*")
DOL_FILE = (
    "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename={lang}:/{name}.pdf&Open=True"
)
DOL_LANGUAGES = (("q", "English"), ("r", "French"), ("s", "Spanish"))
# Served items may carry the download links ePing would give under this key, which ePing items do
# not have and the mapper ignores (as ``_reconstruction``); otherwise they are rebuilt from the
# item's own links.
DOWNLOADS_KEY = "_downloadLinks"


def download_entries(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """getDownloadLinks items for a served item: its Documents Online files in the three WTO
    languages (from ``dolLink``, never from the symbol), the Word file and the notified texts."""
    given = item.get(DOWNLOADS_KEY)
    if isinstance(given, list):
        return [dict(entry) for entry in given]
    symbol = str(item.get("documentSymbol") or "").split(",")[0].strip()
    entries: list[dict[str, Any]] = []
    dol = item.get("dolLink")
    if isinstance(dol, str) and dol.strip():
        name = dol.strip().replace("\\", "/")
        for lang, language in DOL_LANGUAGES:
            url = DOL_FILE.format(lang=lang, name=name)
            entries.append({"displayName": f"{symbol} ({language})", "urlLink": url})
    word = item.get("linkToNotification")
    if isinstance(word, str) and word.strip():
        entries.append({"displayName": f"{symbol} (Word)", "urlLink": word.strip()})
    notified = str(item.get("notifiedDocumentLink") or "").split()
    for number, url in enumerate(notified, start=1):
        entries.append({"displayName": f"Notified document {number}", "urlLink": url})
    return entries


def related_entry(item: Mapping[str, Any]) -> dict[str, Any]:
    """A getRelatedNotifications item for a served item."""
    keys = ("id", "documentSymbol", "notificationType", "distributionDate")
    return {key: item.get(key) for key in keys}


def items_from_records(
    records: Iterable[CanonicalRecord], *, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Rebuild ePing getAll items from canonical records (see the module docstring).

    Dates that are not ``YYYY-MM-DD`` cannot be ePing datetimes: the distribution date becomes
    :data:`UNDATED` and the deadline null, and the values as read are kept in the item's
    ``_reconstruction`` object, which ePing does not have and the mapper ignores.
    ``isOpenForComments`` compares the deadline with ``as_of`` (False without it).
    """
    return [item_from_record(record, as_of=as_of) for record in records]


def item_from_record(record: CanonicalRecord, *, as_of: date | None = None) -> dict[str, Any]:
    symbols = record.joint_symbols or [record.symbol]
    if record.symbol not in symbols:
        symbols = [record.symbol, *symbols]
    distributed = _parse_day(record.distribution_date)
    deadline = _parse_day(record.comment_deadline)
    products = _products_text(record)
    item: dict[str, Any] = {
        "id": stable_id(record.symbol),
        "area": "TBT",
        "notificationType": record.notification_type
        or notification_type(record.symbol)
        or "Regular notification",
        "documentSymbol": ", ".join(symbols),
        "notifyingMember": record.member,
        "distributionDate": _iso_datetime(distributed or UNDATED),
        "commentDeadlineDate": _iso_datetime(deadline) if deadline else None,
        "title": _html(record.title),
        "titlePlain": record.title,
        "description": _html(record.description),
        "descriptionPlain": record.description,
        "productsFreeText": _html(products),
        "productsFreeTextPlain": products,
        "hsCodes": _hs_entries(record.hs_codes),
        "hsCodeText": ", ".join(record.hs_codes) or None,
        "icsCodeText": ", ".join(record.ics_codes) or None,
        "objectives": _objectives(record.objective),
        "keywords": [],
        **_links(record),
        "isOpenForComments": bool(deadline and as_of and deadline >= as_of),
    }
    reconstruction = _as_read(record, distributed, deadline)
    if reconstruction:
        item["_reconstruction"] = reconstruction
    return item


def stable_id(symbol: str) -> int:
    """A deterministic positive integer id for a symbol (ePing ids are integers)."""
    digest = hashlib.sha256(symbol.encode("utf-8")).digest()
    return 100_000 + int.from_bytes(digest[:4], "big") % 900_000


def _parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text[:10]) if text and len(text) == 10 else None
    except ValueError:
        return None


def _iso_datetime(day: date) -> str:
    return f"{day.isoformat()}T00:00:00+00:00"


def _html(text: str | None) -> str | None:
    if text is None:
        return None
    paragraphs = [p for p in text.split("\n") if p.strip()] or [text]
    return "".join(f'<p style="margin:2px">{html.escape(p)}</p>' for p in paragraphs)


def _products_text(record: CanonicalRecord) -> str | None:
    text = record.products_text
    if not record.ics_codes or (text and "ICS code" in text):
        return text
    label = f"(ICS code(s): {', '.join(record.ics_codes)})"
    return f"{text} {label}" if text else label


def _hs_entries(codes: Sequence[str]) -> list[dict[str, Any]]:
    """The structured array holds 6-digit-ish codes only, as ePing does for recent notifications."""
    entries = []
    for code in codes:
        digits = code.replace(".", "")
        if digits.isdigit() and 6 <= len(digits) <= 8:
            entries.append({"id": stable_id("HS" + code) % 100_000, "code": code, "name": code})
    return entries


def _objectives(text: str | None) -> list[dict[str, Any]]:
    names = [n.strip() for n in _OBJECTIVE_SEPARATOR.split(text or "") if n.strip()]
    return [{"id": index + 1, "name": name} for index, name in enumerate(names)]


def _links(record: CanonicalRecord) -> dict[str, Any]:
    """Known document links, else the page the record was read from (a real URL about it)."""
    links = record.document_links or ([record.source_url] if record.source_url else [])
    dol = record.extra.get("dol_link")
    return {
        "notifiedDocumentLink": "\n".join(links) or None,
        "linkToNotification": record.document_url or record.source_url,
        "dolLink": dol if isinstance(dol, str) else None,
    }


def _as_read(
    record: CanonicalRecord, distributed: date | None, deadline: date | None
) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    if distributed is None:
        kept["distributionDate"] = record.distribution_date
    if deadline is None and record.comment_deadline:
        kept["commentDeadline"] = record.comment_deadline
    return kept


def vary_items(
    pool: Sequence[Mapping[str, Any]],
    count: int,
    *,
    first: date,
    last: date,
    no_links_every: int = 50,
) -> list[dict[str, Any]]:
    """``count`` distinct items made by varying real ones (for benchmarks and backfill tests).

    Item ``i`` copies ``pool[i % len(pool)]``, is distributed on a day spread evenly over
    ``first``..``last`` (in ``i`` order), and gets a new id and symbol: 1995-2000 items take the old
    ``G/TBT/Notif.yy.n`` form with a serial per year; later items keep the suffixes (Add./Rev./...)
    and a number shifted per round through the pool, and single-member items rotate through the
    pool's members, so addenda stay related to their originals. Every ``no_links_every``-th item
    links to no file (so the spider asks getDownloadLinks, served from ``_downloadLinks``).
    """
    pool = [item for item in pool if _readable(item)]
    members = _members(pool)
    used: set[str] = set()
    serials: dict[int, int] = {}
    span = (last - first).days
    out: list[dict[str, Any]] = []
    for i in range(count):
        source = pool[i % len(pool)]
        day = first + timedelta(days=i * span // max(count - 1, 1))
        item = {k: v for k, v in source.items() if k != "_reconstruction"}
        symbols, member = _varied_symbols(source, i // len(pool), members, day, serials, used)
        item.update(
            id=1_000_000 + i,
            documentSymbol=", ".join(symbols),
            distributionDate=_iso_datetime(day),
            isOpenForComments=False,
        )
        if member is not None:
            item["notifyingMember"] = member
        if source.get("commentDeadlineDate"):
            item["commentDeadlineDate"] = _iso_datetime(day + timedelta(days=60))
        if no_links_every and i % no_links_every == 0:
            item.update(notifiedDocumentLink=None, linkToNotification=None, dolLink=None)
            url = f"https://members.wto.org/crnattachments/{day.year}/TBT/{i:06d}_00_e.pdf"
            item[DOWNLOADS_KEY] = [{"displayName": f"{symbols[0]} (English)", "urlLink": url}]
        out.append(item)
    return out


def _readable(item: Mapping[str, Any]) -> bool:
    try:
        return bool(split_joint(str(item.get("documentSymbol") or "")))
    except SymbolError:
        return False


def _members(pool: Sequence[Mapping[str, Any]]) -> list[tuple[str, str]]:
    found: dict[str, str] = {}
    for item in pool:
        text = str(item.get("documentSymbol") or "")
        if "," in text:
            continue
        symbol = parse_symbol(text)
        if symbol.member and isinstance(item.get("notifyingMember"), str):
            found.setdefault(symbol.member, item["notifyingMember"])
    return sorted(found.items())


def _varied_symbols(
    source: Mapping[str, Any],
    round_: int,
    members: list[tuple[str, str]],
    day: date,
    serials: dict[int, int],
    used: set[str],
) -> tuple[list[str], str | None]:
    """New symbols for one item, and the new member name when it changed."""
    symbols = split_joint(str(source.get("documentSymbol") or ""))
    suffix = "".join(f"/{name}.{n}" for name, n in symbols[0].suffixes)
    if day.year < 2001:
        serials[day.year] = serials.get(day.year, 0) + 1
        yy, serial = day.year % 100, serials[day.year]
        head = f"G/TBT/Notif.{yy:02d}.{serial}" if yy else f"G/TBT/Notif.00/{serial:03d}"
        return [_claim(parse_symbol(head + suffix).canonical, used)], None
    member_name = None
    codes = [code for code, _ in members]
    out = []
    for symbol in symbols:
        code = symbol.member or codes[0]  # an old-form symbol names no member
        if len(symbols) == 1 and code in codes:
            code, member_name = members[(codes.index(code) + round_) % len(members)]
        serial = int(re.sub(r"\D", "", symbol.number)[-4:])  # old form "96.15": 9615
        number = (serial + 3000 * (round_ // max(len(members), 1))) % 90_000 + 1
        text = f"G/TBT/N/{code}/{number}" + "".join(f"/{n}.{k}" for n, k in symbol.suffixes)
        out.append(_claim(parse_symbol(text).canonical, used))
    return out, member_name


def _claim(symbol: str, used: set[str]) -> str:
    """``symbol``, or the same with its number moved on until unused; recorded as used."""
    while symbol in used:
        head, number, *rest = _split_number(symbol)
        symbol = head + str((int(number) + 40_000) % 99_999 + 1) + "".join(rest)
    used.add(symbol)
    return symbol


def _split_number(symbol: str) -> list[str]:
    match = re.match(r"(G/TBT/(?:N/[A-Z]+/|Notif\.\d\d[./]))(\d+)(.*)", symbol)
    if match is None:
        raise ValueError(f"cannot vary {symbol!r}")
    return [match.group(1), match.group(2), match.group(3)]
