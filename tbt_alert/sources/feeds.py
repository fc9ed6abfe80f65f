"""Generic RSS/Atom feeds: entries carrying TBT notification symbols.

No public feed of TBT notifications is known, so feeds are read
generically from a configured list. feedparser only ever gets the bytes our own fetch produced:
given a ``str`` it may open a local path or a URL, with no timeout or size cap. Before it, a pre-check refuses entity declarations of every kind (billion laughs, quadratic
blowup, XXE with ``SYSTEM "file:..."`` or ``"http:..."``): real feeds do not need them
A feed that is not a feed, or is cut short, raises ``CrawlError``.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import ParseError

import defusedxml.ElementTree
import feedparser
from defusedxml import DefusedXmlException

from tbt_alert.errors import CrawlError
from tbt_alert.record import CanonicalRecord
from tbt_alert.sources.canonical import with_events
from tbt_alert.text import scan as textscan
from tbt_alert.text.members import member_by_code
from tbt_alert.text.symbols import parse_symbol

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_NUL_STARTS = {
    b"\x00<\x00?": "utf-16-be",
    b"<\x00?\x00": "utf-16-le",
    b"\x00\x00\x00<": "utf-32-be",
    b"<\x00\x00\x00": "utf-32-le",
}
_DECLARED = re.compile(r"""<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_ENTITY_DECL = re.compile(r"<!\s*ENTITY", re.I)
_SYNTAX = "<!ENTITY%&;\"'>[]"
_FEED_ROOT = re.compile(r"<\s*(?:[\w.-]+:)?(?:rss|feed|RDF)\b")
_END_TAG = re.compile(r"</\s*(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*$")
_MEMBER = re.compile(r"(?:Notifying\s+)?Member\s*:\s*([^\n;|]{2,80})", re.I)
_DEADLINE = re.compile(r"Final\s+date\s+for\s+comments\s*:\s*([^\n;|]{2,60})", re.I)
_MAX_TEXT = 20_000


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str
    title: str
    link: str | None  # http(s) only
    published: datetime | None  # aware, UTC
    summary_text: str  # HTML stripped, one line per block
    symbols: list[str] = field(default_factory=list)


def parse_feed(data: bytes, url: str) -> list[FeedEntry]:
    """Entries of an RSS or Atom document; ``url`` is where it was fetched (resolves relative links).

    Raises TypeError for anything but bytes, CrawlError for entity declarations, an unknown or
    non-ASCII-compatible declared encoding, a document that is not a feed, or one cut short.
    A well-formed feed with no entries gives [] (the crawl decides whether that is a failure).
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"parse_feed needs the fetched bytes, got {type(data).__name__}")
    data = bytes(data)
    text = _scan_text(data, url)
    if not _refuse_entities(data, text, url) and not _FEED_ROOT.search(text):
        raise CrawlError(f"{url} is not an RSS or Atom feed (no rss, feed or RDF element)")
    parsed = feedparser.parse(
        data,
        response_headers={"content-location": url, "content-type": "application/xml"},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    _check_parsed(parsed, text, url)
    return [_entry(raw) for raw in parsed.get("entries", [])]


def _scan_text(data: bytes, url: str) -> str:
    """The document as text in the encoding its parser will use, to look for declarations."""
    encoding = next((name for bom, name in _BOMS if data.startswith(bom)), None)
    encoding = encoding or _NUL_STARTS.get(data[:4])
    if encoding is None:
        declared = _DECLARED.search(data[:400].decode("latin-1"))
        encoding = declared.group(1) if declared else "utf-8"
        try:
            info = codecs.lookup(encoding)
        except LookupError as e:
            raise CrawlError(f"feed {url}: unknown encoding {encoding!r}") from e
        if _SYNTAX.encode(info.name, errors="replace") != _SYNTAX.encode("ascii"):
            raise CrawlError(f"feed {url}: encoding {encoding!r} is not ASCII-compatible")
    return data.decode(encoding, errors="replace")


def _refuse_entities(data: bytes, text: str, url: str) -> bool:
    """Raise CrawlError on entity declarations; return whether the document is well-formed."""
    if _ENTITY_DECL.search(text):
        raise CrawlError(f"feed {url}: entity declarations are refused (XML bomb or XXE)")
    try:
        defusedxml.ElementTree.fromstring(
            data, forbid_dtd=False, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as e:
        raise CrawlError(f"feed {url}: refused by the XML safety check: {e!r}") from e
    except (ParseError, ValueError):
        return False  # not well-formed: feedparser's bozo handling decides
    return True


def _check_parsed(parsed: Any, text: str, url: str) -> None:
    if parsed.get("bozo") and not parsed.get("entries"):
        raise CrawlError(
            f"feed {url} is malformed and has no entries: {parsed.get('bozo_exception')!r}"
        )
    if not parsed.get("version") and not parsed.get("entries"):
        raise CrawlError(f"{url} is not an RSS or Atom feed")
    if parsed.get("bozo") and not _END_TAG.search(text.rstrip("\x00 \t\r\n")):
        raise CrawlError(f"feed {url} is cut short: {parsed.get('bozo_exception')!r}")


def _entry(raw: Any) -> FeedEntry:
    title = _plain(raw.get("title", ""))
    summary = _plain(_summary_html(raw), keep_lines=True)
    link = textscan.http_url(raw.get("link"))
    ident = str(raw.get("id") or link or _digest(title, summary))
    return FeedEntry(
        id=ident,
        title=title,
        link=link,
        published=_published(raw),
        summary_text=summary,
        symbols=textscan.symbols_in(f"{title}\n{summary}"),
    )


def _summary_html(raw: Any) -> str:
    content = raw.get("content") or []
    values = [c.get("value", "") for c in content if isinstance(c, dict)]
    return str(raw.get("summary") or (values[0] if values else ""))


def _plain(html: str, *, keep_lines: bool = False) -> str:
    """Text of an HTML fragment: one line per block when ``keep_lines``, else a single line."""
    text = textscan.clean_text(textscan.fragment_lines(str(html)[: _MAX_TEXT * 5]))
    lines = [line for line in text.split("\n") if line]
    return ("\n" if keep_lines else " ").join(lines)[:_MAX_TEXT]


def _digest(*parts: str) -> str:
    return "sha256:" + hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


def _published(raw: Any) -> datetime | None:
    stamp = raw.get("published_parsed") or raw.get("updated_parsed")
    if stamp is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(v) for v in stamp[:6])
        return datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def entry_to_record(entry: FeedEntry) -> CanonicalRecord | None:
    """The canonical record of an entry, or None when it names no TBT notification or no member.

    Records are keyed by the normalised WTO symbol (dedup, linking Add./Rev./Corr. to the original),
    so an entry without one - a news item, a Code of Good Practice notice - cannot be stored as a
    notification; the caller counts and logs it instead. The first symbol is the entry's; the others
    are kept in ``extra["other_symbols"]`` (they may be parents or related measures, not joint ones).
    An addendum's record carries the events its summary states.
    """
    if not entry.symbols:
        return None
    symbol = parse_symbol(entry.symbols[0])
    named = _MEMBER.search(entry.summary_text)
    known = member_by_code(symbol.member) if symbol.member else None
    member = (
        textscan.one_line(named.group(1)) if named else (known.name_en if known else symbol.member)
    )
    deadline = _DEADLINE.search(entry.summary_text)
    if not member:
        return None  # an old G/TBT/Notif.. symbol without a "Member:" label: nothing to key it by
    extra: dict[str, object] = {
        "published": entry.published.isoformat() if entry.published else None,
        "other_symbols": entry.symbols[1:],
    }
    record = CanonicalRecord(
        symbol=symbol.canonical,
        member=member,
        title=entry.title or entry.summary_text[:200],
        description=entry.summary_text or None,
        comment_deadline=textscan.one_line(deadline.group(1)) if deadline else None,
        source_url=entry.link,
        notification_type=textscan.notification_type(symbol.canonical),
        source="feed",
        source_id=entry.id,
        extra={k: v for k, v in extra.items() if v},
    )
    return with_events(record)
