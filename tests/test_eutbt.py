"""EU TBT database pages: the real text copies, and a reconstructed HTML page of the new site."""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbt_alert.errors import CrawlError, RecordError
from tbt_alert.sources.eutbt import EuComment, parse_eu_tbt_page

FIXTURES = Path(__file__).parent / "fixtures"
NEW_URL = "https://technical-barriers-trade.ec.europa.eu/en/notification/35249"
OLD_URL = (
    "http://ec.europa.eu/growth/tools-databases/tbt/en/search/"
    "?tbtaction=search.detail&Country_ID=EU&num=489&dspLang=en"
)
EU1097_TITLE = (
    "Draft Commission Regulation amending Regulation (EC) No 1907/2006 of the European Parliament "
    "and of the Council as regards carcinogens, germ cell mutagens or reproductive toxicants subject "
    "to restrictions"
)


def read(*parts: str) -> str:
    return FIXTURES.joinpath(*parts).read_text(encoding="utf-8")


def test_new_site_text_copy() -> None:
    notice = parse_eu_tbt_page(read("pages", "eu_tbt_db_new_notification_35249.txt"), NEW_URL)
    assert notice.symbol == "G/TBT/N/EU/1097"
    assert notice.member == "European Union"
    assert notice.title == EU1097_TITLE
    assert notice.date_of_arrival == date(2024, 11, 22)
    assert notice.final_date_for_comments == date(2025, 1, 21)
    assert notice.description is not None
    assert notice.description.startswith("This draft Commission Regulation aims to include")
    assert notice.description.endswith("flown by non-professional pilots.")
    assert "Disclaimer" not in notice.description
    assert "“REACH”" in notice.description
    assert notice.comments == []
    assert notice.warnings == []
    record = notice.to_record()
    assert (record.symbol, record.comment_deadline, record.source_url) == (
        "G/TBT/N/EU/1097",
        "2025-01-21",
        NEW_URL,
    )
    assert record.extra["date_of_arrival"] == "2024-11-22"


def test_old_site_text_copy_with_comments() -> None:
    notice = parse_eu_tbt_page(read("pages", "eu_tbt_db_old_detail_EU489.txt"), OLD_URL)
    assert notice.symbol == "G/TBT/N/EU/489"
    assert notice.member == "European Union"
    assert notice.title is not None
    assert notice.title.startswith("Draft Commission Regulation amending Annexes II, III and V")
    assert notice.date_of_arrival == date(2017, 6, 29)
    assert notice.final_date_for_comments == date(2017, 8, 27)
    assert notice.objectives == "Protection of Human Health or Safety"
    assert notice.fields_of_activity == "Cosmetics. Toiletries"
    assert notice.description is not None and notice.description.endswith("scientific progress.")
    assert notice.comments == [
        EuComment("comment", "United States", date(2017, 10, 6)),
        EuComment("answer", "European Union", date(2018, 1, 22)),
    ]
    record = notice.to_record()
    assert record.objective == "Protection of Human Health or Safety"
    assert record.products_text == "Cosmetics. Toiletries"
    assert record.extra["comments"][0] == {
        "kind": "comment",
        "member": "United States",
        "date": "2017-10-06",
    }


def test_reconstructed_html_gives_the_same_notice_as_the_text_copy() -> None:
    meta = json.loads(read("eutbt", "notification_35249.meta.json"))
    assert meta["reconstructed"] is True and meta["recorded_live"] is False
    html = read("eutbt", "notification_35249.html")
    from_html = parse_eu_tbt_page(html, NEW_URL)
    from_text = parse_eu_tbt_page(read("pages", "eu_tbt_db_new_notification_35249.txt"), NEW_URL)
    assert from_html == from_text
    assert "dataLayer" not in (from_html.description or "")


def test_products_and_codes_when_the_page_has_them() -> None:
    text = (
        "Toys safety\nG/TBT/N/KOR/692\nDate of arrival: 2016 December 1 - Final date for comments: "
        "2017 January 30\nMember: Korea, Republic of\nProducts\nToys (HS code(s): 9503; ICS code(s): 97.200.50)\n"
        "Description\nSafety requirements for toys.\n"
    )
    notice = parse_eu_tbt_page(text, "https://x.example/n/1")
    assert notice.member == "Korea, Republic of"
    assert notice.products == "Toys (HS code(s): 9503; ICS code(s): 97.200.50)"
    assert (notice.hs_codes, notice.ics_codes) == (["9503"], ["97.200.50"])
    assert notice.description == "Safety requirements for toys."


def test_drift_renamed_date_labels_are_flagged() -> None:
    text = read("pages", "eu_tbt_db_new_notification_35249.txt")
    text = text.replace("Date of arrival", "Received").replace(
        "Final date for comments", "Comments until"
    )
    notice = parse_eu_tbt_page(text, NEW_URL)
    assert notice.final_date_for_comments is None
    assert "label 'Final date for comments' not found" in notice.warnings
    assert "label 'Date of arrival' not found" in notice.warnings


def test_drift_renamed_description_heading_is_flagged() -> None:
    text = read("pages", "eu_tbt_db_new_notification_35249.txt").replace(
        "\nDescription\n", "\nSummary\n"
    )
    notice = parse_eu_tbt_page(text, NEW_URL)
    assert notice.description is None
    assert "heading 'Description' not found" in notice.warnings


def test_page_without_symbol_raises() -> None:
    text = read("pages", "eu_tbt_db_new_notification_35249.txt").replace("G/TBT/N/EU/1097", "")
    with pytest.raises(CrawlError, match="no TBT notification symbol"):
        parse_eu_tbt_page(text, NEW_URL)


@pytest.mark.parametrize(
    "page",
    ["", "<html><body><h1>Service unavailable</h1></body></html>", "Maintenance until 10:00"],
)
def test_maintenance_pages_raise(page: str) -> None:
    with pytest.raises(CrawlError):
        parse_eu_tbt_page(page, NEW_URL)


def test_unknown_member_code_is_not_a_record() -> None:
    notice = parse_eu_tbt_page(
        "Some title\nG/TBT/N/XYZ/1\nDescription\nText.", "https://x.example/n"
    )
    assert notice.member is None
    with pytest.raises(RecordError):
        notice.to_record()


FRAGMENTS = [
    "G/TBT/N/EU/1097",
    "Date of arrival:",
    "2024 November 22",
    "Final date for comments:",
    "-",
    "Description",
    "Objectives",
    "Fields of Activity",
    "Products",
    "Comments, answers or reactions",
    "Comment - United States - (06 October 2017)",
    "Disclaimer:",
    "<h1>",
    "</h1>",
    "<p>",
    "<script>",
    "<html>",
    "<!DOCTYPE x [<!ENTITY a 'b'>]>",
    "&a;",
    "\n",
    ":",
    "Member:",
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.text(max_size=2000),
        st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=60).map(
            " ".join
        ),
        st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=20)), max_size=60).map(
            "\n".join
        ),
    )
)
def test_hostile_text_raises_only_our_errors(text: str) -> None:
    try:
        notice = parse_eu_tbt_page(text, "https://x.example/n")
    except CrawlError:
        return
    assert notice.symbol.startswith("G/TBT/")
    with contextlib.suppress(RecordError):
        notice.to_record()
