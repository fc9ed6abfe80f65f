"""An ePing-shaped HTTP server on loopback, for tests, benchmarks and for ``tbt-alert demo``.

:class:`FakeEping` serves, from a list of ePing items fixed at construction, and records the
requests it received (with the subscription key header, so tests can check what was sent):

* ``/api/v1/azureSearch/getAll``: filters by ``domainIds`` and ``distributionDateFrom/To``, sorts
  by distribution date, pages with ``page``/``pageSize``, gives ``totalCount`` and
  ``isCountExceeded``. With ``max_results``, a query matching more items is flagged
  ``isCountExceeded: true`` and only its first ``max_results`` items can be paged;
* ``/eping/notifications/search`` (the official keyed API, at :attr:`FakeEping.api_url`): the
  same search, only with the header ``Ocp-Apim-Subscription-Key`` equal to ``api_key`` (401
  otherwise; 404 when the server has no key). ``countryIds`` is accepted comma-joined and recorded
  but not filtered on (items carry member names, not ePing country ids);
* ``/api/v1/notifications/getRelatedNotifications?documentSymbol=S&includeOriginal=true``: the
  served items sharing the base symbol of S (without the original when ``includeOriginal`` is
  false), as ``{"items": [{id, documentSymbol, notificationType, distributionDate}]}``;
* ``/api/v1/azureSearch/getDownloadLinks?notificationId=N``: ``{"items": [{displayName,
  urlLink}]}`` rebuilt by :func:`tbt_alert.demo.eping_items.download_entries` (404 for an unknown
  id);
* an allow-all ``/robots.txt``.

``failing`` maps an endpoint path (e.g. :data:`RELATED_PATH`) to the HTTP status it answers with
instead, as the real detail endpoints sometimes do (404, 500).

The item reconstruction lives in :mod:`tbt_alert.demo.eping_items` (re-exported here).
"""

from __future__ import annotations

import bisect
import hmac
import json
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tbt_alert.demo.eping_items import (
    UNDATED,
    download_entries,
    item_from_record,
    items_from_records,
    related_entry,
    stable_id,
)
from tbt_alert.errors import SymbolError
from tbt_alert.text.symbols import parse_symbol, split_joint

__all__ = [
    "UNDATED",
    "FakeEping",
    "ReceivedRequest",
    "item_from_record",
    "items_from_records",
    "stable_id",
]

API_PATH = "/api/v1/azureSearch/getAll"
KEYED_PATH = "/eping/notifications/search"
RELATED_PATH = "/api/v1/notifications/getRelatedNotifications"
DOWNLOADS_PATH = "/api/v1/azureSearch/getDownloadLinks"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
ROBOTS = b"User-agent: *\nDisallow:\n"
AREAS = {"1": "TBT", "2": "SPS"}
MAX_PAGE_SIZE = 100
DENIED = {"statusCode": 401, "message": "Access denied due to missing or invalid subscription key."}


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    path: str
    query: dict[str, list[str]]
    user_agent: str | None
    subscription_key: str | None = None


class FakeEping:
    """``with FakeEping(items) as server: crawl(server.base_url)``; a port is picked freely."""

    def __init__(
        self,
        items: Sequence[Mapping[str, Any]],
        host: str = "127.0.0.1",
        *,
        api_key: str | None = None,
        max_results: int | None = None,
        failing: Mapping[str, int] | None = None,
    ) -> None:
        self.items = [dict(item) for item in items]
        # endpoint path -> HTTP status it answers with, as a real server sometimes does
        self.failing = dict(failing or {})
        self.api_key = api_key
        self.max_results = max_results
        self._ordered = sorted(self.items, key=_sort_key)
        self._days = [_day(item) for item in self._ordered]
        self._by_id = {str(item.get("id")): item for item in self.items}
        self._families: dict[str, list[dict[str, Any]]] | None = None
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
    def root_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/"

    @property
    def base_url(self) -> str:
        return self.root_url + "api/v1/"

    @property
    def api_url(self) -> str:
        """Stands for ``https://api.wto.org/eping/`` (``[eping] api_url``)."""
        return self.root_url + "eping/"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._received)

    def record_request(self, request: ReceivedRequest) -> None:
        with self._lock:
            self._received.append(request)

    def key_accepted(self, key: str | None) -> bool:
        expected = (self.api_key or "").encode()
        return bool(key) and hmac.compare_digest((key or "").encode(), expected)

    def search(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The search response body for ``query``; ValueError on bad parameters."""
        page = _int_param(query, "page", 1, minimum=1)
        size = _int_param(query, "pageSize", 20, minimum=1)
        if size > MAX_PAGE_SIZE:
            raise ValueError(f"pageSize must be at most {MAX_PAGE_SIZE}")
        since = _first(query, "distributionDateFrom", "")
        until = _first(query, "distributionDateTo", "")
        for day in (since, until):
            if day:
                date.fromisoformat(day)  # ValueError: 400
        low = bisect.bisect_left(self._days, since) if since else 0
        high = bisect.bisect_right(self._days, until) if until else len(self._days)
        areas = {AREAS.get(d, "?") for d in query.get("domainIds", [])}
        found = [i for i in self._ordered[low:high] if not areas or i.get("area") in areas]
        if _first(query, "sortDirection", "asc").lower() == "desc":
            found.reverse()
        exceeded = self.max_results is not None and len(found) > self.max_results
        pageable = found[: self.max_results] if exceeded else found
        start = (page - 1) * size
        return {
            "items": pageable[start : start + size],
            "totalCount": len(found),
            "isCountExceeded": exceeded,
        }

    def related(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """getRelatedNotifications; ValueError for a missing or unreadable symbol."""
        symbol = parse_symbol(_first(query, "documentSymbol", ""))
        with_original = _first(query, "includeOriginal", "false").lower() == "true"
        family = self._family_index().get(symbol.base.canonical, [])
        if not with_original:
            family = [i for i in family if symbol.base.canonical not in _symbols(i)]
        return {"items": [related_entry(item) for item in family]}

    def downloads(self, query: Mapping[str, list[str]]) -> dict[str, Any] | None:
        """getDownloadLinks; None for an unknown id."""
        item = self._by_id.get(_first(query, "notificationId", ""))
        return None if item is None else {"items": download_entries(item)}

    def _family_index(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            if self._families is None:
                families: dict[str, list[dict[str, Any]]] = defaultdict(list)
                for item in self._ordered:
                    for base in dict.fromkeys(_bases(item)):
                        families[base].append(item)
                self._families = dict(families)
            return self._families


def _sort_key(item: Mapping[str, Any]) -> tuple[str, int]:
    item_id = item.get("id")
    return str(item.get("distributionDate") or ""), item_id if isinstance(item_id, int) else 0


def _day(item: Mapping[str, Any]) -> str:
    return str(item.get("distributionDate") or "")[:10]


def _symbols(item: Mapping[str, Any]) -> list[str]:
    try:
        return [s.canonical for s in split_joint(str(item.get("documentSymbol") or ""))]
    except SymbolError:
        return []


def _bases(item: Mapping[str, Any]) -> list[str]:
    try:
        return [s.base.canonical for s in split_joint(str(item.get("documentSymbol") or ""))]
    except SymbolError:
        return []


def _first(query: Mapping[str, list[str]], key: str, default: str) -> str:
    values = query.get(key)
    return values[0] if values else default


def _int_param(query: Mapping[str, list[str]], key: str, default: int, minimum: int) -> int:
    value = int(_first(query, key, str(default)))
    if value < minimum:
        raise ValueError(f"{key} must be at least {minimum}")
    return value


def _handler_class(server: FakeEping) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            key = self.headers.get(KEY_HEADER)
            server.record_request(
                ReceivedRequest(url.path, query, self.headers.get("User-Agent"), key)
            )
            if url.path in server.failing:
                status = HTTPStatus(server.failing[url.path])
                self.reply_json(status, {"statusCode": status.value, "message": status.phrase})
            elif url.path == "/robots.txt":
                self.reply(HTTPStatus.OK, ROBOTS, "text/plain")
            elif url.path == API_PATH:
                self.answer(server.search, query)
            elif url.path == KEYED_PATH and server.api_key is not None:
                if server.key_accepted(key):
                    self.answer(server.search, query)
                else:
                    self.reply_json(HTTPStatus.UNAUTHORIZED, DENIED)
            elif url.path == RELATED_PATH:
                self.answer(server.related, query)
            elif url.path == DOWNLOADS_PATH:
                self.answer(server.downloads, query)
            else:
                self.reply_json(HTTPStatus.NOT_FOUND, {"error": "not found"})

        def answer(self, handler: Any, query: dict[str, list[str]]) -> None:
            try:
                body = handler(query)
            except (ValueError, SymbolError) as e:
                self.reply_json(HTTPStatus.BAD_REQUEST, {"error": str(e)})
                return
            if body is None:
                self.reply_json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            else:
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
