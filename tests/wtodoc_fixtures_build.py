"""Write tests/fixtures/wtodoc/: ``python -m tests.wtodoc_fixtures_build``.

WTO Documents Online files reconstructed from the text of real forms
in tests/fixtures/pages/: the words are the copies' own, verbatim, cut where the copies are cut;
the containers (a minimal WordprocessingML .docx, a hand-written PDF with Helvetica text, an HTML
page) are ours. Output is byte-for-byte reproducible (fixed ZIP timestamps, no PDF dates). Every
file has a ``.meta.json``: the URL form it stands for, status, headers, ``"reconstructed": true``
and the copy it came from.
"""

from __future__ import annotations

import html
import io
import json
import re
import textwrap
import zipfile
from pathlib import Path
from typing import Any

TESTS = Path(__file__).parent
PAGES = TESTS / "fixtures" / "pages"
HERE = TESTS / "fixtures" / "wtodoc"
DATE = "2026-11-26"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOL_PDF = "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename=q:/G/{}.pdf&Open=True"
DOL_WORD = "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/{}.docx"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
BOX_NUMBER = re.compile(r"^\d{1,2}\.$")

CONTENT_TYPES_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>
"""
RELS_XML = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>
"""


def copy_text(name: str) -> str:
    return (PAGES / name).read_text("utf-8")


# --- .docx -------------------------------------------------------------------------------------


def run_xml(text: str, bold: bool = False) -> str:
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    return f'<w:r>{props}<w:t xml:space="preserve">{html.escape(text, quote=False)}</w:t></w:r>'


def paragraph_xml(line: str) -> str:
    """A paragraph; a leading "Label:" is a bold run of its own, as in the WTO's files."""
    label, sep, rest = line.partition(":")
    if sep and len(label) < 300:
        return f"<w:p>{run_xml(label + sep, bold=True)}{run_xml(rest)}</w:p>"
    return f"<w:p>{run_xml(line)}</w:p>"


def cell_xml(lines: list[str]) -> str:
    body = "".join(paragraph_xml(line) for line in lines) or "<w:p/>"
    return f"<w:tc>{body}</w:tc>"


def table_xml(rows: list[list[list[str]]]) -> str:
    body = "".join("<w:tr>" + "".join(cell_xml(c) for c in row) + "</w:tr>" for row in rows)
    return f"<w:tbl>{body}</w:tbl>"


def form_blocks(text: str) -> str:
    """Header lines as paragraphs, then one table row per box: number cell, content cell."""
    header: list[str] = []
    rows: list[list[list[str]]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if BOX_NUMBER.match(line):
            rows.append([[line], []])
        elif rows:
            rows[-1][1].append(line)
        elif line:
            header.append(line)
    return "".join(paragraph_xml(line) for line in header) + (table_xml(rows) if rows else "")


def checklist_blocks(text: str) -> str:
    """Paragraphs; a line with " | " cells ("[X] | Reason: ... |") becomes a table row."""
    out: list[str] = []
    rows: list[list[list[str]]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if "|" in line:
            rows.append([[cell.strip()] for cell in line.strip("| ").split("|")])
            continue
        if rows:
            out.append(table_xml(rows))
            rows = []
        if line:
            out.append(paragraph_xml(line))
    if rows:
        out.append(table_xml(rows))
    return "".join(out)


def docx_bytes(body_xml: str) -> bytes:
    document = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<w:document xmlns:w="{W_NS}"><w:body>{body_xml}<w:sectPr/></w:body></w:document>\n'
    )
    return zip_bytes(
        {
            "[Content_Types].xml": CONTENT_TYPES_XML,
            "_rels/.rels": RELS_XML,
            "word/document.xml": document,
        }
    )


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

PAGE_W, PAGE_H, MARGIN, LEADING, FONT_SIZE, WRAP = 595, 842, 56, 12, 9, 100


def pdf_string(line: str) -> str:
    """A PDF literal string in WinAnsi (cp1252); other characters become '?'."""
    out = []
    for byte in line.encode("cp1252", errors="replace"):
        char = chr(byte)
        if char in "\\()":
            out.append("\\" + char)
        elif 32 <= byte < 127:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def pdf_lines(text: str) -> list[str]:
    lines: list[str] = []
    for raw in text.splitlines():
        lines += textwrap.wrap(raw.strip(), WRAP) or [""]
    return lines


def content_stream(lines: list[str]) -> bytes:
    ops = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {PAGE_H - MARGIN} Td"]
    ops += [f"{pdf_string(line)} Tj T*" for line in lines]
    ops.append("ET")
    return ("\n".join(ops) + "\n").encode("latin-1")


def pdf_bytes(text: str) -> bytes:
    """A minimal PDF 1.4: pages of Helvetica text lines, uncompressed, with a correct xref."""
    per_page = (PAGE_H - 2 * MARGIN) // LEADING
    lines = pdf_lines(text)
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(len(chunks)))
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {len(chunks)} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    for i, chunk in enumerate(chunks):
        stream = content_stream(chunk)
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {first_page + 2 * i + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"endstream")
    return assemble_pdf(objects)


def assemble_pdf(objects: list[bytes]) -> bytes:
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# --- HTML --------------------------------------------------------------------------------------


def html_bytes(text: str, title: str) -> bytes:
    """An HTML rendering of a form: a table row per box, a paragraph per line, plus the script and
    style a real page carries (which must not end up in the text)."""
    rows: list[tuple[str, list[str]]] = []
    for line in (raw.strip() for raw in text.splitlines()):
        if BOX_NUMBER.match(line):
            rows.append((line, []))
        elif rows and line:
            rows[-1][1].append(line)
    body = "\n".join(
        f"<tr><td>{number}</td><td>"
        + "".join(f"<p>{html.escape(x)}</p>" for x in lines)
        + "</td></tr>"
        for number, lines in rows
    )
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>td {{ vertical-align: top }} .box-label {{ font-weight: bold }}</style>
<script>var analytics = "Notifying Member: tracking code, not a box";</script></head>
<body>
<table class="form">
{body}
</table>
<script>document.title += " - WTO";</script>
</body></html>
"""
    return page.encode("utf-8")


# --- the fixtures ------------------------------------------------------------------------------

MAINTENANCE = b"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Documents Online - maintenance</title></head>
<body><h1>Service temporarily unavailable</h1>
<p>Documents Online is being updated. Please try again later.</p></body></html>
"""
OLE_DOC = (
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    + bytes(504)
    + b"Microsoft Word 97-2003 Document"
    + bytes(64)
)


def fixtures() -> list[tuple[str, bytes, str, dict[str, Any]]]:
    """(file name, body, content type, provenance) of each fixture."""
    usa = "wto_form_2010_format_USA532_copy.txt"
    mex = "wto_addendum_current_format_MEX_NOM051_copy.txt"
    kor = "wto_form_2017_format_KOR700_copy.txt"
    col = "wto_addendum_old_format_COL20Add5_copy.txt"
    eu = "wto_form_current_format_EU1097_copy.txt"
    return [
        (
            "usa532.docx",
            docx_bytes(form_blocks(copy_text(usa))),
            DOCX,
            {
                "url": DOL_WORD.format("TBTN10/USA532"),
                "symbol": "G/TBT/N/USA/532",
                "from": usa,
                "note": "2010 form; header as paragraphs, boxes as a two-column table (number, content)",
            },
        ),
        (
            "mex178_add9.docx",
            docx_bytes(checklist_blocks(copy_text(mex))),
            DOCX,
            {
                "url": DOL_WORD.format("TBTN10/MEX178A9"),
                "symbol": "G/TBT/N/MEX/178/Add.9",
                "from": mex,
                "note": "current 'Reason for Addendum' checklist as a table; the copy has no header, so "
                "the symbol is the caller's (as in tests/test_wtodoc.py)",
            },
        ),
        (
            "kor700.pdf",
            pdf_bytes(copy_text(kor)),
            "application/pdf",
            {
                "url": DOL_PDF.format("TBTN17/KOR700"),
                "symbol": "G/TBT/N/KOR/700",
                "from": kor,
                "note": "2017 form; hand-written PDF 1.4, Helvetica, lines wrapped at 100 characters",
            },
        ),
        (
            "col20_add5.pdf",
            pdf_bytes(copy_text(col)),
            "application/pdf",
            {
                "url": DOL_PDF.format("TBTN04/COL20A5"),
                "symbol": "G/TBT/N/COL/20/Add.5",
                "from": col,
                "note": "2005 free-text addendum; hand-written PDF 1.4 as above",
            },
        ),
        (
            "eu1097.html",
            html_bytes(copy_text(eu), "G/TBT/N/EU/1097"),
            "text/html; charset=utf-8",
            {
                "url": "http://web.wtocenter.org.tw/Page/13317/419936",
                "symbol": "G/TBT/N/EU/1097",
                "from": eu,
                "note": "current form as an HTML page (a notifiedDocumentLink to a mirror); "
                "markup, <style> and <script> are ours",
            },
        ),
        (
            "maintenance.html",
            MAINTENANCE,
            "text/html; charset=utf-8",
            {
                "url": DOL_PDF.format("TBTN17/KOR700"),
                "symbol": "G/TBT/N/KOR/700",
                "from": None,
                "note": "synthetic garbage: a maintenance page served with status 200",
            },
        ),
        (
            "legacy.doc",
            OLE_DOC,
            "application/msword",
            {
                "url": DOL_WORD.format("TBTN04/COL20A5").replace(".docx", ".doc"),
                "symbol": "G/TBT/N/COL/20/Add.5",
                "from": None,
                "note": "synthetic: the OLE2 signature of an old binary Word file (not supported)",
            },
        ),
    ]


def meta(content_type: str, provenance: dict[str, Any]) -> dict[str, Any]:
    source = provenance["from"]
    return {
        "url": provenance["url"],
        "date": DATE,
        "status": 200,
        "headers": {"Content-Type": content_type},
        "reconstructed": True,
        "recorded_live": False,
        "symbol": provenance["symbol"],
        "from": f"tests/fixtures/pages/{source}" if source else None,
        "note": provenance["note"],
        "replace_with": "tbt-alert dev record-fixture wtodoc URL (when online)",
    }


def main() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    for name, body, content_type, provenance in fixtures():
        (HERE / name).write_bytes(body)
        stem = name.rsplit(".", 1)[0]
        text = json.dumps(meta(content_type, provenance), indent=1, ensure_ascii=False) + "\n"
        (HERE / f"{stem}.meta.json").write_text(text, "utf-8")


if __name__ == "__main__":
    main()
