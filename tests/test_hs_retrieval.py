"""Retrieval of product wording to HS 2022 headings (tbt_alert.text.hsretrieval) and the evidence
it gives a sector (tbt_alert.classify.evidence). Every text here is made up for the test."""

from __future__ import annotations

import pytest

from tbt_alert.classify.classifier import Classifier, load_classifier
from tbt_alert.classify.evidence import (
    RecordEvidence,
    collect_evidence,
    collect_evidence_many,
    retrieval_query,
)
from tbt_alert.classify.reasons import ReasonKind
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.hsretrieval import load_index, stem, terms


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def rec(title: str, **kw) -> CanonicalRecord:
    return CanonicalRecord(symbol="G/TBT/N/XXX/1", member="Test", title=title, **kw)


def retrieved(ev: RecordEvidence, sector: str) -> list[str]:
    e = ev.sectors.get(sector)
    return [r.value for r in (e.reasons if e else []) if r.kind == ReasonKind.HS_RETRIEVED]


def test_stems_and_terms_drop_plurals_boilerplate_and_codes():
    assert [stem(w) for w in ("valves", "accessories", "switches", "glass", "regulation")] == [
        "valve",
        "accessory",
        "switch",
        "glass",
        "",
    ]
    assert terms("Draft technical regulation: check valves (HS 8481.30)") == [
        "check",
        "valve",
        "check valve",
    ]


def test_search_ranks_the_heading_the_wording_reads_like():
    index = load_index()
    assert index.search("Pocket lighters, gas fuelled, non-refillable")[0].code == "961310"
    best = index.search("Brake linings and servo-brakes for motor vehicles")[0]
    assert best.code.startswith("8708") and {"brake", "vehicle"} <= set(best.words)
    assert index.search("Tricycles, scooters and similar wheeled toys")[0].code.startswith("9503")


def test_a_batch_retrieves_what_each_text_retrieves_alone():
    index = load_index()
    texts = ["Centrifugal pumps for liquids", "", "Men's shirts, knitted", "Gate valves for pipes"]
    assert index.search_many(texts, 5) == [index.search(t, 5) for t in texts]


def test_boilerplate_and_other_languages_retrieve_nothing():
    index = load_index()
    assert (
        index.search("Draft technical regulation: safety requirements, 24 pages, in English") == []
    )
    assert index.search("鞋类产品标签") == []


def test_the_query_reads_english_fields_and_the_head_of_the_description():
    r = rec(
        'Proyecto de Reglamento Técnico "Etiquetado de los productos"',
        products_text="Ball bearings",
        description="The draft covers bearings; roller bearings for machines. It sets penalties. "
        "Fines are in pesos.",
    )
    assert retrieval_query(r) == (
        "Ball bearings ; The draft covers bearings; ; roller bearings for machines."
    )


def test_the_forms_own_sentences_retrieve_nothing():
    index = load_index()
    eac = (
        "Burundi, Kenya, Rwanda, Tanzania and Uganda would like to inform WTO Members that the "
        "Draft East African Standard;"
    )
    assert index.search(eac) == []
    gulf = (
        "This regulation specifies the following: Terms and Definitions, Scope, Objectives, "
        "Supplier Obligations, Labelling, Conformity Assessment Procedures"
    )
    assert index.search(gulf) == []


def test_a_heading_named_only_in_product_words_reaches_the_analysts_queue(clf):
    # no phrase of the rules names bearings: the nomenclature does (8482, an auto-parts heading)
    r = rec("Ball bearings and roller bearings: dimensions and tolerances")
    ev = collect_evidence(clf.index, r)
    assert [v[:4] for v in retrieved(ev, "auto_moto_parts")] == ["8482"]
    assert ev.sectors["auto_moto_parts"].score == clf.rules.weights["hs_retrieved"]
    tiers = {m.sector: m.tier for m in clf.classify(r).sectors}
    assert "auto_moto_parts" in tiers
    reasons = next(m.reasons for m in clf.classify(r).sectors if m.sector == "auto_moto_parts")
    detail = next(x.detail for x in reasons if x.kind == ReasonKind.HS_RETRIEVED)
    assert detail["words"] == "ball, bearing"


def test_vehicle_words_alone_are_no_evidence_for_vehicle_parts(clf):
    # "motor vehicle" reads like 8708 (parts) as much as 8703 (cars): no word tells them apart
    for title in (
        "Motor vehicles: emergency call systems",
        "Electric vehicles safety requirements",
    ):
        ev = collect_evidence(clf.index, rec(title))
        assert retrieved(ev, "auto_moto_parts") == []


def test_the_notifiers_own_codes_elsewhere_overrule_the_resemblance(clf):
    title = "Transmission shafts and cranks"
    assert retrieved(collect_evidence(clf.index, rec(title)), "auto_moto_parts")
    coded = rec(title, hs_codes=["8418"])
    assert retrieved(collect_evidence(clf.index, coded), "auto_moto_parts") == []


def test_a_named_trap_of_the_sector_blocks_its_retrieved_evidence(clf):
    # 'cigarette lighter' reads like 9613, but a cigarette-lighter socket is a car part
    ev = collect_evidence(clf.index, rec("Cigarette lighter sockets and plugs for road vehicles"))
    assert retrieved(ev, "lighters") == []
    assert retrieved(collect_evidence(clf.index, rec("Cigarette lighters, refillable")), "lighters")


def test_batch_evidence_equals_one_record_evidence(clf):
    records = [
        rec("Ball bearings"),
        rec("Gate valves and check valves for water pipes"),
        rec("Feeding bottles"),
    ]
    many = collect_evidence_many(clf.index, records)
    one = [collect_evidence(clf.index, r) for r in records]
    assert [{s: (e.score, e.reasons) for s, e in ev.sectors.items()} for ev in many] == [
        {s: (e.score, e.reasons) for s, e in ev.sectors.items()} for ev in one
    ]


def test_products_that_read_like_another_heading_halve_weak_evidence(clf):
    # chapter 87 is vehicles and their parts; "electric vehicles" reads like 8703/8704 (cars, lorries)
    cars = rec("Electric vehicles: safety requirements", products_text="Electric vehicles (HS 87)")
    e = collect_evidence(clf.index, cars).sectors["auto_moto_parts"]
    against = [r for r in e.reasons if r.kind == ReasonKind.HS_RETRIEVED]
    assert [(r.value[:2], r.strength) for r in against] == [("87", "against")]
    assert not against[0].value.startswith("8708")
    assert e.score == clf.rules.weights["hs_weak"] / 2


def test_a_product_phrase_in_the_title_is_not_weighed_less(clf):
    parts = rec("Brake hoses for electric vehicles", products_text="Electric vehicles (HS 87)")
    e = collect_evidence(clf.index, parts).sectors["auto_moto_parts"]
    assert not [r for r in e.reasons if r.kind == ReasonKind.HS_RETRIEVED]
    assert e.score >= clf.rules.thresholds["alert"]


def test_a_weak_word_that_is_the_other_headings_word_counts_half(clf):
    # 'leather' (a weak word of footwear and leather) here describes 4202 bags, not 41xx or 64
    bags = rec("Handbags and travel bags with outer surface of leather")
    e = collect_evidence(clf.index, bags).sectors["footwear_leather"]
    against = [r for r in e.reasons if r.kind == ReasonKind.HS_RETRIEVED]
    assert [(r.value[:4], r.strength) for r in against] == [("4202", "against")]
    assert e.score == clf.rules.weights["weak_keyword"] / 2
    assert "footwear_leather" not in {m.sector for m in clf.classify(bags).sectors}


def test_a_phrase_with_words_the_heading_lacks_keeps_its_weight(clf):
    # "vehicle parts" names parts: 'part' is not a word of 8703/8704 (complete vehicles)
    r = rec(  # a title naming no product, yet not generic: the description's words stay light
        "Inspection procedures at the border",
        description="Applies to electric vehicles. Vehicle parts such as lamps are also covered.",
    )
    e = collect_evidence(clf.index, r).sectors["auto_moto_parts"]
    assert not [x for x in e.reasons if x.kind == ReasonKind.HS_RETRIEVED]
    assert e.score == clf.rules.weights["keyword_body"]


def test_a_title_naming_another_product_halves_a_sector_named_only_in_the_body(clf):
    # the title is about household washing machines (8450); the description says what they wash
    washers = rec(
        "Household washing machines - Methods for measuring the performance",
        description="Specifies methods for measuring the performance of electric clothes "
        "washing machines for household use, including the spin extraction of textiles.",
    )
    e = collect_evidence(clf.index, washers).sectors["apparel_textiles"]
    against = [r for r in e.reasons if r.kind == ReasonKind.HS_RETRIEVED]
    assert [(r.value[:4], r.strength) for r in against] == [("8450", "against")]
    assert e.score == clf.rules.weights["keyword_body"] / 2
    assert "apparel_textiles" not in clf.classify(washers).alerted()


def test_a_title_without_another_product_leaves_body_phrases_their_weight(clf):
    # same description, but the title names no product of its own
    r = rec(
        "Draft technical regulation (12 page(s), in Spanish)",
        description="Specifies labelling requirements for textiles sold to consumers.",
    )
    e = collect_evidence(clf.index, r).sectors["apparel_textiles"]
    assert not [x for x in e.reasons if x.kind == ReasonKind.HS_RETRIEVED]
    assert e.score >= clf.rules.weights["keyword_body"]
