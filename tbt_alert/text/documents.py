"""Plain text of a fetched WTO document: Word (.docx), PDF, HTML or plain text.

The format is told by the body's magic bytes first, the Content-Type second and the URL's file
extension last (Documents Online carries the file name in the query string:
``directdoc.aspx?filename=q:/G/TBTN11/MYS27R1.pdf&Open=True``). Paragraphs, table cells and PDF
text lines become lines; the parsers in :mod:`tbt_alert.sources.wtodoc` read the boxes from them.

Bodies come from outside and are treated as hostile: a .docx is a ZIP, so member count, member
names and uncompressed sizes are checked before anything is inflated, and its XML is read with
``defusedxml`` (no DTD, no entities); PDF pages are capped and pypdf's own limits bound its
decompression. Anything unreadable, and the old binary Word format (.doc), raises
:class:`CrawlError` with a message that names the URL.
"""

from __future__ import annotations

import io
import logging
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import lxml.etree
import lxml.html
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse
from pypdf import PdfReader
from w3lib.encoding import html_to_unicode

from tbt_alert.errors import CrawlError
from tbt_alert.text import scan as textscan

Format = Literal["docx", "pdf", "html", "text", "doc", "rtf"]

MAX_BODY_BYTES = 32 * 1024 * 1024
MAX_ZIP_MEMBERS = 500
MAX_ZIP_UNCOMPRESSED = 64 * 1024 * 1024  # all members together, as declared
MAX_DOCUMENT_XML = 16 * 1024 * 1024  # word/document.xml itself
MAX_PDF_PAGES = 40  # a notification form is 1-4 pages; the rest of a long file is not read
MAX_TEXT_CHARS = 2_000_000

DOCUMENT_XML = "word/document.xml"
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARAGRAPH = _W + "p"
_BREAKS = {_W + "br", _W + "cr"}

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(
    rb"\s*(?:<\?xml[^>]{0,200}>\s*)?<(?:!doctype\s+html|html|head|body)\b", re.I
)
_CONTENT_TYPES: dict[str, Format] = {
    "application/pdf": "pdf",
    "application/x-pdf": "pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/msword": "doc",
    "application/rtf": "rtf",
    "text/rtf": "rtf",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
}
_EXTENSIONS: dict[str, Format] = {
    "pdf": "pdf",
    "docx": "docx",
    "doc": "doc",
    "rtf": "rtf",
    "htm": "html",
    "html": "html",
    "asp": "html",
    "aspx": "html",
    "txt": "text",
}
_EXTENSION = re.compile(r"\.([a-z]{3,4})(?=$|[?&#;])", re.I)
_BLANK_RUNS = re.compile(r"\n{3,}")


class _PypdfAsWarnings(logging.Handler):
    """pypdf logs malformed input at ERROR, from loggers created on the fly under ``pypdf``. Here
    that input becomes a CrawlError we raise, and a logged ERROR would fail the whole spider process
    (:mod:`tbt_alert.crawl.spider_main`): so pypdf's records stop at the ``pypdf`` logger and are passed
    on from this module's logger at WARNING at most."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            _LOG.log(min(record.levelno, logging.WARNING), "pypdf: %s", record.getMessage())
        except Exception:
            self.handleError(record)


_LOG = logging.getLogger(__name__)
_PYPDF_LOG = logging.getLogger("pypdf")
_PYPDF_LOG.propagate = False
_PYPDF_LOG.addHandler(_PypdfAsWarnings())


def extract_text(body: bytes, content_type: str | None, url: str) -> str:
    """The text of a document, one paragraph, table cell or PDF line per line.

    CrawlError when the body is empty, too big, of an unsupported format (old .doc, RTF) or
    unreadable.
    """
    if not body.strip():
        raise CrawlError(f"{url}: the document is empty")
    if len(body) > MAX_BODY_BYTES:
        raise CrawlError(f"{url}: the document is larger than {MAX_BODY_BYTES} bytes")
    kind = detect_format(body, content_type, url)
    text = _READERS[kind](body, content_type, url)
    return _tidy(text, url)


def detect_format(body: bytes, content_type: str | None, url: str) -> Format:
    """Magic bytes first, then Content-Type, then the URL's extension; CrawlError when none tells."""
    kind = _by_magic(body) or _by_content_type(content_type) or _by_extension(url)
    if kind is None:
        raise CrawlError(
            f"{url}: cannot tell the document format (Content-Type {content_type!r}, "
            f"first bytes {body[:16]!r})"
        )
    return kind


def _by_magic(body: bytes) -> Format | None:
    if b"%PDF-" in body[:1024]:
        return "pdf"
    if body.startswith(b"PK\x03\x04"):
        return "docx"
    if body.startswith(_OLE):
        return "doc"
    if body.lstrip().startswith(b"{\\rtf"):
        return "rtf"
    if _HTML_START.match(body.removeprefix(b"\xef\xbb\xbf")[:4096]):
        return "html"
    return None


def _by_content_type(content_type: str | None) -> Format | None:
    mime = (content_type or "").split(";")[0].strip().lower()
    return _CONTENT_TYPES.get(mime)


def _by_extension(url: str) -> Format | None:
    parts = urlsplit(url)
    found = _EXTENSION.findall(f"{parts.path}?{parts.query}")
    return _EXTENSIONS.get(found[-1].lower()) if found else None


def _unsupported(name: str) -> Callable[[bytes, str | None, str], str]:
    def refuse(body: bytes, content_type: str | None, url: str) -> str:
        raise CrawlError(
            f"{url}: {name} documents are not supported; ask for the .docx, PDF or HTML version "
            f"(ePing's linkToNotification / dolLink)"
        )

    return refuse


# --- Word (.docx) ------------------------------------------------------------------------------


def _docx_text(body: bytes, content_type: str | None, url: str) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            xml = _document_xml(archive, url)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        struct.error,
        NotImplementedError,
        EOFError,
        OSError,
        RuntimeError,
        ValueError,
    ) as e:  # RuntimeError: an encrypted member
        raise CrawlError(f"{url}: not a readable .docx (ZIP) file: {e}") from e
    return _wordml_text(xml, url)


def _document_xml(archive: zipfile.ZipFile, url: str) -> bytes:
    """``word/document.xml``, after checking every member's name and declared size."""
    members = archive.infolist()
    if len(members) > MAX_ZIP_MEMBERS:
        raise CrawlError(f"{url}: .docx has {len(members)} members (limit {MAX_ZIP_MEMBERS})")
    total = 0
    for member in members:
        _check_member_name(member.filename, url)
        total += member.file_size
    if total > MAX_ZIP_UNCOMPRESSED:
        raise CrawlError(
            f"{url}: .docx would inflate to {total} bytes (limit {MAX_ZIP_UNCOMPRESSED})"
        )
    try:
        info = archive.getinfo(DOCUMENT_XML)
    except KeyError as e:
        raise CrawlError(f"{url}: ZIP file without {DOCUMENT_XML}: not a Word document") from e
    if info.file_size > MAX_DOCUMENT_XML:
        raise CrawlError(
            f"{url}: {DOCUMENT_XML} is {info.file_size} bytes (limit {MAX_DOCUMENT_XML})"
        )
    with archive.open(info) as stream:  # reads stop at the declared size; the CRC is checked
        return stream.read(MAX_DOCUMENT_XML + 1)


def _check_member_name(name: str, url: str) -> None:
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name)
        or ".." in parts
        or "\x00" in name
    ):
        raise CrawlError(
            f"{url}: .docx member name {name[:100]!r} is absolute or leaves the archive"
        )


def _wordml_text(xml: bytes, url: str) -> str:
    """Text of WordprocessingML: ``w:t`` runs, tabs and breaks; a line per paragraph (and so per
    table cell, whose text is in paragraphs)."""
    parts: list[str] = []
    size = 0
    try:
        for _, element in iterparse(io.BytesIO(xml), events=("end",), forbid_dtd=True):
            piece = _piece(element)
            if piece:
                parts.append(piece)
                size += len(piece)
            if size > MAX_TEXT_CHARS:
                raise CrawlError(f"{url}: .docx text is longer than {MAX_TEXT_CHARS} characters")
            if element.tag == _PARAGRAPH:
                element.clear()
    except (ParseError, DefusedXmlException) as e:
        raise CrawlError(f"{url}: {DOCUMENT_XML} is not acceptable XML: {e}") from e
    return "".join(parts)


def _piece(element: Element) -> str:
    tag = element.tag
    if tag == _W + "t":
        return element.text or ""
    if tag == _W + "tab":
        return "\t"
    if tag in _BREAKS or tag == _PARAGRAPH:
        return "\n"
    return ""


# --- PDF ---------------------------------------------------------------------------------------


def _pdf_text(body: bytes, content_type: str | None, url: str) -> str:
    try:
        reader = PdfReader(io.BytesIO(body), strict=False)
        _unlock(reader, url)
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except CrawlError:
        raise
    except Exception as e:  # pypdf on hostile input raises many types; none may escape
        raise CrawlError(f"{url}: unreadable PDF: {type(e).__name__}: {e}") from e
    text = "\n".join(pages)
    if not text.strip():
        raise CrawlError(f"{url}: the PDF has no text layer (a scan?)")
    return text


def _unlock(reader: PdfReader, url: str) -> None:
    if reader.is_encrypted and not reader.decrypt(""):
        raise CrawlError(f"{url}: the PDF is encrypted with a password")


# --- HTML and plain text -----------------------------------------------------------------------


def _html_text(body: bytes, content_type: str | None, url: str) -> str:
    _, html = html_to_unicode(content_type, body)
    try:
        root = lxml.html.document_fromstring(html.replace("\x00", ""))
    except (lxml.etree.ParserError, ValueError) as e:
        raise CrawlError(f"{url}: unreadable HTML: {e}") from e
    return textscan.html_lines(root)


def _plain_text(body: bytes, content_type: str | None, url: str) -> str:
    _, text = html_to_unicode(content_type, body)
    if "\x00" in text:
        raise CrawlError(f"{url}: binary data where plain text was announced")
    return text


def _tidy(text: str, url: str) -> str:
    lines = (line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    tidy = _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()
    if not tidy:
        raise CrawlError(f"{url}: the document has no text")
    return tidy[:MAX_TEXT_CHARS]


_READERS: dict[Format, Callable[[bytes, str | None, str], str]] = {
    "docx": _docx_text,
    "pdf": _pdf_text,
    "html": _html_text,
    "text": _plain_text,
    "doc": _unsupported("old binary Word (.doc)"),
    "rtf": _unsupported("RTF"),
}
