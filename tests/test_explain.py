"""Reasons are data, worded per language from one catalogue; nothing parses a sentence back."""

import json
from datetime import date
from pathlib import Path

import pytest

from tbt_alert.classify.classifier import load_classifier
from tbt_alert.classify.reasons import Reason, ReasonKind, reason_from_json
from tbt_alert.mail.explain import explain
from tbt_alert.mail.wording import CATALOGUE, INTERNAL, entry_key, word, worded
from tbt_alert.record import parse_record

NAMES = {"footwear_leather": ("Footwear and leather", "鞋革")}
K = ReasonKind


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        (
            Reason(K.HS, "6403", "footwear_leather", strength="strong", detail={"prefix": "64"}),
            "HS编码 6403（直接对应 64）",
            "HS code 6403 (strong match with Footwear and leather, 64)",
        ),
        (
            Reason(K.PHRASE, "safety footwear", "footwear_leather", "title", "strong"),
            "标题含“safety footwear”",
            "'safety footwear' in the title",
        ),
        (
            Reason(K.VETO, "shoes", "footwear_leather", "title", detail={"by": "brake shoes"}),
            "“shoes”不计：文中为“brake shoes”",
            "'shoes' not counted: the text says 'brake shoes'",
        ),
        (
            Reason(K.CROSS, "toys", "toys_playground", "products_text", detail={"trigger": "lead"}),
            "产品范围中“lead”与产品词“toys”同时出现",
            "'lead' together with 'toys' in the products covered",
        ),
        (
            Reason(
                K.HS_RETRIEVED,
                "848210",
                "auto_moto_parts",
                detail={"words": "ball, bearing", "similarity": "0.52"},
            ),
            "产品描述与HS 848210 的品目描述相近（共有词：ball, bearing）",
            "the products read like HS 848210 (shared words: ball, bearing)",
        ),
        (
            Reason(
                K.HS_RETRIEVED,
                "420292",
                "footwear_leather",
                strength="against",
                detail={"words": "leather, travel, bag", "similarity": "0.48"},
            ),
            "证据权重降低：产品描述更接近本行业以外的HS 420292（共有词：leather, travel, bag）",
            "evidence weighed less: the products read like HS 420292, outside Footwear and leather"
            " (shared words: leather, travel, bag)",
        ),
        (Reason(K.MEASURE_KIND, "labelling"), "措施类型：标签标识", "kind of measure: labelling"),
        (
            Reason(K.MODEL, "0.93", "footwear_leather"),
            "文本模型置信度 93%",
            "text model confidence 93%",
        ),
        (
            Reason(K.MARKET, "EU", strength="major"),
            "温州出口主要市场（EU）",
            "major market for Wenzhou exports (EU)",
        ),
        (
            Reason(K.PHRASE, "shoes", "footwear_leather", "title").inherited("G/TBT/N/EU/1"),
            "原通报 G/TBT/N/EU/1：标题含“shoes”",
            "from G/TBT/N/EU/1: 'shoes' in the title",
        ),
    ],
)
def test_reasons_read_naturally_in_both_languages(reason, zh, en):
    assert explain([reason], "zh", NAMES) == [zh]
    assert explain([reason], "en", NAMES) == [en]
    # the stored JSON reads back to the same reason and the same words
    stored = json.loads(json.dumps(reason.to_json()))
    assert reason_from_json(stored) == reason
    assert explain([stored], "en", NAMES) == [en]


def test_internal_scores_are_for_analysts_only():
    score = Reason(K.RULE_SCORE, "7", "footwear_leather")
    assert explain([score], "zh", NAMES) == []
    assert explain([score.to_json()], "en", NAMES, internal=True) == ["rule score 7"]


def test_old_sentence_reasons_still_display_as_legacy_text():
    stored = ["HS 6403 (strong match for footwear_leather)", "EU: main footwear market"]
    assert [r.kind for r in map(reason_from_json, stored)] == [K.LEGACY, K.LEGACY]
    assert explain(stored, "zh", NAMES) == stored  # shown as they are, never parsed
    assert explain(stored, "en", NAMES) == stored


def test_a_stored_reason_of_an_unknown_kind_is_an_error_not_text():
    with pytest.raises(ValueError):
        reason_from_json({"kind": "astrology", "value": "x"})


def test_every_kind_and_variant_has_wording_in_both_languages():
    keys = set(CATALOGUE) | set(INTERNAL)
    assert all(worded(k) for k in keys)
    bare = {k.split(".")[0] for k in keys}
    assert {k.value for k in ReasonKind} == bare


def test_every_reason_the_classifier_gives_on_the_real_data_is_worded():
    path = (
        Path(__file__).resolve().parent.parent
        / "tbt_alert"
        / "classify"
        / "data"
        / "labelled.jsonl"
    )
    records = [parse_record(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
    results = load_classifier().classify_many(records, None)
    today = date(2026, 11, 26)
    reasons = [
        r for c in results for s in c.sectors for r in (*s.reasons, *s.risk.at(today).reasons)
    ]
    reasons += [r for c in results for r in c.horizontal_reasons]
    kinds = {r.kind for r in reasons}
    assert len(kinds) >= 10
    for reason in reasons:
        assert entry_key(reason) in CATALOGUE or entry_key(reason) in INTERNAL
        for lang in ("zh", "en"):
            text = word(reason, lang, NAMES, internal=True)
            assert text and "?" not in text.replace(reason.value, ""), (reason, text)
