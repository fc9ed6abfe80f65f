"""Record a live response as a test fixture, with its provenance (``tbt-alert dev record-fixture``).

Fixtures built while offline are marked ``"reconstructed": true``; this replaces one by the real
thing when the machine is online. A bounded plain HTTP client (http(s) only, also on redirects;
timeout; size cap; an identifying User-Agent) fetches the URL once; the body goes to
``<root>/<source>/<name>`` and ``<stem>.meta.json`` beside it says where, when and what came back.
Nothing is overwritten unless asked.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.client import HTTPMessage
from pathlib import Path, PurePosixPath
from typing import IO, Any
from urllib.parse import parse_qs, unquote, urlsplit

from tbt_alert import __version__
from tbt_alert.errors import CrawlError
from tbt_alert.text.scan import http_url

USER_AGENT = (
    f"tbt-alert/{__version__} (fixture recorder; WTO TBT notification alerts for exporters)"
)
RECORDED_BY = "tbt-alert dev record-fixture"
TIMEOUT_S = 30.0
MAX_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Content-Disposition",
    "Content-Language",
    "Last-Modified",
    "ETag",
    "Date",
    "Server",
)
SCHEMES = ("http", "https")
_SOURCE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int
    headers: Mapping[str, str]
    body: bytes
    final_url: str


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path
    meta_path: Path
    meta: dict[str, Any]


Fetch = Callable[[str], Fetched]


def check_url(url: str) -> str:
    """The URL if it is http(s) with a host; ValueError otherwise."""
    found = http_url(url)
    if found is None:
        raise ValueError(f"only http(s) URLs with a host can be recorded, not {url[:200]!r}")
    return found


def default_name(url: str) -> str:
    """A file name from the URL: Documents Online's ``filename=`` or path-like query, else the path."""
    parts = urlsplit(url)
    query = unquote(parts.query)
    candidates = [*parse_qs(parts.query).get("filename", [])]
    if query and "=" not in query:
        candidates.append(query)  # imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx
    candidates.append(unquote(parts.path))
    for candidate in candidates:
        base = _UNSAFE.sub("_", PurePosixPath(candidate.replace(":", "/")).name).strip("._-")
        if base:
            return base[:120]
    return "response"


def check_name(source: str, name: str) -> None:
    if not _SOURCE.fullmatch(source):
        raise ValueError(f"SOURCE must be a fixture folder slug such as 'wtodoc', not {source!r}")
    if not _NAME.fullmatch(name) or ".." in name or name.endswith(".meta.json"):
        raise ValueError(f"--name must be a plain file name (letters, digits, . _ -), not {name!r}")


def meta_path_for(path: Path) -> Path:
    """``x.pdf`` -> ``x.meta.json``, as tests/support_http.fixture_reply reads it."""
    return path.with_name(path.name.rsplit(".", 1)[0] + ".meta.json")


def record_fixture(
    source: str,
    url: str,
    *,
    root: Path,
    now: datetime,
    name: str | None = None,
    force: bool = False,
    keep_errors: bool = False,
    fetch: Fetch | None = None,
) -> Recording:
    """Fetch ``url`` and write it under ``root/source``; ValueError for bad arguments,
    FileExistsError when the files exist (unless ``force``), CrawlError when the fetch failed."""
    url = check_url(url)
    name = name or default_name(url)
    check_name(source, name)
    path = root / source / name
    meta_path = meta_path_for(path)
    existing = [str(p) for p in (path, meta_path) if p.exists()]
    if existing and not force:
        raise FileExistsError(f"{', '.join(existing)} exists: not overwritten (use --force)")
    fetched = (fetch or fetch_url)(url)
    if not 200 <= fetched.status < 300 and not keep_errors:
        raise CrawlError(f"{url}: HTTP {fetched.status}; not recorded (--keep-errors records it)")
    meta = build_meta(url, fetched, now)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(path, fetched.body)
    _write(meta_path, (json.dumps(meta, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return Recording(path, meta_path, meta)


def build_meta(url: str, fetched: Fetched, now: datetime) -> dict[str, Any]:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    lower = {key.lower(): value for key, value in fetched.headers.items()}
    headers = {key: lower[key.lower()] for key in KEPT_HEADERS if key.lower() in lower}
    meta: dict[str, Any] = {
        "url": url,
        "fetched_at": now.astimezone(UTC).isoformat(timespec="seconds"),
        "status": fetched.status,
        "headers": headers,
        "reconstructed": False,
        "recorded_live": True,
        "recorded_by": RECORDED_BY,
        "sha256": hashlib.sha256(fetched.body).hexdigest(),
        "size": len(fetched.body),
    }
    if fetched.final_url != url:
        meta["final_url"] = fetched.final_url
    return meta


def _write(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)


# --- the HTTP client ---------------------------------------------------------------------------


class _SafeRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects only to http(s), at most MAX_REDIRECTS of them."""

    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in SCHEMES:
            raise CrawlError(f"{req.full_url}: redirect to {newurl[:200]!r} refused (not http(s))")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_url(url: str, *, timeout_s: float = TIMEOUT_S, max_bytes: int = MAX_BYTES) -> Fetched:
    """GET ``url``; an HTTP error status is a response too. CrawlError when unreachable or too big."""
    opener = urllib.request.build_opener(_SafeRedirects())
    headers = {"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "identity"}
    request = urllib.request.Request(check_url(url), headers=headers)  # noqa: S310 (http(s) checked)
    try:
        with opener.open(request, timeout=timeout_s) as response:
            return _read(response, url, max_bytes)
    except urllib.error.HTTPError as e:
        with e:
            if 300 <= e.code < 400:  # urllib refused the target (e.g. file:) or the loop
                target = e.headers.get("Location", "?")
                raise CrawlError(
                    f"{url}: redirect to {target[:200]!r} refused (not http(s))"
                ) from e
            return _read(e, url, max_bytes)
    except (urllib.error.URLError, OSError) as e:
        raise CrawlError(offline_message(url, e, timeout_s)) from e


def _read(response: Any, url: str, max_bytes: int) -> Fetched:
    headers = {key: value for key, value in response.headers.items()}
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise CrawlError(f"{url}: Content-Length {declared} is over the {max_bytes}-byte cap")
    body = bytearray()
    while chunk := response.read(CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise CrawlError(f"{url}: the body is over the {max_bytes}-byte cap; not recorded")
    return Fetched(int(response.status), headers, bytes(body), response.geturl())


def offline_message(url: str, error: Exception, timeout_s: float) -> str:
    """Say plainly when the failure looks like no network rather than a bad page."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    host = urlsplit(url).hostname
    if isinstance(reason, TimeoutError):
        return f"{url}: no answer from {host} within {timeout_s:g} s; the machine seems offline"
    if isinstance(reason, ssl.SSLError):
        return f"{url}: TLS failure with {host}: {reason}"
    if isinstance(reason, OSError):  # refused, DNS failure, network unreachable
        return (
            f"cannot reach {host} ({reason}): the machine seems offline or the host is down; "
            f"fixtures can only be recorded online"
        )
    return f"{url}: fetch failed: {reason}"
