"""Warning and digest renders: golden files per language, hostile input, size and tracking checks."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import jinja2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.errors import DeliveryError
from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import (
    TEMPLATE_DIR,
    SectorLine,
    WarningContext,
    clean_line,
    make_environment,
    render_digest,
    render_warning,
    safe_url,
)

GOLDEN = Path(__file__).parent / "golden" / "email"
LANGS = ("zh", "en")

# G/TBT/N/ECU/386 as read (switec.info); dates, sector reasons and URLs are illustrative.
FOOTWEAR_ZH = SectorLine(
    "footwear_leather",
    "鞋革（鞋类及皮革）",
    "alert",
    ("标题含“鞋类标签”（labelling of footwear）", "产品范围：国产及进口鞋类"),
    "red",
    ("鞋类为温州第一大出口商品", "强制性标签要求，上市前须符合"),
)
FOOTWEAR_EN = replace(
    FOOTWEAR_ZH,
    name="Footwear and leather",
    reasons=('title: "labelling of footwear"', "scope: domestic and imported footwear"),
    risk_reasons=("footwear is Wenzhou's largest export line", "mandatory labelling before sale"),
)
ECU_386 = WarningContext(
    kind="new",
    change_summary=None,
    symbol="G/TBT/N/ECU/386",
    joint_symbols=(),
    member="厄瓜多尔",
    title="Proyecto de Segunda Revisión del Reglamento Técnico Ecuatoriano PRTE INEN 080 (2R) "
    '"Etiquetado de Calzado" (Draft second revision (2R) of Ecuadorian Standardization '
    'Institute Technical Regulation (PRTE INEN) No. 080 "Labelling of footwear")',
    description="The notified Technical Regulation establishes the requirements to be met by the "
    "labelling of footwear, prior to the marketing of domestic and imported products, "
    "with the aim of preventing misleading practices.\n\nThe notified Technical "
    "Regulation applies to domestically manufactured and imported footwear that is "
    "marketed in Ecuador.",
    sectors=(FOOTWEAR_ZH,),
    distribution_date=date(2026, 3, 2),
    comment_deadline=date(2026, 5, 1),
    deadline_text=None,
    days_left=12,
    document_url="https://members.wto.org/crnattachments/2026/TBT/ECU/26_0001_00_s.pdf",
    notification_url="https://eping.wto.org/en/Search?viewData=G/TBT/N/ECU/386",
    unsubscribe_url="https://tbt.example.org/unsubscribe/tok123",
    preferences_url="https://tbt.example.org/preferences/tok123",
    comment_url="https://tbt.example.org/comments/G-TBT-N-ECU-386?a=1&b=2",
)
ECU_386_EN = replace(ECU_386, member="Ecuador", sectors=(FOOTWEAR_EN,))
UPDATE = replace(
    ECU_386,
    kind="update",
    symbol="G/TBT/N/ECU/386/Add.1",
    change_summary="评议截止日期延长至2026年9月1日",
    comment_deadline=None,
    deadline_text="60 days after notification",
    days_left=None,
    comment_url=None,
)
UPDATE_EN = replace(
    UPDATE,
    member="Ecuador",
    sectors=(FOOTWEAR_EN,),
    change_summary="comment deadline extended to 2026-09-01",
)


def context(lang: str, base: WarningContext = ECU_386) -> WarningContext:
    if lang == "zh":
        return base
    return replace(base, member="Ecuador", sectors=(FOOTWEAR_EN,))


def check_golden(name: str, actual: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} missing: run pytest --update-golden and review the diff"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from the golden file"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("case", "ctx_zh", "ctx_en"), [("new", ECU_386, ECU_386_EN), ("update", UPDATE, UPDATE_EN)]
)
def test_warning_matches_golden(lang, case, ctx_zh, ctx_en, update_golden):
    rendered = render_warning(ctx_zh if lang == "zh" else ctx_en, lang)
    stem = f"warning-{case}.{lang}"
    check_golden(f"{stem}.subject.txt", rendered.subject + "\n", update_golden)
    check_golden(f"{stem}.txt", rendered.text, update_golden)
    check_golden(f"{stem}.html", rendered.html, update_golden)


@pytest.mark.parametrize("lang", LANGS)
def test_digest_matches_golden(lang, update_golden):
    green = replace(
        context(lang),
        symbol="G/TBT/N/EU/1097",
        days_left=40,
        sectors=(replace(context(lang).sectors[0], risk_level="green"),),
    )
    urgent = replace(context(lang), days_left=3)
    label = "2026年第14周" if lang == "zh" else "week 14, 2026"
    rendered = render_digest([green, UPDATE if lang == "zh" else UPDATE_EN, urgent], lang, label)
    body = rendered.text
    assert body.index("G/TBT/N/EU/1097") > body.index(
        "剩余天数：3 天" if lang == "zh" else "3 days"
    )
    check_golden(f"digest.{lang}.subject.txt", rendered.subject + "\n", update_golden)
    check_golden(f"digest.{lang}.txt", rendered.text, update_golden)
    check_golden(f"digest.{lang}.html", rendered.html, update_golden)


def test_chinese_warning_reads_as_expected():
    r = render_warning(ECU_386, "zh")
    assert r.subject.startswith("[预警][鞋革] 厄瓜多尔 G/TBT/N/ECU/386：Proyecto")
    for phrase in (
        "技术性贸易措施预警",
        "评议截止日期：2026年5月1日",
        "剩余天数：12 天",
        "涉及行业",
        "判断依据",
        "风险等级：高",
    ):
        assert phrase in r.text
    for phrase in (
        "技术性贸易措施预警",
        "评议截止日期</th>",
        "2026年5月1日",
        "12 天",
        "涉及行业",
        "判断依据",
        "风险等级：高",
    ):
        assert phrase in r.html


def test_update_shows_what_changed_and_the_deadline_as_read():
    r = render_warning(UPDATE_EN, "en")
    assert r.subject.startswith(
        "[TBT update][Footwear and leather] Ecuador G/TBT/N/ECU/386/Add.1: "
    )
    assert "comment deadline extended to 2026-09-01" in r.text
    assert "Comments due:      60 days after notification" in r.text
    assert "Days left" not in r.text


@pytest.mark.parametrize(
    ("days", "zh", "en"),
    [
        (-2, "评议期已结束", "comment period closed"),
        (0, "今日截止", "closes today"),
        (1, "1 天", "1 day"),
    ],
)
def test_days_left_wording(days, zh, en):
    assert f"剩余天数：{zh}" in render_warning(replace(ECU_386, days_left=days), "zh").text
    assert (
        f"Days left:         {en}\n"
        in render_warning(replace(ECU_386_EN, days_left=days), "en").text
    )


HOSTILE = replace(
    ECU_386,
    title='<script>alert("x")</script> Tom & Jerry\'s "shoes"',
    member="A&B <b>",
    description="<img src=x onerror=alert(1)> & more",
    document_url="javascript:alert(document.cookie)",
    notification_url=" JaVaScRiPt:alert(1)",
    comment_url="data:text/html;base64,PHNjcmlwdD4=",
)


@pytest.mark.parametrize("lang", LANGS)
def test_html_escapes_scraped_markup(lang):
    html = render_warning(HOSTILE, lang).html
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "Tom &amp; Jerry&#39;s &#34;shoes&#34;" in html


@pytest.mark.parametrize("lang", LANGS)
def test_text_and_subject_are_not_html_escaped(lang):
    r = render_warning(HOSTILE, lang)
    for part in (r.text, r.subject):
        assert "&amp;" not in part and "&#" not in part and "&lt;" not in part
    assert 'Tom & Jerry\'s "shoes"' in r.subject
    assert '<script>alert("x")</script> Tom & Jerry\'s "shoes"' in r.text
    assert "https://tbt.example.org/unsubscribe/tok123" in r.text


@pytest.mark.parametrize("lang", LANGS)
def test_unsafe_links_are_dropped(lang):
    r = render_warning(HOSTILE, lang)
    for part in (r.text, r.html):
        assert "javascript" not in part.lower() and "data:" not in part


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "java\tscript:alert(1)",
        " javascript:x",
        "data:text/html,x",
        "file:///etc/passwd",
        "vbscript:x",
        "//evil.example/x",
        "/relative",
        "https://",
        "https://a.example/\nx",
        "http://a.example/\x00",
        "ftp://a.example/x",
        None,
        42,
    ],
)
def test_safe_url_refuses(url):
    assert safe_url(url) == ""


@pytest.mark.parametrize(
    "url", ["https://eping.wto.org/x?a=1&b=2", "HTTP://a.example/", " https://a.example/p "]
)
def test_safe_url_keeps_http_links(url):
    assert safe_url(url) == url.strip()


def test_our_own_links_must_be_safe():
    with pytest.raises(DeliveryError):
        render_warning(replace(ECU_386, unsubscribe_url="javascript:x"), "zh")


def test_subject_is_one_bounded_line():
    ctx = replace(
        ECU_386, title="Line one\r\nBcc: victim@example.com\x00\x1b[31m\u202e" + "长" * 500
    )
    subject = render_warning(ctx, "zh").subject
    assert "\r" not in subject and "\n" not in subject and "\x00" not in subject
    assert "\u202e" not in subject and "\x1b" not in subject
    assert len(subject) <= 120 and subject.endswith("…")


def test_body_loses_control_characters_but_keeps_lines():
    ctx = replace(ECU_386, description="first\r\nsecond\x07\x1b[2J\u202eend")
    text = render_warning(ctx, "en").text
    assert "\x07" not in text and "\x1b" not in text and "\u202e" not in text and "\r" not in text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=st.text(alphabet=st.characters(codec="utf-8"), max_size=200), member=st.text(max_size=40)
)
def test_crlf_in_scraped_text_never_makes_an_extra_header(title, member):
    ctx = replace(ECU_386, title=title + "\r\nBcc: victim@example.com\nX-Evil: 1", member=member)
    rendered = render_warning(ctx, "zh")
    msg = build_message(
        rendered,
        sender="tbt-alert <alerts@tbt.example.org>",
        recipient="buyer@example.com",
        message_id=make_message_id("b", "s", "tbt.example.org"),
        list_id="w.tbt.example.org",
        unsubscribe_url=ctx.unsubscribe_url,
        unsubscribe_mailto=None,
        date=datetime(2026, 3, 2, tzinfo=UTC),
    )
    parsed = BytesParser(policy=policy.default).parsebytes(msg.as_bytes())
    assert parsed.keys() == msg.keys()
    assert "Bcc" not in parsed and "X-Evil" not in parsed
    assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
    assert [a.addr_spec for a in parsed["To"].addresses] == ["buyer@example.com"]


def test_undefined_variable_fails(tmp_path: Path):
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "warning.en.txt.j2"
    path.write_text(path.read_text(encoding="utf-8") + "{{ w.no_such_field }}\n", encoding="utf-8")
    with pytest.raises(DeliveryError) as info:
        render_warning(ECU_386_EN, "en", make_environment(tmp_path))
    assert isinstance(info.value.__cause__, jinja2.UndefinedError)


@pytest.mark.parametrize(
    "env",
    [
        jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATE_DIR)),
        jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        ),
    ],
)
def test_misconfigured_environment_is_refused(env):
    with pytest.raises(DeliveryError):
        render_warning(ECU_386, "zh", env)


def test_template_version_is_stable_and_follows_template_edits(tmp_path: Path):
    before = render_warning(ECU_386, "zh").template_version
    assert before == render_warning(ECU_386, "zh").template_version
    assert re.fullmatch(r"email-1\+[0-9a-f]{12}", before)
    shutil.copytree(TEMPLATE_DIR, tmp_path, dirs_exist_ok=True)
    partial = tmp_path / "_notice.zh.txt.j2"
    partial.write_text(partial.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert render_warning(ECU_386, "zh", make_environment(tmp_path)).template_version != before


def largest_realistic(lang: str) -> list[WarningContext]:
    sectors = tuple(
        replace(
            context(lang).sectors[0],
            sector_id=f"s{i}",
            reasons=("reason " * 40,) * 5,
            risk_reasons=("risk " * 40,) * 3,
        )
        for i in range(20)
    )
    huge = replace(
        context(lang),
        description="Lorem ipsum dolor sit amet. " * 8000,
        title="T" * 5000,
        sectors=sectors,
        joint_symbols=tuple(f"G/TBT/N/KEN/{i}" for i in range(5)),
    )
    return [huge] * 3


@pytest.mark.parametrize("lang", LANGS)
def test_html_stays_under_the_size_budget(lang):
    warning = render_warning(largest_realistic(lang)[0], lang)
    assert len(warning.html.encode()) < 100_000
    digest = render_digest(largest_realistic(lang), lang, "week")
    assert len(digest.html.encode()) < 100_000
    assert digest.text.count(largest_realistic(lang)[0].symbol) >= 3  # all three still listed


@pytest.mark.parametrize("lang", LANGS)
def test_long_digest_shows_the_most_urgent_in_full_and_lists_the_rest(lang):
    many = [replace(context(lang), symbol=f"G/TBT/N/EU/{i}", days_left=i) for i in range(300)]
    digest = render_digest(many, lang, "week")
    assert len(digest.html.encode()) < 100_000
    assert "300" in digest.subject
    shown_in_full = (
        "通报号：G/TBT/N/EU/0\n" if lang == "zh" else "Symbol:            G/TBT/N/EU/0\n"
    )
    assert shown_in_full in digest.text
    assert ("另有" if lang == "zh" else "more not listed") in digest.text
    assert "G/TBT/N/EU/299" not in digest.text  # beyond the one-line list
    assert len(render_warning(context(lang), lang).html.encode()) < 15_000


@pytest.mark.parametrize("lang", LANGS)
def test_no_tracking(lang):
    html = render_warning(context(lang), lang).html
    assert "<img" not in html.lower()
    assert not re.search(r"utm_|[?&](mc_eid|trk|track)=|/click\?|/open\?", html)
    hrefs = re.findall(r'href="([^"]+)"', html)
    assert hrefs and all(
        h.replace("&amp;", "&")
        in (
            context(lang).notification_url,
            context(lang).document_url,
            context(lang).comment_url,
            context(lang).unsubscribe_url,
            context(lang).preferences_url,
        )
        for h in hrefs
    )


def test_clean_line_collapses_and_clips():
    assert clean_line("a\r\n\tb\u2028c  d") == "a b c d"
    assert clean_line("word " * 50, limit=20).endswith("…")
    assert len(clean_line("word " * 50, limit=20)) <= 20


def test_unsupported_language_and_bad_context_are_refused():
    with pytest.raises(DeliveryError):
        render_warning(ECU_386, "fr")  # type: ignore[arg-type]
    with pytest.raises(DeliveryError):
        render_warning(replace(ECU_386, sectors=(replace(FOOTWEAR_ZH, risk_level="purple"),)), "zh")
    with pytest.raises(DeliveryError):
        render_digest([], "zh", "week")
