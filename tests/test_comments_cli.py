"""The analyst's comment workflow through the real entry point, on SQLite and PostgreSQL:
import (docx, txt by content), list, merge with $EDITOR, export (docx read back), submit,
reply, assign, close; bad input gets one line and changes nothing."""

import json
import os
import stat

import pytest
from click.testing import CliRunner
from docx import Document
from sqlmodel import Session

from tbt_alert.cli.main import main
from tbt_alert.store.engine import make_engine, upgrade
from tests.support_comments import SYMBOL, add_people, seed_notification, warn

DOCX_TEXT = [
    "The labelling requirement is disproportionate for small exporters.",
    "",
    "Article 5: the label must be permanently attached; sewn-in labels should be accepted.",
]
TXT = (
    "We ask the EU to extend the comment period by 60 days and to allow a transition period "
    "of 24 months.\n\n<script>alert(1)</script> costs would rise by 8% | for small firms."
)


@pytest.fixture
def run(tmp_path, db_url, monkeypatch, smtp_sink):
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com", "wang@example.com")
        warn(session, smtp_sink.url)
    engine.dispose()
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def invoke(*args):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    return invoke


def word_file(path, paragraphs):
    doc = Document()
    for p in paragraphs:
        doc.add_paragraph(p)
    doc.save(str(path))
    return path


def test_from_drafts_to_an_exported_and_submitted_comment(run, tmp_path, monkeypatch):
    listed = run("comments", "list")
    assert listed.exit_code == 0
    assert SYMBOL in listed.output and "open" in listed.output and "0 draft(s)" in listed.output
    # content decides, not the name: a Word file called .txt, a text file called .docx
    docx_named_txt = word_file(tmp_path / "chen.txt", DOCX_TEXT)
    txt_named_docx = tmp_path / "wang.docx"
    txt_named_docx.write_text(TXT, encoding="utf-8")
    first = run(
        "comments", "import", str(docx_named_txt), "--symbol", SYMBOL, "--from", "chen@example.com"
    )
    assert first.exit_code == 0, first.output
    second = run(
        "comments",
        "import",
        str(txt_named_docx),
        "--symbol",
        SYMBOL.lower(),
        "--from",
        "wang@example.com",
    )
    assert second.exit_code == 0, second.output
    calls = json.loads(run("comments", "list", "--json").output)
    assert [c["symbol"] for c in calls] == [SYMBOL] and calls[0]["status"] == "drafting"
    drafts = calls[0]["drafts"]
    assert [(d["sender"], d["channel"]) for d in drafts] == [
        ("chen@example.com", "file"),
        ("wang@example.com", "file"),
    ]
    assert "sewn-in labels" in drafts[0]["text"] and "<script>" in drafts[1]["text"]
    assert "2 draft(s)" in run("comments", "list", "--status", "drafting").output

    editor = tmp_path / "editor.sh"
    editor.write_text(
        "#!/bin/sh\nsed -i 's/^Proposed change: $/Proposed change: accept sewn-in labels/' \"$1\"\n"
    )
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("EDITOR", str(editor))
    monkeypatch.setenv("VISUAL", str(editor))
    merged = run("comments", "merge", SYMBOL)
    assert merged.exit_code == 0 and "saved" in merged.output, merged.output
    shown = run("comments", "show", SYMBOL).output
    assert "[source: chen@example.com | file |" in shown  # each concern keeps its source
    assert "## Article 5" in shown and "Proposed change: accept sewn-in labels" in shown

    out = tmp_path / "comment.docx"
    exported = run(
        "comments", "export", SYMBOL, "--format", "docx", "--lang", "en", "--output", str(out)
    )
    assert exported.exit_code == 0, exported.output
    doc = Document(str(out))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Comments on notification G/TBT/N/EU/1097" in text
    assert "enquiry point of European Union" in text
    assert "Draft regulation on the labelling of footwear" in text
    assert "disproportionate for small exporters" in text  # a general comment
    assert "transition period of 24 months" in text  # a request
    assert "[source:" not in text and "chen@example.com" not in text  # sources stay in-house
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == [
        "Clause",
        "Comment",
        "Proposed change",
        "Justification",
    ]
    assert table.rows[1].cells[0].text == "Article 5"
    assert "permanently attached" in table.rows[1].cells[1].text
    assert table.rows[1].cells[2].text == "accept sewn-in labels"

    md = tmp_path / "comment.md"
    assert (
        run(
            "comments", "export", SYMBOL, "--format", "md", "--lang", "zh", "--output", str(md)
        ).exit_code
        == 0
    )
    md_text = md.read_text(encoding="utf-8")
    assert "对通报 G/TBT/N/EU/1097 的评议意见" in md_text and "欧盟" in md_text
    assert "<script>" not in md_text and "&lt;script&gt;" in md_text  # never markup
    assert "| 条款 | 评议意见 | 修改建议 | 理由 |" in md_text

    assert "assigned to Li Hua" in run("comments", "assign", SYMBOL, "--to", "Li Hua").output
    assert (
        "submitted on 2026-12-01"
        in run("comments", "submit", SYMBOL, "--date", "2026-12-01").output
    )
    answer = tmp_path / "answer.txt"
    answer.write_text("The EU thanks China and will consider sewn-in labels.", encoding="utf-8")
    assert "answered" in run("comments", "reply", SYMBOL, "--file", str(answer)).output
    assert "closed" in run("comments", "close", SYMBOL).output
    final = json.loads(run("comments", "list", "--json").output)[0]
    assert (final["status"], final["analyst"], final["submitted_on"]) == (
        "closed",
        "Li Hua",
        "2026-12-01",
    )
    refused = run(
        "comments", "import", str(txt_named_docx), "--symbol", SYMBOL, "--from", "x@example.com"
    )
    assert refused.exit_code == 1 and "is closed" in refused.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("comments", "show", "G/TBT/N/XXX/1"), "error: no notification G/TBT/N/XXX/1"),
        (("comments", "list", "--status", "pending"), "error: unknown status 'pending'"),
        (("comments", "submit", SYMBOL), "error: merge the drafts of"),
        (("comments", "reply", SYMBOL, "--file", "/nonexistent"), "error: cannot read"),
        (("comments", "merge", SYMBOL, "--no-edit"), "error: no drafts for"),
        (("comments", "close", SYMBOL, "--bogus"), "No such option"),
        (("inbound",), "error: [mail] reply_domain and bounce_domain are not set"),
        (("comments", "assign", SYMBOL, "--to", "li@"), "error: not a valid email address"),
        (("comments", "submit", SYMBOL, "--date", "1st May"), "expected YYYY-MM-DD"),
    ],
)
def test_bad_requests_get_one_line(run, args, message):
    result = run(*args)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_binary_file_is_refused_whatever_its_name_and_nothing_is_stored(run, tmp_path):
    fake = tmp_path / "comment.docx"
    fake.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(200))
    result = run("comments", "import", str(fake), "--symbol", SYMBOL, "--from", "chen@example.com")
    assert result.exit_code == 1
    assert (
        result.output.strip().startswith("error:") and len(result.output.strip().splitlines()) == 1
    )
    assert "neither a Word document" in result.output
    bad_sender = tmp_path / "ok.txt"
    bad_sender.write_text("fine", encoding="utf-8")
    result = run(
        "comments", "import", str(bad_sender), "--symbol", SYMBOL, "--from", "not-an-address"
    )
    assert result.exit_code == 1 and "not a valid email address" in result.output
    assert json.loads(run("comments", "list", "--json").output)[0]["drafts"] == []
