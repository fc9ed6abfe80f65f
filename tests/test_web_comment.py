"""The web comment form over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL: a warning
sent over SMTP carries the signed link; the page shows the notification; a POST (multipart, with
one attachment checked by content) stores a draft through the comments room, once; bad tokens,
CSRF, closed calls, a past internal deadline, oversize bodies and the rate limit store nothing."""

from __future__ import annotations

import io
from datetime import timedelta
from email.utils import parseaddr

import pytest
import requests
from docx import Document
from sqlmodel import Session, select

from tbt_alert.comments.calls import find_call, move_to
from tbt_alert.config import build_config
from tbt_alert.status import CallStatus, DraftChannel
from tbt_alert.store.tables import CommentAttachment, CommentDraft, Notification, Subscriber
from tbt_alert.tokens import Purpose, make_token, read_token
from tests.support_comments import NOW, SECRET, SYMBOL, add_people, seed_notification, warn
from tests.support_smtp import free_port
from tests.support_web import Clock, WebServer, csrf_of, links_in, mail_text

LATER = NOW + timedelta(days=2)
MAIL_BASE = "https://tbt.example/"  # public_url of the warnings (tests.support_comments)


@pytest.fixture
def site(engine, smtp_sink, tmp_path, request):
    web = getattr(request, "param", {})
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com", "wang@example.com")
        warn(session, smtp_sink.url)
    port = free_port()
    config = build_config(
        {
            "data_dir": str(tmp_path / "data"),
            "web": {"public_url": f"http://127.0.0.1:{port}/", "secret_key": SECRET} | web,
            "comments": {"attachment_max_bytes": 65536, "draft_max_chars": 2000},
        }
    )
    clock = Clock(LATER)
    server = WebServer(engine, config, clock, port)
    server.start()
    server.engine, server.sink, server.clock = engine, smtp_sink, clock
    yield server
    server.stop()


def link_of(site, email="chen@example.com"):
    """The comment link of the warning ``email`` received, pointed at the running server."""
    mails = {parseaddr(m["To"])[1]: m for m in site.sink.handler.messages()}
    found = [u for u in links_in(mail_text(mails[email])) if "/comment/" in u]
    assert len(found) == 1, found
    return found[0].replace(MAIL_BASE, site.base + "/")


def drafts(site):
    with Session(site.engine) as s:
        rows = s.exec(select(CommentDraft).order_by(CommentDraft.id)).all()
        return [
            (r, s.exec(select(CommentAttachment).where(CommentAttachment.draft_id == r.id)).all())
            for r in rows
        ]


def post(site, url, client=None, text="", files=None, **extra):
    client = client or requests.Session()
    page = client.get(url)
    assert page.status_code == 200, page.text
    data = {"csrf": csrf_of(page.text), "text": text} | extra
    return client.post(url, data=data, files=files or {"attachment": ("", b"")})


def docx_bytes(text):
    out = io.BytesIO()
    doc = Document()
    doc.add_paragraph(text)
    doc.save(out)
    return out.getvalue()


def test_the_warning_carries_a_signed_link_for_its_reader_and_notification(site):
    url = link_of(site)
    token = url.rsplit("/", 1)[1].split("?")[0]
    read = read_token(SECRET, token, Purpose.COMMENT, now=LATER)
    with Session(site.engine) as s:
        chen = s.exec(select(Subscriber).where(Subscriber.email == "chen@example.com")).one()
        row = s.exec(select(Notification).where(Notification.symbol == SYMBOL)).one()
    assert (read.subscriber_id, read.ref_id) == (chen.id, row.id)
    assert link_of(site, "wang@example.com") != url  # one link per reader


def test_the_page_shows_the_notification_in_chinese_then_english(site):
    url = link_of(site)
    page = requests.get(url)
    assert page.status_code == 200
    assert SYMBOL in page.text and "Draft regulation on the labelling of footwear" in page.text
    assert "2027年1月19日" in page.text  # WTO deadline
    assert "2027年1月9日" in page.text  # internal deadline: 10 days earlier
    assert "暂无中文译文" in page.text  # the title is the English original
    assert "对通报提出评议意见" in page.text and 'enctype="multipart/form-data"' in page.text
    en = requests.get(url + "?lang=en")
    assert "Comment on this notification" in en.text and "19 January 2027" in en.text
    assert "9 January 2027" in en.text and 'lang="en"' in en.text
    assert "original" not in en.text
    assert drafts(site) == []  # looking stores nothing


def test_a_post_stores_one_web_draft_with_its_attachment_once(site):
    url = link_of(site)
    client = requests.Session()
    text = "The labelling rule would force us to relabel stock. <script>alert(1)</script>"
    files = {"attachment": ("concerns.docx", docx_bytes("Clause 3: six months are too short"))}
    done = post(site, url, client, text=text, files=files)
    assert done.status_code == 200 and "已收到您的意见" in done.text, done.text
    [(draft, attachments)] = drafts(site)
    assert draft.channel == DraftChannel.WEB and draft.sender == "chen@example.com"
    assert draft.text == text and draft.refused == []
    assert [(a.name, a.content_type) for a in attachments] == [
        ("concerns.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    ]
    with Session(site.engine) as s:
        assert find_call(s, SYMBOL).status == CallStatus.DRAFTING
    again = post(site, url, client, text=text, files=files)  # a reload or double click
    assert again.status_code == 200 and len(drafts(site)) == 1
    other = post(site, link_of(site, "wang@example.com"), text="Same concern from Wang")
    assert other.status_code == 200
    assert [d.sender for d, _ in drafts(site)] == ["chen@example.com", "wang@example.com"]


def test_a_disguised_attachment_is_refused_with_its_reason_and_the_text_kept(site):
    files = {"attachment": ("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00 not a pdf")}
    done = post(site, link_of(site) + "?lang=en", text="See attachment", files=files)
    assert done.status_code == 200 and "Comment received" in done.text
    assert "report.pdf" in done.text and "not a Word (.docx), PDF or plain-text file" in done.text
    [(draft, attachments)] = drafts(site)
    assert attachments == [] and draft.refused[0]["name"] == "report.pdf"


def test_an_oversize_attachment_is_refused_and_an_oversize_body_is_not_read(site):
    big = b"a" * 70_000  # over the 65536-byte cap, under the body cap
    done = post(site, link_of(site), text="", files={"attachment": ("a.txt", big)})
    assert done.status_code == 400 and drafts(site) == []  # nothing usable: nothing stored
    huge = b"a" * 300_000
    answer = post(site, link_of(site), text="x", files={"attachment": ("a.txt", huge)})
    assert answer.status_code == 413 and drafts(site) == []


def test_empty_or_too_long_comments_show_the_form_again_escaped(site):
    empty = post(site, link_of(site), text="   ")
    assert empty.status_code == 400 and "请填写意见或附上文件" in empty.text
    long = "<script>x</script>" + "字" * 2000
    answer = post(site, link_of(site), text=long)
    assert answer.status_code == 400 and "2000" in answer.text
    assert "<script>x" not in answer.text and "&lt;script&gt;x" in answer.text
    assert drafts(site) == []


def test_a_post_without_the_csrf_field_stores_nothing(site):
    url = link_of(site)
    answer = requests.post(url, data={"text": "from another site"}, files={"f": ("", b"")})
    assert answer.status_code == 400 and "表单已过期" in answer.text
    forged = requests.post(
        url, data={"text": "x", "csrf": "0" * 32}, cookies={"tbt_csrf": "abc"}, files={}
    )
    assert forged.status_code == 400 and drafts(site) == []


def test_bad_tokens_get_a_400_page_and_store_nothing(site):
    url = link_of(site)
    base, token = url.rsplit("/", 1)
    with Session(site.engine) as s:
        chen = s.exec(select(Subscriber).where(Subscriber.email == "chen@example.com")).one()
        ref = s.exec(select(Notification).where(Notification.symbol == SYMBOL)).one().id
    cases = {
        "不完整": token[:-3],
        "不是由本服务签发": make_token(
            "another-secret-0123456789", Purpose.COMMENT, chen.id, now=LATER, ref_id=ref
        ),
        "不是用于这个页面": make_token(SECRET, Purpose.UNSUBSCRIBE, chen.id, now=LATER, ref_id=ref),
        "已过期": make_token(
            SECRET, Purpose.COMMENT, chen.id, now=LATER - timedelta(days=181), ref_id=ref
        ),
        "不属于任何订阅者": make_token(SECRET, Purpose.COMMENT, 9999, now=LATER, ref_id=ref),
    }
    for why, bad in cases.items():
        page = requests.get(f"{base}/{bad}")
        assert page.status_code == 400 and why in page.text, why
        answer = requests.post(f"{base}/{bad}", data={"text": "x"}, files={"a": ("", b"")})
        assert answer.status_code == 400, why
    assert drafts(site) == []


def test_a_closed_call_or_a_past_internal_deadline_gets_a_clear_page(site):
    url = link_of(site)
    client = requests.Session()
    page = client.get(url)
    site.clock.now = NOW.replace(year=2027, month=1, day=10)  # internal deadline was 9 January
    gone = client.get(url)
    assert gone.status_code == 410 and "评议已截止" in gone.text and SYMBOL in gone.text
    late = client.post(
        url, data={"csrf": csrf_of(page.text), "text": "late"}, files={"a": ("", b"")}
    )
    assert late.status_code == 410 and drafts(site) == []
    site.clock.now = LATER
    with Session(site.engine) as s:
        move_to(s, find_call(s, SYMBOL), CallStatus.CLOSED, now=LATER)
        s.commit()
    closed = client.post(
        url, data={"csrf": csrf_of(page.text), "text": "x"}, files={"a": ("", b"")}
    )
    assert (
        closed.status_code == 410 and "Comments are closed" in requests.get(url + "?lang=en").text
    )
    assert drafts(site) == []


@pytest.mark.parametrize("site", [{"rate_limit_client": 2}], indirect=True)
def test_posts_are_rate_limited_per_client(site):
    codes = [post(site, link_of(site), text=f"comment {i}").status_code for i in range(3)]
    assert codes == [200, 200, 429]
    assert len(drafts(site)) == 2
