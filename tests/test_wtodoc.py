"""WTO notification forms and addenda, read from copies of real documents (tests/fixtures/pages)."""

from __future__ import annotations

import contextlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tbt_alert.errors import CrawlError, RecordError, TbtAlertError
from tbt_alert.sources.wtodoc import (
    AddendumEvent,
    EventKind,
    describe_event,
    parse_addendum_text,
    parse_notification_text,
)

PAGES = Path(__file__).parent / "fixtures" / "pages"


def page(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


EU1097 = "wto_form_current_format_EU1097_copy.txt"
KOR700 = "wto_form_2017_format_KOR700_copy.txt"
USA532 = "wto_form_2010_format_USA532_copy.txt"
CBD1997 = "wto_form_1997_cbd_reprint.txt"
COL_ADD = "wto_addendum_old_format_COL20Add5_copy.txt"
MEX_ADD = "wto_addendum_current_format_MEX_NOM051_copy.txt"


# --- notification forms: one test per generation of labels ---------------------------------


def test_current_layout_eu1097() -> None:
    doc = parse_notification_text(page(EU1097), symbol="G/TBT/N/EU/1097")
    assert doc.symbol == "G/TBT/N/EU/1097"  # the copy starts at box 1: the caller's symbol is used
    assert doc.member == "EUROPEAN UNION"
    assert doc.agency == "European Commission"
    assert doc.articles == ["2.9.2", "5.6.2"]
    assert doc.title == (
        "Draft Commission Regulation amending Regulation (EC) No 1907/2006 of the European "
        "Parliament and of the Council as regards carcinogens, germ cell mutagens or reproductive "
        "toxicants subject to restrictions"
    )
    assert doc.products_text is not None
    assert doc.products_text.startswith("Recently classified carcinogens, germ cell mutagens")
    assert "(HS codes" not in doc.products_text
    assert (doc.hs_codes, doc.ics_codes) == ([], [])
    assert doc.description is not None and doc.description.startswith(
        "This draft Commission Regulation"
    )
    assert (
        doc.texts_available_from is not None
        and "grow-eu-tbt@ec.europa.eu" in doc.texts_available_from
    )
    assert doc.document_links == ["https://technical-barriers-trade.ec.europa.eu/en/home"]
    assert set(doc.boxes) == {1, 2, 3, 4, 5, 6}
    # the copy is an excerpt: boxes 7-11 are missing and that is said, not hidden
    assert doc.flagged
    assert any("box 10 (Final date for comments)" in w for w in doc.warnings)
    record = doc.to_record(source_url="https://docs.wto.org/x")
    assert record.symbol == "G/TBT/N/EU/1097"
    assert record.notification_type == "Regular notification"
    assert record.extra["articles"] == ["2.9.2", "5.6.2"]
    assert record.extra["parse_warnings"]


def test_current_layout_without_symbol_cannot_become_a_record() -> None:
    doc = parse_notification_text(page(EU1097))
    assert doc.symbol is None
    assert "no document symbol found in the header" in doc.warnings
    with pytest.raises(RecordError, match="symbol"):
        doc.to_record()


def test_2017_layout_kor700() -> None:
    doc = parse_notification_text(page(KOR700))
    assert doc.symbol == "G/TBT/N/KOR/700"
    assert doc.distribution_date == date(2017, 1, 9)
    assert doc.original_language == "English"
    assert doc.member == "REPUBLIC OF KOREA"
    assert doc.local_government is None
    assert doc.agency == "Ministry of Environment"
    assert doc.articles == ["2.9.2"]
    assert doc.products_text == (
        "Non-phase-in substance & Phase-in Substance, Product containing carcinogenic or mutagenic "
        "substance, restricted substance, substance subject to authorization"
    )
    assert (
        doc.title
        == "Revised version of the Act on Registration, Evaluation, etc. of Chemical Substances"
    )
    assert doc.description is not None and doc.description.startswith("Phase-in substances placing")
    record = doc.to_record()
    assert (record.distribution_date, record.language, record.source) == (
        "2017-01-09",
        "en",
        "wto_document",
    )


def test_2010_layout_usa532_member_to_agreement_notifying() -> None:
    doc = parse_notification_text(page(USA532))
    assert doc.symbol == "G/TBT/N/USA/532"
    assert doc.distribution_date == date(2010, 4, 9)
    assert doc.member == "United States"
    assert doc.agency == "Department of Energy (DOE) (549)"
    assert doc.articles == ["2.9.2"]
    assert doc.products_text == "Battery chargers and external power supplies (ICS: 97.180)"
    assert doc.ics_codes == ["97.180"]
    assert doc.hs_codes == []
    assert doc.title == (
        "Energy Conservation Program: Test Procedures for Battery Chargers and External Power Supplies"
    )


def test_1997_single_paragraph_reprint() -> None:
    doc = parse_notification_text(page(CBD1997))
    assert doc.symbol == "G/TBT/Notif.97.323"
    assert doc.distribution_date is None  # "JULY 14,1997" is the newspaper's date, not the WTO's
    assert doc.member == "REPUBLIC OF KOREA"
    assert doc.agency == "Korean National Institute of Technology and Quality (KNITQ)"
    assert doc.articles == ["2.9.2"]  # no check boxes in 1997: the article is simply named
    assert doc.products_text == "Household electrical appliances and wiring devices."
    assert (
        doc.title
        == "Proposed Amendment to the Technical Criteria for Electrical Appliances and Materials"
    )
    assert doc.objective == "Safety and consumer protection."
    assert doc.relevant_documents is not None and doc.relevant_documents.startswith(
        "Electrical Appliance"
    )
    assert doc.proposed_adoption == "1 October 1997"
    assert doc.proposed_entry_into_force is not None
    assert doc.proposed_entry_into_force.startswith("1 October 1997. Some provisions")
    assert doc.comment_deadline_text == "31 August 1997"
    assert doc.comment_deadline == date(1997, 8, 31)
    assert doc.texts_available_from is not None and doc.texts_available_from.startswith(
        "National enquiry point"
    )
    assert sorted(doc.boxes) == list(range(1, 12))
    assert doc.warnings == []
    assert doc.to_record().comment_deadline == "31 August 1997"


def test_relative_deadline_is_counted_from_the_distribution_date() -> None:
    text = page(KOR700) + "\n\n10. Final date for comments: 60 days from notification\n"
    doc = parse_notification_text(text)
    assert doc.comment_deadline_text == "60 days from notification"
    assert doc.comment_deadline == date(2017, 3, 10)
    assert (
        doc.to_record().comment_deadline == "60 days from notification"
    )  # as read; ingest decides


def test_typos_encoding_artefacts_and_checkbox_glyphs() -> None:
    text = (
        "G/TB/N/BHR/172\r\n3 March 2021\r\nOriginal:\u00a0English\r\n"
        "1. Notifiying Member: KINGDOM OF BAHRAIN\r\n"
        "2. Agency responsible: Bahrain Standards and Metrology Directorate\r\n"
        "3. Notified under Article 2.9.2 ☒, 2.10.1 ☐, 5.6.2 ☐\r\n"
        "4. Products covered (HS codes or national tariff lines): Toys (HS code(s): 9503); "
        "electric toys (ICS code(s): 97.200.50)\r\n"
        "5. Title, number of pages and language(s) of the notified document: Toys â€“ safety "
        "requirements (12 page(s), in Arabic)\r\n"
        "6. Description of content: The draft sets requirements.\r\n"
        "10. Final date for comments: 2 May 2021\r\n"
    )
    doc = parse_notification_text(text)
    assert doc.symbol == "G/TBT/N/BHR/172"
    assert doc.distribution_date == date(2021, 3, 3)
    assert doc.member == "KINGDOM OF BAHRAIN"
    assert doc.articles == ["2.9.2"]
    assert doc.hs_codes == ["9503"]
    assert doc.ics_codes == ["97.200.50"]
    assert doc.title == "Toys – safety requirements"
    assert doc.comment_deadline == date(2021, 5, 2)


# --- drift: renamed labels fail loudly or are flagged, never an empty success ---------------


def test_drift_member_label_renamed_is_flagged_and_not_a_record() -> None:
    doc = parse_notification_text(page(KOR700).replace("Notifying Member", "Notifier"))
    assert doc.member is None
    assert doc.flagged
    assert any("box 1 (Notifying Member)" in w for w in doc.warnings)
    with pytest.raises(RecordError, match="member"):
        doc.to_record()


def test_drift_title_label_renamed_is_flagged_and_not_a_record() -> None:
    text = page(USA532).replace(
        "Title, number of pages and language(s) of the notified document", "Document"
    )
    doc = parse_notification_text(text)
    assert doc.title is None
    assert any("box 5" in w for w in doc.warnings)
    with pytest.raises(RecordError, match="title"):
        doc.to_record()


def test_drift_all_labels_renamed_raises() -> None:
    text = page(KOR700)
    for old, new in [
        ("Notifying Member", "Membre notifiant"),
        ("Agency responsible", "Organisme responsable"),
        ("Notified under Article", "Notifié au titre de l'article"),
        ("Products covered", "Produits visés"),
        ("Title, number of pages", "Titre, nombre de pages"),
        ("Description of content", "Teneur"),
    ]:
        text = text.replace(old, new)
    with pytest.raises(CrawlError, match="not a TBT notification form"):
        parse_notification_text(text)


@pytest.mark.parametrize(
    "text", ["", "Maintenance: the site is down.", "<html><body></body></html>"]
)
def test_not_a_form_raises(text: str) -> None:
    with pytest.raises(CrawlError):
        parse_notification_text(text)


def test_label_words_inside_a_box_do_not_start_a_new_box() -> None:
    text = page(CBD1997).replace(
        "6. Description of content: Revision",
        "6. Description of content: See relevant documents: none. Revision",
    )
    doc = parse_notification_text(text)
    assert doc.description is not None and doc.description.startswith(
        "See relevant documents: none."
    )
    assert doc.relevant_documents is not None and doc.relevant_documents.startswith(
        "Electrical Appliance"
    )


# --- addenda ---------------------------------------------------------------------------------


def test_old_free_text_addendum_col20_add5() -> None:
    doc = parse_addendum_text(page(COL_ADD))
    assert doc.layout == "free_text"
    assert doc.symbol == "G/TBT/N/COL/20/Add.5"
    assert doc.parent_symbol == "G/TBT/N/COL/20"
    assert doc.date == date(2005, 11, 10)
    assert doc.communication_date == date(2005, 11, 9)
    assert doc.member == "Colombia"
    # the quoted title "Partly amending ..." is not read as a change of scope
    assert [(e.kind, e.date) for e in doc.events] == [
        (EventKind.interpretive_guidance, date(2005, 11, 1))
    ]
    assert "Resolution No. 181419" in doc.events[0].text
    assert doc.description is not None and "Text available from" not in doc.description
    assert doc.warnings == []


def test_current_checklist_addendum_mex_nom051() -> None:
    doc = parse_addendum_text(page(MEX_ADD), symbol="G/TBT/N/MEX/178/Add.9")
    assert doc.layout == "checklist"
    assert (doc.symbol, doc.parent_symbol) == ("G/TBT/N/MEX/178/Add.9", "G/TBT/N/MEX/178")
    assert doc.communication_date == date(2020, 8, 12)
    assert doc.member == "Mexico"
    assert doc.title is not None and doc.title.startswith(
        "Mexican Official Standard PROY-NOM-051-SCFI/SSA1-2009"
    )
    # only the ticked box: none of the seven unticked reasons becomes an event
    assert [e.kind for e in doc.events] == [EventKind.final_text_available]
    assert doc.events[0].date is None
    assert "https://www.dof.gob.mx/2020/SEECO/NOM_051.pdf" in doc.events[0].text


def test_mex_copy_without_symbol_is_flagged() -> None:
    doc = parse_addendum_text(page(MEX_ADD))
    assert doc.symbol is None and doc.parent_symbol is None
    assert any("no addendum symbol" in w for w in doc.warnings)


CHECKLIST = """G/TBT/N/EU/1097/Add.2
14 March 2026
The following communication, dated 12 March 2026, is being circulated at the request of the delegation of the European Union.
Title: Draft Commission Regulation amending Regulation (EC) No 1907/2006
Reason for Addendum:
{a} Comment period changed - date: 30 April 2026
{b} Notified measure adopted - date: 2 March 2026
[ ] Notified measure published - date:
{c} Notified measure enters into force - date: 22 March 2026
[ ] Text of final measure available from:
{d} Notified measure withdrawn or revoked - date: 5 March 2026
[ ] Content or scope of notified measure changed New deadline for comments (if applicable):
[ ] Interpretive guidance issued and text available from:
[ ] Other:
Description: The Regulation was adopted and published in the Official Journal.
"""


@pytest.mark.parametrize("tick", ["[X]", "[x]", "☒", "■", "[✓]"])
def test_checklist_tick_glyphs(tick: str) -> None:
    text = CHECKLIST.format(a=tick, b=tick, c="[ ]", d="☐")
    doc = parse_addendum_text(text)
    assert (doc.symbol, doc.parent_symbol, doc.date) == (
        "G/TBT/N/EU/1097/Add.2",
        "G/TBT/N/EU/1097",
        date(2026, 3, 14),
    )
    assert [(e.kind, e.date) for e in doc.events] == [
        (EventKind.comment_period_changed, date(2026, 4, 30)),
        (EventKind.adopted, date(2026, 3, 2)),
    ]
    assert doc.description == "The Regulation was adopted and published in the Official Journal."


def test_checklist_withdrawn_and_entry_into_force() -> None:
    doc = parse_addendum_text(CHECKLIST.format(a="[ ]", b="[ ]", c="[X]", d="[X]"))
    assert [(e.kind, e.date) for e in doc.events] == [
        (EventKind.enters_into_force, date(2026, 3, 22)),
        (EventKind.withdrawn, date(2026, 3, 5)),
    ]


def test_checklist_with_nothing_ticked_keeps_an_other_event_and_warns() -> None:
    doc = parse_addendum_text(CHECKLIST.format(a="[ ]", b="[ ]", c="[ ]", d="[ ]"))
    assert [e.kind for e in doc.events] == [EventKind.other]
    assert "Official Journal" in doc.events[0].text
    assert doc.warnings


def test_drift_checklist_label_renamed_raises() -> None:
    text = page(MEX_ADD).replace("Reason for Addendum", "Grounds")
    with pytest.raises(CrawlError, match="Reason for Addendum"):
        parse_addendum_text(text)


def test_drift_unknown_ticked_reason_is_flagged() -> None:
    text = CHECKLIST.format(a="[ ]", b="[ ]", c="[ ]", d="[ ]").replace(
        "[ ] Other:", "[X] Measure finalised:"
    )
    doc = parse_addendum_text(text)
    assert [e.kind for e in doc.events] == [EventKind.other]
    assert any("unknown ticked reason" in w for w in doc.warnings)


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "The comment period has been extended until 15 September 2026.",
            [(EventKind.comment_period_changed, date(2026, 9, 15))],
        ),
        (
            "The regulation was adopted on 3 February 2011 and will enter into force on 1 July 2011.",
            [
                (EventKind.enters_into_force, date(2011, 7, 1)),
                (EventKind.adopted, date(2011, 2, 3)),
            ],
        ),
        (
            "The final rule was published in the Federal Register on 12 May 2012.",
            [(EventKind.published, date(2012, 5, 12))],
        ),
        ("The notified draft has been withdrawn.", [(EventKind.withdrawn, None)]),
        (
            "The new final date for comments is 30 June 2012.",
            [(EventKind.comment_period_changed, date(2012, 6, 30))],
        ),
        ("A new version of the standard is open for comments.", [(EventKind.other, None)]),
        (
            "Decree No. 5 of 1 June 2015 amends the scope of the notified measure.",
            [(EventKind.scope_changed, date(2015, 6, 1))],
        ),
    ],
)
def test_free_text_phrases(sentence: str, expected: list[tuple[EventKind, date | None]]) -> None:
    text = (
        "G/TBT/N/USA/532/Add.1\n20 June 2012\nAddendum\nThe following communication, dated "
        f"18 June 2012, is being circulated at the request of the delegation of the United States.\n{sentence}"
    )
    doc = parse_addendum_text(text)
    assert [(e.kind, e.date) for e in doc.events] == expected
    assert doc.member == "United States"


def test_free_text_without_recognised_phrase_is_kept_as_other() -> None:
    text = "G/TBT/N/USA/532/Add.2\nAddendum\nThe United States would like to share a corrigendum."
    doc = parse_addendum_text(text)
    assert [e.kind for e in doc.events] == [EventKind.other]
    assert doc.warnings


def test_not_an_addendum_raises() -> None:
    with pytest.raises(CrawlError, match="not a TBT addendum"):
        parse_addendum_text(page(KOR700))


# --- one-line summaries for "update" alerts --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "when", "text", "en", "zh"),
    [
        (
            EventKind.comment_period_changed,
            date(2026, 9, 1),
            "",
            "comment deadline extended to 2026-09-01",
            "评议截止日期延长至2026-09-01",
        ),
        (
            EventKind.comment_period_changed,
            date(2026, 9, 1),
            "period shortened",
            "comment deadline changed to 2026-09-01",
            "评议截止日期变更为2026-09-01",
        ),
        (EventKind.comment_period_changed, None, "", "comment period changed", "评议期已变更"),
        (EventKind.adopted, date(2026, 3, 2), "", "adopted on 2026-03-02", "已于2026-03-02通过"),
        (EventKind.published, None, "", "published", "已公布"),
        (
            EventKind.enters_into_force,
            date(2026, 3, 22),
            "",
            "enters into force on 2026-03-22",
            "于2026-03-22生效",
        ),
        (
            EventKind.withdrawn,
            date(2026, 3, 5),
            "",
            "withdrawn on 2026-03-05",
            "已于2026-03-05撤回",
        ),
        (
            EventKind.final_text_available,
            None,
            "see https://x.example/a.pdf and more",
            "final text available: https://x.example/a.pdf",
            "最终文本已发布：https://x.example/a.pdf",
        ),
        (
            EventKind.other,
            None,
            "Something\nelse",
            "other change: Something else",
            "其他变更：Something else",
        ),
    ],
)
def test_describe_event(kind: EventKind, when: date | None, text: str, en: str, zh: str) -> None:
    event = AddendumEvent(kind, when, text)
    assert describe_event(event, "en") == en
    assert describe_event(event, "zh") == zh


def test_describe_event_is_one_short_line() -> None:
    event = AddendumEvent(EventKind.other, None, "word\n" * 500)
    line = describe_event(event, "en")
    assert "\n" not in line and len(line) < 150


def test_describe_event_rejects_unknown_language() -> None:
    with pytest.raises(ValueError, match="lang"):
        describe_event(AddendumEvent(EventKind.adopted, None, ""), "fr")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", list(EventKind))
def test_every_kind_has_both_summaries(kind: EventKind) -> None:
    event = AddendumEvent(kind, date(2026, 1, 2), "x")
    assert "2026-01-02" in describe_event(event, "en")
    assert "2026-01-02" in describe_event(event, "zh")


# --- hostile text: only our documented errors ------------------------------------------------

FRAGMENTS = [
    "1.",
    "2.",
    "10.",
    "Notifying Member:",
    "Member to Agreement notifying:",
    "Agency responsible:",
    "Notified under Article 2.9.2 [X], 2.10.1 [ ]",
    "Products covered (HS codes):",
    "HS code(s): 9503",
    "ICS: 97.180",
    "Title, number of pages and language(s) of the notified document:",
    "Description of content:",
    "Objective and rationale:",
    "Relevant documents:",
    "Proposed date of adoption:",
    "Proposed date of entry into force:",
    "Final date for comments:",
    "Texts available from:",
    "G/TBT/N/EU/1097/Add.1",
    "G/TB/N/BHR/172",
    "G/TBT/Notif.97.323",
    "31 August 1997",
    "2025 January 21",
    "(4 page(s), in English)",
    "Reason for Addendum:",
    "[X]",
    "[ ]",
    "☒",
    "Comment period changed - date:",
    "The following communication, dated 9 May 2005,",
    "is being circulated at the request of the delegation of Mexico.",
    "Addendum",
    "adopted",
    "entered into force",
    "withdrawn",
    '"quoted"',
    "â€™",
    "\x00",
    "\n",
    "(",
    ")",
    ":",
    "|",
]
hostile = st.one_of(
    st.text(max_size=2000),
    st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=30)), max_size=80).map(
        " ".join
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_notification_parser_raises_only_our_errors(text: str) -> None:
    try:
        doc = parse_notification_text(text)
    except CrawlError:
        return
    assert set(doc.boxes) <= set(range(1, 12))
    with contextlib.suppress(RecordError):
        doc.to_record()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile)
def test_addendum_parser_raises_only_our_errors(text: str) -> None:
    try:
        doc = parse_addendum_text(text)
    except TbtAlertError:
        return
    assert doc.events  # never an empty success
    for event in doc.events:
        assert describe_event(event, "en") and describe_event(event, "zh")
