"""Outside text in comments: replies, HTML and drafts are hostile; parsers never fail and never
lose or invent a concern."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from tbt_alert.comments.drafts import clean_text, sniff
from tbt_alert.comments.mailtext import html_to_text, parse_mail, strip_quoted
from tbt_alert.comments.merge import merge_drafts, paragraphs, parse_consolidated
from tbt_alert.store.tables import CommentDraft

texts = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_parse_as_a_mail_without_error(data):
    mail = parse_mail(data)
    assert isinstance(mail.text, str)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_html_to_text_never_fails_and_drops_scripts(markup):
    out = html_to_text(f"<p>{markup}</p><script>steal()</script>")
    assert "steal()" not in out


@settings(max_examples=200, deadline=None)
@given(texts)
def test_quoted_lines_never_survive(text):
    assert not any(line.lstrip().startswith(">") for line in strip_quoted(text).split("\n"))


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, min_size=1, max_size=4))
def test_merge_keeps_every_concern_once(bodies):
    drafts = [
        CommentDraft(
            id=n,
            call_id=1,
            sender=f"s{n}@example.com",
            channel="file",
            received_at=datetime(2026, 12, 1, tzinfo=UTC),
            text=clean_text(body, 10_000),
        )
        for n, body in enumerate(bodies)
    ]
    expected = sum(len(paragraphs(d.text)) for d in drafts)
    parsed = parse_consolidated(merge_drafts(drafts))
    assert len(parsed.general) + len(parsed.specific) + len(parsed.requests) == expected


def test_sniff_trusts_content_not_names():
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff("评议意见".encode()) == "text/plain"
    assert sniff(b"MZ\x90\x00") is None
    assert sniff(b"PK\x03\x04not really a zip") is None
    assert sniff(bytes(range(256))) is None


def test_reply_headers_in_two_languages_start_the_quote():
    for header in (
        "On Mon, 1 Dec 2026, alerts@tbt wrote:",
        "在 2026年12月1日 09:00，tbt-alert 写道：",
        "-----Original Message-----",
        "发件人: tbt-alert",
    ):
        assert strip_quoted(f"our concern\n\n{header}\nthe warning") == "our concern"
