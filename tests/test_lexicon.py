"""The HS 2022 nomenclature as a lexicon: quoted descriptions belong to their code (made-up records)."""

from __future__ import annotations

import csv

import pytest

from tbt_alert.classify.classifier import Classifier, load_classifier
from tbt_alert.classify.reasons import ReasonKind
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.lexicon import DATA, content_words, quoted_descriptions

CASES = (
    "Trunks, suit-cases, vanity-cases, executive-cases, brief-cases, school satchels and similar "
    "containers, with outer surface of leather or of composition leather"
)


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def test_bundled_table_has_the_2022_nomenclature_and_its_provenance() -> None:
    with DATA.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 6940
    assert sum(1 for r in rows if r["level"] == "6") > 5600
    provenance = (DATA.parent / "hs2022.PROVENANCE.md").read_text("utf-8")
    assert "ODC-PDDL" in provenance and "UN Comtrade" in provenance


def test_content_words() -> None:
    assert content_words("Trunks and suit-cases, of leather") == {
        "trunk",
        "suit",
        "case",
        "leather",
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (CASES, "420211"),
        (
            "Footwear with outer soles of rubber, plastics, leather or composition leather and "
            "uppers of textile materials (HS 6404); other footwear",
            "6404",
        ),
        (
            "Motor cars and other motor vehicles principally designed for the transport of persons, "
            "including station wagons and racing cars",
            "8703",
        ),
    ],
)
def test_quoted_description_is_attributed_to_its_code(text: str, code: str) -> None:
    quotes = quoted_descriptions(text.lower())
    assert [q.code for q in quotes][:1] == [code]
    assert quotes[0].start == 0 and quotes[0].shared >= 4


@pytest.mark.parametrize(
    "text",
    [
        "Toys for children: safety requirements",
        "Leather footwear and textile clothing for children",  # words, no quotation
        "",
    ],
)
def test_ordinary_text_quotes_nothing(text: str) -> None:
    assert quoted_descriptions(text.lower()) == []


def test_code_outweighs_words_quoted_from_its_description(clf: Classifier) -> None:
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/2",
        member="Test",
        title="Technical regulation on travel goods",
        products_text=CASES + " (HS 4202.11)",
        hs_codes=["4202.11"],
    )
    result = clf.classify(record)
    assert "footwear_leather" not in result.alerted()
    assert "bags_luggage" in {m.sector for m in result.sectors}
    reasons = [r for m in result.sectors for r in m.reasons]
    assert not any(
        r.value == "leather" and r.sector == "footwear_leather" and r.kind == ReasonKind.PHRASE
        for r in reasons
    )


def test_quoted_description_alone_gives_its_code(clf: Classifier) -> None:
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/3",
        member="Test",
        title="Labelling requirements",
        products_text="Footwear with outer soles of rubber, plastics, leather or composition "
        "leather and uppers of textile materials",
    )
    result = clf.classify(record)
    assert "footwear_leather" in result.alerted()
    assert "apparel_textiles" not in result.alerted()
    reasons = next(m.reasons for m in result.sectors if m.sector == "footwear_leather")
    assert any(
        r.kind == ReasonKind.HS and r.value == "6404" and r.detail.get("why") == "quoted"
        for r in reasons
    )


def _best_by_every_candidate(segment: str) -> tuple[str, int] | None:
    """Lexicon.best without its bound on candidates: every description sharing two rare words."""
    from tbt_alert.text import lexicon as lx

    lex = lx.load_lexicon()
    seg = content_words(segment)
    if len(seg) < lx.MIN_SHARED:
        return None
    rare: dict[str, int] = {}
    for w in seg:
        codes = lex.postings.get(w, ())
        if len(codes) <= lx.MAX_POSTINGS:
            for c in codes:
                rare[c] = rare.get(c, 0) + 1
    keys = []
    for code, n in rare.items():
        desc = lex.words[code]
        shared = len(seg & desc)
        enough = shared >= lx.MIN_SHARED and shared >= lx.MIN_SEGMENT_SHARE * len(seg)
        if n >= 2 and enough and shared >= lx.MIN_DESCRIPTION_SHARE * len(desc):
            keys.append((shared / len(seg | desc), len(code), code, shared))
    return (max(keys)[2], max(keys)[3]) if keys else None


@pytest.mark.parametrize(
    "segment",
    [
        CASES,
        "footwear with outer soles and uppers of rubber or plastics, waterproof",
        "electrical apparatus for switching or protecting electrical circuits, for a voltage "
        "not exceeding 1000 volts, fuses, switches, relays, plugs and sockets",
        "taps, cocks, valves and similar appliances for pipes, boiler shells, tanks or vats",
        "parts and accessories of the motor vehicles of headings 8701 to 8705, brakes",
        "safety of children's toys and playground equipment made of plastics and wood",
        "articles of apparel and clothing accessories, knitted or crocheted, of cotton",
    ],
)
def test_best_passes_over_no_candidate_that_could_win(segment: str) -> None:
    from tbt_alert.text.lexicon import load_lexicon

    assert load_lexicon().best(segment) == _best_by_every_candidate(segment)
