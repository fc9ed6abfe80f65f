"""The comment in the customary form: addressed to the notifying member's enquiry point; the
symbol, title and date; general comments; specific comments clause by clause (a table: clause,
comment, proposed change, justification); requests; contact. Markdown or Word (python-docx), in
Chinese or English. Drafts' text is written as text: never as HTML or markup."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from tbt_alert.comments.merge import Consolidated, Specific

Lang = Literal["zh", "en"]

LABELS: dict[str, tuple[str, str]] = {  # key -> (en, zh)
    "heading": ("Comments on notification {symbol}", "对通报 {symbol} 的评议意见"),
    "to": ("To: the WTO/TBT enquiry point of {member}", "致：{member} WTO/TBT 咨询点"),
    "symbol": ("Notification", "通报号"),
    "title": ("Title", "标题"),
    "distributed": ("Date of distribution", "分发日期"),
    "date": ("Date of these comments", "评议日期"),
    "general": ("General comments", "一般性评议意见"),
    "specific": ("Specific comments", "具体评议意见"),
    "clause": ("Clause", "条款"),
    "comment": ("Comment", "评议意见"),
    "change": ("Proposed change", "修改建议"),
    "why": ("Justification", "理由"),
    "requests": ("Requests", "请求"),
    "contact": ("Contact", "联系方式"),
    "none": ("None.", "无。"),
}


def label(key: str, lang: Lang, **values: str) -> str:
    en, zh = LABELS[key]
    return (zh if lang == "zh" else en).format(**values)


@dataclass(frozen=True)
class Heading:
    symbol: str
    title: str
    member: str
    distributed: date | None
    written: date
    contact: str


def _md(text: str) -> str:
    """Text safe in Markdown: HTML escaped, table pipes and line starts neutralised."""
    escaped = html.escape(text, quote=False).replace("|", "\\|")
    return re.sub(r"(?m)^([#>*+-]|\d+\.)", r"\\\1", escaped)


def _cell(text: str) -> str:
    return _md(text).replace("\n", "<br>") if text else " "


def export_markdown(head: Heading, body: Consolidated, lang: Lang) -> str:
    lines = [
        f"# {_md(label('heading', lang, symbol=head.symbol))}",
        "",
        _md(label("to", lang, member=head.member)),
        "",
        f"- **{label('symbol', lang)}**: {_md(head.symbol)}",
        f"- **{label('title', lang)}**: {_md(head.title)}",
        f"- **{label('distributed', lang)}**: {head.distributed or '-'}",
        f"- **{label('date', lang)}**: {head.written}",
        "",
        f"## {label('general', lang)}",
        "",
    ]
    lines += [f"{_md(p)}\n" for p in body.general] or [label("none", lang), ""]
    lines += [f"## {label('specific', lang)}", ""]
    if body.specific:
        cols = [label(k, lang) for k in ("clause", "comment", "change", "why")]
        lines += [f"| {' | '.join(cols)} |", "|---|---|---|---|"]
        for s in body.specific:
            cells = (s.clause, s.comment, s.change, s.why)
            lines.append(f"| {' | '.join(_cell(c) for c in cells)} |")
        lines.append("")
    else:
        lines += [label("none", lang), ""]
    lines += [f"## {label('requests', lang)}", ""]
    lines += [f"{_md(p)}\n" for p in body.requests] or [label("none", lang), ""]
    lines += [f"## {label('contact', lang)}", "", _md(head.contact), ""]
    return "\n".join(lines)


_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(text: str) -> str:
    """Characters XML (and so Word) cannot hold, removed."""
    return _NOT_XML.sub("", text)


def export_docx(head: Heading, body: Consolidated, lang: Lang) -> bytes:
    from docx import Document

    head = Heading(
        _x(head.symbol),
        _x(head.title),
        _x(head.member),
        head.distributed,
        head.written,
        _x(head.contact),
    )
    body = Consolidated(
        [_x(p) for p in body.general],
        [Specific(_x(s.clause), _x(s.comment), _x(s.change), _x(s.why)) for s in body.specific],
        [_x(p) for p in body.requests],
    )
    doc = Document()
    doc.add_heading(label("heading", lang, symbol=head.symbol), level=1)
    doc.add_paragraph(label("to", lang, member=head.member))
    facts = (
        ("symbol", head.symbol),
        ("title", head.title),
        ("distributed", str(head.distributed or "-")),
        ("date", str(head.written)),
    )
    for key, value in facts:
        doc.add_paragraph(f"{label(key, lang)}: {value}")
    doc.add_heading(label("general", lang), level=2)
    for para in body.general or [label("none", lang)]:
        doc.add_paragraph(para)
    doc.add_heading(label("specific", lang), level=2)
    if body.specific:
        table = doc.add_table(rows=1, cols=4)
        table.style = "Table Grid"
        for cell, key in zip(
            table.rows[0].cells, ("clause", "comment", "change", "why"), strict=True
        ):
            cell.text = label(key, lang)
        for s in body.specific:
            row = table.add_row().cells
            for cell, value in zip(row, (s.clause, s.comment, s.change, s.why), strict=True):
                cell.text = value
    else:
        doc.add_paragraph(label("none", lang))
    doc.add_heading(label("requests", lang), level=2)
    for para in body.requests or [label("none", lang)]:
        doc.add_paragraph(para)
    doc.add_heading(label("contact", lang), level=2)
    doc.add_paragraph(head.contact)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
