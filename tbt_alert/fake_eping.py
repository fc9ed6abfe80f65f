"""An ePing-shaped HTTP server on loopback, for tests and for ``tbt-alert demo``.

:class:`FakeEping` serves ``/api/v1/azureSearch/getAll`` (filtering by ``domainIds`` and
``distributionDateFrom/To``, sorting by distribution date, paging with ``page``/``pageSize``,
``totalCount``) and an allow-all ``/robots.txt`` from a list of ePing items, and records the
requests it received. :func:`items_from_records` rebuilds ePing items from canonical records (the
fields of ``sources.md`` section 1), deterministically.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tbt_alert.record import CanonicalRecord

API_PATH = "/api/v1/azureSearch/getAll"
ROBOTS = b"User-agent: *\nDisallow:\n"
AREAS = {"1": "TBT", "2": "SPS"}
MAX_PAGE_SIZE = 100
# A record whose distribution date cannot be read is served on this day: the TBT Agreement's entry
# into force, before every real notification, so such records appear only in crawls that ask for
# the whole history and never pose as recent ones. The item keeps the date as read (see below).
UNDATED = date(1995, 1, 1)
# Objectives as ePing joins them ("; ") or as monitors copy them ("... (TBT), ... (TBT)").
_OBJECTIVE_SEPARATOR = re.compile(r";\s+|(?<=\(TBT\)),\s*")


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    path: str
    query: dict[str, list[str]]
    user_agent: str | None


class FakeEping:
    """``with FakeEping(items) as server: crawl(server.base_url)``; a port is picked freely."""

    def __init__(self, items: Sequence[Mapping[str, Any]], host: str = "127.0.0.1") -> None:
        self.items = [dict(item) for item in items]
        self._received: list[ReceivedRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, 0), _handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeEping:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/v1/"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._received)

    def record_request(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._received.append(request)

    def search(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The getAll response body for ``query``; ValueError on bad parameters."""
        page = _int_param(query, "page", 1, minimum=1)
        size = _int_param(query, "pageSize", 20, minimum=1)
        if size > MAX_PAGE_SIZE:
            raise ValueError(f"pageSize must be at most {MAX_PAGE_SIZE}")
        for key in ("distributionDateFrom", "distributionDateTo"):
            if query.get(key):
                date.fromisoformat(_first(query, key, ""))  # ValueError: 400
        found = [item for item in self.items if _matches(item, query)]
        descending = _first(query, "sortDirection", "asc").lower() == "desc"
        found.sort(key=lambda i: (str(i.get("distributionDate")), i.get("id") or 0))
        if descending:
            found.reverse()
        start = (page - 1) * size
        page_items = found[start : start + size]
        return {"items": page_items, "totalCount": len(found), "isCountExceeded": False}


def _first(query: Mapping[str, list[str]], key: str, default: str) -> str:
    values = query.get(key)
    return values[0] if values else default


def _int_param(query: Mapping[str, list[str]], key: str, default: int, minimum: int) -> int:
    value = int(_first(query, key, str(default)))
    if value < minimum:
        raise ValueError(f"{key} must be at least {minimum}")
    return value


def _matches(item: Mapping[str, Any], query: Mapping[str, list[str]]) -> bool:
    areas = {AREAS.get(d, "?") for d in query.get("domainIds", [])}
    if areas and item.get("area") not in areas:
        return False
    day = str(item.get("distributionDate") or "")[:10]
    since = _first(query, "distributionDateFrom", "")
    until = _first(query, "distributionDateTo", "")
    return (not since or day >= since) and (not until or day <= until)


def _handler_class(server: FakeEping) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            server.record_request(ReceivedRequest(url.path, query, self.headers.get("User-Agent")))
            if url.path == "/robots.txt":
                self.reply(HTTPStatus.OK, ROBOTS, "text/plain")
            elif url.path == API_PATH:
                self.reply_search(query)
            else:
                self.reply_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

        def reply_search(self, query: dict[str, list[str]]) -> None:
            try:
                body = server.search(query)
            except ValueError as e:
                self.reply_json(HTTPStatus.BAD_REQUEST, {"error": str(e)})
                return
            self.reply_json(HTTPStatus.OK, body)

        def reply_json(self, status: HTTPStatus, data: Any) -> None:
            body = json.dumps(data, ensure_ascii=False).encode("utf-8")
            self.reply(status, body, "application/json; charset=utf-8")

        def reply(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the requests are recorded on the server object instead."""

    return Handler


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
        "notificationType": record.notification_type or _notification_type(record.symbol),
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


def _notification_type(symbol: str) -> str:
    for marker, kind in (("/Add.", "Addendum"), ("/Corr.", "Corrigendum"), ("/Rev.", "Revision")):
        if marker in symbol:
            return kind
    return "Regular notification"


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
