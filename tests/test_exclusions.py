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
    return [norm[x.start : x.end].strip(" ,") for x in exclusion_spans(norm)]


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
        # full-width ； becomes ; and ends a Chinese sentence without a space after it
        ("本标准不适用于玩具；本标准适用于鞋类和服装。", ["玩具"]),
        # an opened part stops where the text turns back to what is covered
        ("Covers footwear excluding slippers, and textile products.", ["slippers"]),
        ("It does not apply to toys, but applies to textiles and footwear.", ["toys"]),
        ("本标准适用于服装，不包括玩具，也适用于鞋类。", ["玩具"]),
        # conditions are not exclusions
        ("Except as provided in Article 3, this regulation applies to toys.", []),
        ("Sauf indication contraire, les jouets doivent porter un marquage.", []),
        ("Footwear for children is exempt from the marking requirement.", []),
        ("Toys are excluded from Annex II only where they comply.", []),
        # Romance verb-first forms open the part when an article follows
        (
            "El reglamento se aplica al calzado de cuero y se excluyen los juguetes.",
            ["los juguetes"],
        ),
        ("Les jouets sont exclus.", ["les jouets"]),
        # a closing cue reaches back to its clause only
        ("Footwear is covered while toy footwear is excluded.", ["toy footwear"]),
        # 除外 inside other words is no cue
        ("儿童玩具除外观质量要求外还应符合本标准的规定。", []),
        ("电源适配器应能排除外部电磁干扰。", []),
        # a preposition after a closing cue is no article: the part is before it
        ("Les jouets sont exclus du champ d'application.", ["les jouets"]),
        ("Los juguetes quedan excluidos del ámbito.", ["los juguetes"]),
        # a cue is a whole word: 'exclusivement' is not 'exclus'
        ("Les chaussures pour enfants sont exclusivement visées.", []),
        # 'and' after what the sentence says is covered starts the excluded part
        ("Textiles are covered and toys are excluded.", ["toys"]),
        # Chinese turns back to the scope at 适用
        ("本标准不适用于玩具，适用于鞋类和服装。", ["玩具"]),
        # 'not covered by' a requirement is a condition; by this regulation, an exclusion
        ("Footwear is not covered by the labelling requirement of Article 5.", []),
        ("Toys are not covered by this regulation.", ["toys"]),
        ("It does not concern toys.", ["toys"]),
        ("No se aplican a los juguetes.", ["los juguetes"]),
        # 'No.' ends no sentence
        (
            "It does not apply to products under Resolution No. 12 and toys.",
            ["products under resolution no. 12 and toys"],
        ),
    ],
)
def test_exclusion_spans(text: str, parts: list[str]) -> None:
    assert excluded(text) == parts


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def rec(title: str, description: str, **kw: object) -> CanonicalRecord:
    return CanonicalRecord(
        symbol="G/TBT/N/XXX/1", member="Test", title=title, description=description, **kw
    )


def test_a_product_named_as_excluded_gives_no_alert(clf: Classifier) -> None:
    record = rec(
        "Portaria 301/2025 - Óculos de sol e armações: avaliação da conformidade",
        (
            "Compulsory certification of sunglasses and spectacle frames. Toy glasses are "
            "subject to the toy regulation and are excluded."
        ),
        hs_codes=["90"],
    )
    result = clf.classify(record)
    assert "eyewear" in result.alerted()
    assert "toys_playground" not in result.alerted()


def test_the_excluded_phrase_is_shown_with_its_cue(clf: Classifier) -> None:
    record = rec(
        "Safety of mattresses: flammability labelling",
        (
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
    record = rec(
        "Technical regulation No. 45/2025",
        (
            "The regulation covers solenoid valves and submersible pumps for irrigation. "
            "It does not apply to heat pumps or medical infusion devices."
        ),
    )
    assert "pumps_valves" in clf.classify(record).alerted()


def test_a_long_hostile_text_is_read_only_so_far() -> None:
    """Exclusions are read in the first MAX_SCAN characters, at most MAX_CUES of them, each part
    at most MAX_PART long: a field of hundreds of thousands of characters cannot make the
    classifier slow."""
    from tbt_alert.text import exclusions

    text = normalise_text("toys, balloons are excluded, " * 8000)
    spans = exclusion_spans(text)
    assert 0 < len(spans) <= exclusions.MAX_CUES
    assert all(x.end <= exclusions.MAX_SCAN for x in spans)
    assert all(x.end - x.start <= exclusions.MAX_PART for x in spans)


@pytest.mark.parametrize(
    "text",
    [
        "It does not apply to toys.", "It shall not apply to toys.",
        "It is not applicable to toys.", "It does not cover toys.", "All, excluding toys.",
        "All, except for toys.", "All, with the exception of toys.", "All, not including toys.",
        "The toys are excluded.", "The toys are not covered.", "The toys are not included.",
        "The toys fall outside the scope.", "No se aplica a los juguetes.",
        "Todo, con excepción de los juguetes.", "Se excluyen los juguetes.",
        "Quedan excluidos los juguetes.", "Il ne s'applique pas aux jouets.",
        "Tout, à l'exception des jouets.", "Les jouets sont exclus.",
        "Les jouets ne sont pas concernés.", "Não se aplica aos brinquedos.",
        "Tudo, com exceção dos brinquedos.", "Ficam excluídos os brinquedos.", "不适用于玩具。",
        "所有产品，不包括玩具。", "玩具除外。", "Todo, sin incluir los juguetes.",
        "Tout, hormis les jouets.", "No comprende los juguetes.", "Il ne couvre pas les jouets.",
        "Il ne concerne pas les jouets.", "Excluem-se os brinquedos.",
        "Os brinquedos não são abrangidos.", "玩具不包括在内。", "It does not concern toys.",
        "No se aplican a los juguetes.", "Est exclu le jouet.", "Tudo, exceto os brinquedos.",
    ],
)  # fmt: skip
def test_each_cue_is_found_past_the_quick_check(text: str) -> None:
    """A text holding none of the quick check's stems is not scanned, and a cue whose first
    character is not in _FIRST is never tried: each cue must pass both."""
    assert exclusion_spans(normalise_text(text)), text


def test_a_phrase_counted_elsewhere_is_not_also_shown_as_not_counted(clf: Classifier) -> None:
    record = rec(
        "Technical regulation No. 9/2025",
        ("The regulation covers footwear and its labelling. Footwear for infants is excluded."),
    )
    reasons = next(
        m.reasons for m in clf.classify(record).sectors if m.sector == "footwear_leather"
    )
    assert any(r.kind == ReasonKind.PHRASE and r.value == "footwear" for r in reasons)
    assert not any(r.kind == ReasonKind.VETO and r.value == "footwear" for r in reasons)


def test_a_trigger_inside_an_exclusion_still_speaks(clf: Classifier) -> None:
    from tbt_alert.classify.evidence import _drop_excluded, _field_texts

    record = rec(
        "Regulation No. 3",
        "It covers toys, excluding those containing phthalates.",
    )
    texts = _field_texts(record)
    hits = {name: clf.index.matcher.find(text) for name, text in texts.items()}
    _drop_excluded(texts, hits, clf.index)
    assert "phthalates" in {h.phrase for h in hits["description"]}
