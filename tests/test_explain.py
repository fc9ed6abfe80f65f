import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tbt_alert.classify.classifier import load_classifier
from tbt_alert.mail.explain import explain, known
from tbt_alert.record import parse_record

NAMES = {"footwear_leather": ("Footwear and leather", "鞋革")}


@pytest.mark.parametrize(
    ("reason", "zh", "en"),
    [
        (
            "HS 6403 (strong match for footwear_leather, prefix 64)",
            "HS编码 6403（直接对应 64）",
            "HS code 6403 (strong match with Footwear and leather, 64)",
        ),
        (
            "phrase 'safety footwear' in title",
            "标题含“safety footwear”",
            "'safety footwear' in the title",
        ),
        (
            "negative phrase 'brake shoes' vetoed 'shoes'",
            "“shoes”不计：文中为“brake shoes”",
            "'shoes' not counted: the text says 'brake shoes'",
        ),
        ("measure kind: labelling", "措施类型：标签标识", "kind of measure: labelling"),
        ("model score 0.93", "文本模型置信度 93%", "text model confidence 93%"),
        (
            "inherited from parent G/TBT/N/EU/1: phrase 'shoes' in title",
            "原通报 G/TBT/N/EU/1：标题含“shoes”",
            "from G/TBT/N/EU/1: 'shoes' in the title",
        ),
    ],
)
def test_reasons_read_naturally_in_both_languages(reason, zh, en):
    assert explain([reason], "zh", NAMES) == [zh]
    assert explain([reason], "en", NAMES) == [en]


def test_internal_scores_are_dropped_and_unknown_reasons_kept():
    assert explain(["rule score 7", "3 points"], "zh", NAMES) == []
    assert explain(["something new"], "zh", NAMES) == ["something new"]


def test_every_reason_the_classifier_gives_on_the_real_data_has_a_readers_wording():
    path = (
        Path(__file__).resolve().parent.parent
        / "tbt_alert"
        / "classify"
        / "data"
        / "labelled.jsonl"
    )
    records = [parse_record(json.loads(line)) for line in path.read_text("utf-8").splitlines()]
    results = load_classifier().classify_many(records, None, datetime(2026, 11, 26, tzinfo=UTC))
    reasons = {r for c in results for s in c.sectors for r in (*s.reasons, *s.risk.reasons)}
    assert len(reasons) > 50
    unknown = sorted(r for r in reasons if not known(r))
    assert unknown == []
