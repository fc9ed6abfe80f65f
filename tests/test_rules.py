"""Rules file loading and validation: errors name the file and the entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tbt_alert.classify.rules import DEFAULT_RULES_PATH, load_rules
from tbt_alert.errors import RulesError


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text(encoding="utf-8"))
    mutate(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_bundled_rules_load() -> None:
    rules = load_rules()
    assert set(rules.core_ids) == {
        "footwear_leather",
        "apparel_textiles",
        "low_voltage_electrical",
        "pumps_valves",
        "auto_moto_parts",
        "eyewear",
        "lighters",
        "toys_playground",
    }
    assert rules.sector("lighters").hs == ("9613", "360610")
    assert "heat pumps" in rules.sector("pumps_valves").negatives
    assert {c.id for c in rules.cross_cutting} >= {
        "chemicals_in_articles",
        "general_product_safety",
        "ecodesign_energy",
        "conformity_assessment_schemes",
    }
    assert [c.id for c in rules.cross_cutting if c.no_sector] == ["no_sector_fields"]


def _sector(data, sid):
    return next(s for s in data["sectors"] if s["id"] == sid)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: _sector(d, "eyewear").update(keywords_de=["Brille"]),
            ["sector 'eyewear'", "unknown key", "keywords_de"],
        ),
        (
            lambda d: _sector(d, "lighters").update(hs=["9613", "96.13"]),
            ["sector 'lighters'", "malformed HS code '96.13'"],
        ),
        (
            lambda d: _sector(d, "lighters").update(hs=["961"]),
            ["sector 'lighters'", "malformed HS code '961'"],
        ),
        (
            lambda d: _sector(d, "eyewear").update(ics=["11.40.70"]),
            ["sector 'eyewear'", "malformed ICS code '11.40.70'"],
        ),
        (
            lambda d: _sector(d, "eyewear").update(priority="urgent"),
            ["sector 'eyewear'", "priority"],
        ),
        (
            lambda d: d["sectors"].append(dict(_sector(d, "eyewear"))),
            ["duplicate sector id", "eyewear"],
        ),
        (
            lambda d: d["cross_cutting"][0]["fan_out"].update(shoes=["no_such_sector"]),
            ["cross_cutting 'chemicals_in_articles'", "no_such_sector"],
        ),
        (
            lambda d: d["cross_cutting"][-1].update(fan_out={"masks": ["apparel_textiles"]}),
            ["cross_cutting 'no_sector_fields'", "'no_sector' entry", "no 'fan_out'"],
        ),
        (lambda d: d.update(colour="blue"), ["top level", "colour"]),
        (
            lambda d: d["thresholds"].update(alert="high"),
            ["thresholds", "'alert' must be a number"],
        ),
        (lambda d: d["weights"].pop("hs_strong"), ["weights", "missing", "hs_strong"]),
    ],
)
def test_invalid_rules_name_file_and_entry(tmp_path: Path, mutate, expected: list[str]) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(RulesError) as err:
        load_rules(path)
    message = str(err.value)
    assert str(path) in message
    for part in expected:
        assert part in message


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("sectors: [\n", encoding="utf-8")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(bad)
