"""Prepare hostile source text and pick out what every document parser needs.

Repairs what real copies carry (cp1252 mojibake, full-width punctuation, invisible characters) and
adapts the shared readers to the parsers: symbols (:mod:`tbt_alert.text.symbols`), HS/ICS codes
(:mod:`tbt_alert.text.codes`), http(s) links. Dates are read by :mod:`tbt_alert.text.dates`.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from urllib.parse import urlsplit

import lxml.etree
import lxml.html

from tbt_alert.errors import SymbolError
from tbt_alert.text.codes import hs_in_text, ics_in_text
from tbt_alert.text.dates import parse_date
from tbt_alert.text.symbols import find_symbols, parse_symbol

_MOJIBAKE = re.compile(
    r"[\u00c2-\u00f4][\u0080-\u00bf\u0152-\u0178\u0192\u02c6\u02dc\u2013-\u2122]{1,3}"
)
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_C1 = re.compile(r"[\x80-\x9f]")  # C1 controls: cp1252 bytes mis-read as latin-1 (&#147; in feeds)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u3000]+")

_HEADER_DATE = re.compile(r"\b\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}\b")
_TYPES = {
    "regular": "Regular notification",
    "addendum": "Addendum",
    "revision": "Revision",
    "corrigendum": "Corrigendum",
    "supplement": "Supplement",
}
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "tr",
        "td",
        "th",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "dt",
        "dd",
        "ul",
        "ol",
        "table",
        "blockquote",
        "pre",
    }
)
_SKIP_TAGS = frozenset(
    {"script", "style", "noscript", "template", "head", "title", "iframe", "object"}
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL = re.compile(r"https?://[^\s<>\"'|]{1,2000}", re.I)
_URL_TRAILING = ".,;:)]}"


def clean_text(text: str) -> str:
    """Repair cp1252 mojibake and C1 controls, fold full-width forms, drop invisible characters, unify newlines."""
    text = _MOJIBAKE.sub(_unmangle, text)
    text = _C1.sub(lambda m: bytes([ord(m.group(0))]).decode("cp1252", errors="ignore"), text)
    text = unicodedata.normalize("NFKC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _INVISIBLE.sub("", text)
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))


def _unmangle(m: re.Match[str]) -> str:
    """UTF-8 bytes that were decoded as cp1252 (or latin-1 for its 5 holes): decode them again."""
    try:
        raw = b"".join(
            c.encode("cp1252") if ord(c) > 0xFF else c.encode("latin-1") for c in m.group(0)
        )
        return raw.decode("utf-8")
    except UnicodeError:
        return m.group(0)


def one_line(text: str | None) -> str | None:
    """The one-line text cleaner: control characters and runs of whitespace become single
    spaces; None for empty text."""
    if text is None:
        return None
    return " ".join(_CONTROL.sub(" ", text).split()) or None


def symbols_in(text: str) -> list[str]:
    """Canonical spelling of every TBT notification symbol in the text (see tbt_alert.text.symbols)."""
    return [s.canonical for s in find_symbols(text)]


def notification_type(symbol: str | None) -> str | None:
    """ePing's notification type for a symbol (the last suffix decides); None when unreadable."""
    try:
        return _TYPES[parse_symbol(symbol).kind] if symbol else None
    except SymbolError:
        return None


def find_codes(text: str) -> tuple[list[str], list[str]]:
    """(HS codes as written, ICS codes) after their markers, read by tbt_alert.text.codes."""
    hs = [code.raw for code in hs_in_text(text)]
    return list(dict.fromkeys(c for c in hs if c)), list(dict.fromkeys(ics_in_text(text)))


def http_url(value: object) -> str | None:
    """The one link filter: ``value`` (stripped) when it is an absolute http(s) URL with a host
    and no whitespace or control characters in it, else None. Scraped links are hostile: every
    link taken from a source, written into a message or fetched passes through it."""
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def find_urls(text: str) -> list[str]:
    """http(s) links in the text, trailing punctuation removed, first occurrence order."""
    return list(dict.fromkeys(u.rstrip(_URL_TRAILING) for u in _URL.findall(text)))


def header_date(header: str) -> date | None:
    """The first date written WTO style ("9 January 2017") in a document header.

    Other styles are skipped on purpose: a reprint's own date ("JULY 14,1997") is not the
    distribution date.
    """
    for m in _HEADER_DATE.finditer(header):
        found = parse_date(m.group(0))
        if found:
            return found
    return None


def html_lines(root: lxml.html.HtmlElement, *, drop: frozenset[str] = frozenset()) -> str:
    """The one HTML-to-text: visible text under an lxml element, a line break around each block
    element. Script, style, head, embedded objects and the ``drop`` tags (a mail's quoted
    ``blockquote``) are dropped with their content; comments and processing instructions too.
    """
    parts: list[str] = []
    _collect(root, parts, _SKIP_TAGS | drop)
    return "".join(parts)


def fragment_lines(html: str, *, drop: frozenset[str] = frozenset()) -> str:
    """``html_lines`` of an HTML fragment or page (a feed summary, an ePing field, a mail);
    control characters become spaces first; unparsable input is returned as is."""
    if not html.strip():
        return ""
    html = _CONTROL.sub(" ", html)
    try:
        return html_lines(lxml.html.fragment_fromstring(html, create_parent="div"), drop=drop)
    except (lxml.etree.ParserError, ValueError):
        return html


def html_to_text(html: str | None) -> str | None:
    """The visible text of an HTML fragment on one line; None when there is none."""
    return one_line(fragment_lines(html)) if html else None


def _collect(element: lxml.html.HtmlElement, parts: list[str], skip: frozenset[str]) -> None:
    tag = element.tag.lower() if isinstance(element.tag, str) else ""
    if tag and tag not in skip:
        newline = "\n" if tag in _BLOCK_TAGS else ""
        parts.append(newline + (element.text or ""))
        for child in element:
            _collect(child, parts, skip)
        parts.append(newline)
    parts.append(element.tail or "")
