"""What a notification's scope leaves out is no evidence of what it covers (made-up texts)."""

from __future__ import annotations

import pytest

from tbt_alert.classify.classifier import Classifier, load_classifier
from tbt_alert.classify.reasons import ReasonKind
from tbt_alert.mail.wording import CATALOGUE, entry_key
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.exclusions import exclusion_spans
from tbt_alert.text.phrases import normalise_text


def excluded(text: str) -> list[str]:
    norm = normalise_text(text)
    return [norm[x.start : x.end].strip() for x in exclusion_spans(norm)]


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        # a cue that opens the excluded part runs to the sentence's end
        (
            "The standard applies to footwear. It does not apply to toy footwear. Marking.",
            ["toy footwear"],
        ),
        ("Sunglasses (it does not apply to toy glasses) and frames.", ["toy glasses"]),
        (
            "Se excluyen el calzado ortopédico y el calzado de juguete.",
            ["el calzado ortopédico y el calzado de juguete"],
        ),
        ("Le règlement ne s'applique pas aux jouets; il vise les briquets.", ["aux jouets"]),
        ("O regulamento não se aplica a brinquedos.", ["a brinquedos"]),
        ("本标准不适用于玩具。", ["玩具"]),
        # a cue that closes it reaches back to its clause's start only
        ("Mattresses are covered, bed linen and towels are not covered.", ["bed linen and towels"]),
        (
            "Sunglasses for general use (filters for direct observation of the sun are excluded).",
            ["filters for direct observation of the sun"],
        ),
        ("适用于所有货物，但玩具除外。", ["玩具"]),
        # said first, a closing cue opens the part
        (
            "Sont exclus les jouets et les articles de puériculture.",
            ["les jouets et les articles de puériculture"],
        ),
        # no cue, no exclusion; a cue inside a word is no cue
        ("Footwear shall be labelled with its upper material.", []),
        ("The exceptional circumstances of toy recalls.", []),
    ],
)
def test_exclusion_spans(text: str, parts: list[str]) -> None:
    assert excluded(text) == parts


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def test_a_product_named_as_excluded_gives_no_alert(clf: Classifier) -> None:
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/1",
        member="Test",
        title="Portaria 301/2025 - Óculos de sol e armações: avaliação da conformidade",
        description=(
            "Compulsory certification of sunglasses and spectacle frames. Toy glasses are "
            "subject to the toy regulation and are excluded."
        ),
        hs_codes=["90"],
    )
    result = clf.classify(record)
    assert "eyewear" in result.alerted()
    assert "toys_playground" not in result.alerted()


def test_the_excluded_phrase_is_shown_with_its_cue(clf: Classifier) -> None:
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/2",
        member="Test",
        title="Safety of mattresses: flammability labelling",
        description=(
            "Mattresses with textile ticking must carry a label. Bed linen and mattress "
            "protectors are not covered."
        ),
    )
    result = clf.classify(record)
    assert "apparel_textiles" not in result.alerted()
    reasons = next(m.reasons for m in result.sectors if m.sector == "apparel_textiles")
    vetoes = [r for r in reasons if r.kind == ReasonKind.VETO]
    assert [(r.value, r.detail["by"]) for r in vetoes] == [("bed linen", "are not covered")]
    assert entry_key(vetoes[0]) in CATALOGUE


def test_the_covered_products_still_count_beside_an_exclusion(clf: Classifier) -> None:
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/3",
        member="Test",
        title="Technical regulation No. 45/2025",
        description=(
            "The regulation covers solenoid valves and submersible pumps for irrigation. "
            "It does not apply to heat pumps or medical infusion devices."
        ),
    )
    assert "pumps_valves" in clf.classify(record).alerted()


def test_every_cue_holds_a_stem_of_the_quick_check() -> None:
    """A text with none of the stems is not scanned: a cue without one would never be found."""
    from tbt_alert.text import exclusions

    for cue in exclusions._OPENING + exclusions._CLOSING:
        assert any(stem in cue for stem in exclusions._STEMS), cue
