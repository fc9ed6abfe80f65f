"""Text of WTO documents: .docx, PDF, HTML, plain text; hostile bodies raise CrawlError only."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import struct
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbt_alert.errors import CrawlError
from tbt_alert.text import documents as doctext
from tbt_alert.text.documents import detect_format, extract_text
from tests.wtodoc_fixtures_build import docx_bytes, paragraph_xml, pdf_bytes, zip_bytes

HERE = Path(__file__).parent / "fixtures" / "wtodoc"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOL_PDF = (
    "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/TBTN11/MYS27R1.pdf&Open=True"
)
DOL_WORD = "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx"
W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def fixture(name: str) -> tuple[bytes, str, str]:
    meta = json.loads((HERE / f"{name.rsplit('.', 1)[0]}.meta.json").read_text("utf-8"))
    return (HERE / name).read_bytes(), meta["headers"]["Content-Type"], meta["url"]


def word(document_xml: str | bytes, **extra: str | bytes) -> bytes:
    return zip_bytes(
        {"[Content_Types].xml": "<Types/>", "word/document.xml": document_xml, **extra}
    )


# --- each format -------------------------------------------------------------------------------


def test_docx_paragraphs_runs_and_table_cells_become_lines() -> None:
    text = extract_text(*fixture("usa532.docx"))
    lines = text.splitlines()
    assert lines[:3] == ["World Trade", "Organization", "G/TBT/N/USA/532"]
    # a bold label run and its value run are one line; the number cell is a line of its own
    assert "Member to Agreement notifying: United States" in lines
    assert lines[lines.index("Member to Agreement notifying: United States") - 1] == "1."
    assert "<w:" not in text


def test_docx_checklist_table_keeps_the_tick_and_the_reason() -> None:
    lines = extract_text(*fixture("mex178_add9.docx")).splitlines()
    ticked = lines.index("[X]")
    assert lines[ticked + 1].startswith(
        "Text of final measure available from: https://www.dof.gob.mx/"
    )


def test_docx_tabs_and_breaks() -> None:
    body = (
        f"<w:document {W}><w:body><w:p><w:r><w:t>1.</w:t><w:tab/><w:t>Notifying Member:</w:t>"
        "<w:br/><w:t>CHINA</w:t></w:r></w:p><w:p/><w:p><w:r><w:t>next</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    assert extract_text(word(body), DOCX, DOL_WORD) == "1.\tNotifying Member:\nCHINA\n\nnext"


def test_pdf_text_lines() -> None:
    text = extract_text(*fixture("kor700.pdf"))
    assert text.splitlines()[:2] == ["G/TBT/N/KOR/700", "9 January 2017"]
    assert "1. Notifying Member: REPUBLIC OF KOREA" in text


def test_pdf_pages_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = [f"line {n}" for n in range(200)]  # 60 lines a page: 4 pages
    monkeypatch.setattr(doctext, "MAX_PDF_PAGES", 2)
    text = extract_text(pdf_bytes("\n".join(lines)), "application/pdf", DOL_PDF)
    assert "line 0" in text and "line 119" in text and "line 120" not in text


def test_pdf_without_text_layer_is_refused() -> None:
    with pytest.raises(CrawlError, match="no text layer"):
        extract_text(pdf_bytes(""), "application/pdf", DOL_PDF)


def test_html_drops_script_and_style() -> None:
    text = extract_text(*fixture("eu1097.html"))
    assert "Notifying Member: EUROPEAN UNION" in text.splitlines()
    assert (
        "analytics" not in text and "vertical-align" not in text and "G/TBT/N/EU/1097" not in text
    )


def test_html_and_text_encodings() -> None:
    page = "<html><body><p>Côte d’Ivoire</p></body></html>".encode("cp1252")
    assert extract_text(page, "text/html; charset=windows-1252", "https://x/") == "Côte d’Ivoire"
    plain = "Notifying Member: Türkiye\r\n\r\n\r\n\r\nAgency".encode()
    assert extract_text(plain, "text/plain; charset=utf-8", "https://x/") == (
        "Notifying Member: Türkiye\n\nAgency"
    )


# --- format detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "url", "expected"),
    [
        (b"%PDF-1.4 ...", "text/html", "https://x/a.docx", "pdf"),  # magic bytes win
        (b"PK\x03\x04...", "application/pdf", DOL_PDF, "docx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...", DOCX, DOL_WORD, "doc"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><p>x", "application/pdf", DOL_PDF, "html"),
        (b"1. Notifying Member", "text/plain; charset=utf-8", DOL_PDF, "text"),  # then the type
        (b"1. Notifying Member", "application/msword", "https://x/a.txt", "doc"),
        (b"1. Notifying Member", "application/octet-stream", DOL_PDF, "pdf"),  # extension last
        (b"1. Notifying Member", None, DOL_WORD, "docx"),
        (b"1. Notifying Member", None, "https://x/notice.TXT", "text"),
        (b"{\\rtf1\\ansi x}", None, "https://x/", "rtf"),
    ],
)
def test_detect_format(body: bytes, content_type: str | None, url: str, expected: str) -> None:
    assert detect_format(body, content_type, url) == expected


def test_unknown_format_is_refused() -> None:
    with pytest.raises(CrawlError, match="cannot tell the document format"):
        extract_text(b"\x89PNG\r\n\x1a\n....", "image/png", "https://x/logo")


@pytest.mark.parametrize(("name", "url"), [("legacy.doc", None), ("usa532.docx", "rtf")])
def test_old_word_and_rtf_are_not_supported(name: str, url: str | None) -> None:
    body, content_type, fixture_url = fixture(name)
    if url == "rtf":
        body, content_type = b"{\\rtf1\\ansi Notifying Member}", "application/rtf"
    with pytest.raises(CrawlError, match=r"not supported; ask for the \.docx, PDF or HTML"):
        extract_text(body, content_type, fixture_url)


@pytest.mark.parametrize("body", [b"", b"  \n\t "])
def test_empty_body_is_refused(body: bytes) -> None:
    with pytest.raises(CrawlError, match="empty"):
        extract_text(body, "application/pdf", DOL_PDF)


def test_html_without_text_is_refused() -> None:
    with pytest.raises(CrawlError, match="no text"):
        extract_text(
            b"<html><head><script>x()</script></head><body> </body></html>", None, "https://x/"
        )


# --- hostile .docx ---------------------------------------------------------------------------------


def test_zip_bomb_is_refused_before_inflating() -> None:
    bomb = word(b"<w:document>" + b" " * (doctext.MAX_DOCUMENT_XML + 1) + b"</w:document>")
    assert len(bomb) < 100_000
    started = time.monotonic()
    with pytest.raises(CrawlError, match="limit"):
        extract_text(bomb, DOCX, DOL_WORD)
    assert time.monotonic() - started < 10  # catches a hang only


def test_many_members_and_their_total_size_are_capped() -> None:
    many = word("<x/>", **{f"word/media/{n}.bin": b"" for n in range(doctext.MAX_ZIP_MEMBERS)})
    with pytest.raises(CrawlError, match="members"):
        extract_text(many, DOCX, DOL_WORD)
    size = doctext.MAX_ZIP_UNCOMPRESSED // 4 + 1
    heavy = word("<x/>", **{f"word/media/{n}.bin": b"\0" * size for n in range(4)})
    with pytest.raises(CrawlError, match="inflate"):
        extract_text(heavy, DOCX, DOL_WORD)


def lie_about_size(archive: bytes, name: bytes, size: int) -> bytes:
    """Patch the declared uncompressed size of ``name`` in its local and central headers."""
    data = bytearray(archive)
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = data.find(signature)
        while start != -1:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + offset : start + offset + 4] = struct.pack("<I", size)
            start = data.find(signature, start + 1)
    return bytes(data)


def test_zip_lying_about_its_size_is_refused() -> None:
    liar = lie_about_size(
        word(b"<w:document>" + b" " * 5_000_000 + b"</w:document>"), b"word/document.xml", 100
    )
    assert zipfile.ZipFile(io.BytesIO(liar)).getinfo("word/document.xml").file_size == 100
    with pytest.raises(CrawlError, match=r"not a readable \.docx"):
        extract_text(liar, DOCX, DOL_WORD)


@pytest.mark.parametrize(
    "name",
    [
        "../evil.xml",
        "word/../../evil.xml",
        "/etc/passwd",
        "C:/Windows/evil.xml",
        "\\\\server\\share\\x",
        "word\\..\\..\\x",
    ],
)
def test_member_names_leaving_the_archive_are_refused(name: str) -> None:
    with pytest.raises(CrawlError, match="absolute or leaves the archive"):
        extract_text(word("<x/>", **{name: b"x"}), DOCX, DOL_WORD)


def test_zip_without_document_xml_is_not_word() -> None:
    with pytest.raises(CrawlError, match="not a Word document"):
        extract_text(zip_bytes({"mimetype": "application/epub+zip"}), None, DOL_WORD)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>',
        '<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        '<!DOCTYPE w:document SYSTEM "http://127.0.0.1:9/dtd">',
    ],
)
def test_xml_entity_and_dtd_declarations_are_refused(prolog: str) -> None:
    body = f'<?xml version="1.0"?>{prolog}<w:document {W}><w:body>{paragraph_xml("&b;")}</w:body></w:document>'
    with pytest.raises(CrawlError, match="not acceptable XML"):
        extract_text(word(body.replace("&amp;b;", "&b;")), DOCX, DOL_WORD)


def test_broken_xml_and_truncated_zip_are_refused() -> None:
    with pytest.raises(CrawlError, match="not acceptable XML"):
        extract_text(word(f"<w:document {W}><w:body><w:p>"), DOCX, DOL_WORD)
    whole = docx_bytes(paragraph_xml("1. Notifying Member: CHINA"))
    with pytest.raises(CrawlError, match=r"not a readable \.docx"):
        extract_text(whole[: len(whole) // 2], DOCX, DOL_WORD)


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_pypdf_errors_reach_the_root_logger_as_warnings() -> None:
    """Scrapy counts ERROR records at the root logger, and one fails the spider process."""
    root, collect = logging.getLogger(), Collect()
    root.addHandler(collect)
    try:
        logging.getLogger("pypdf._cmap").error("Advanced encoding /X not implemented yet")
    finally:
        root.removeHandler(collect)
    assert [(r.name, r.levelno) for r in collect.records] == [
        ("tbt_alert.text.documents", logging.WARNING)
    ]
    assert "Advanced encoding /X" in collect.records[0].getMessage()


# --- hostile PDF and anything at all -------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_pdf_is_refused(keep: float) -> None:
    body, content_type, url = fixture("kor700.pdf")
    with pytest.raises(CrawlError, match="unreadable PDF"):
        extract_text(body[: int(len(body) * keep)], content_type, url)


CONTENT_TYPES = st.sampled_from(
    [
        None,
        "application/pdf",
        DOCX,
        "text/html",
        "text/plain",
        "application/msword",
        "application/octet-stream",
        "image/png",
    ]
)
URLS = st.sampled_from([DOL_PDF, DOL_WORD, "https://x/a.txt", "https://x/a.html", "https://x/"])
PREFIXES = st.sampled_from([b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b"{\\rtf1"])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=PREFIXES, body=st.binary(max_size=2000), content_type=CONTENT_TYPES, url=URLS)
def test_arbitrary_bytes_give_text_or_crawl_error(
    prefix: bytes, body: bytes, content_type: str | None, url: str
) -> None:
    try:
        text = extract_text(prefix + body, content_type, url)
    except CrawlError:
        return
    assert isinstance(text, str) and text.strip() == text and text


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=10_000), junk=st.binary(max_size=64))
def test_damaged_fixtures_give_text_or_crawl_error(cut: int, junk: bytes) -> None:
    for name in ("kor700.pdf", "usa532.docx"):
        body, content_type, url = fixture(name)
        at = cut % len(body)
        with contextlib.suppress(CrawlError):
            extract_text(body[:at] + junk + body[at + len(junk) :], content_type, url)
