"""Every phrase that matches exactly one labelled record carries a domain reason (``why``)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

from tbt_alert.classify.evidence import BODY_FIELDS, TITLE_FIELDS, build_index
from tbt_alert.classify.rules import load_rules, parse_rules
from tbt_alert.classify.textmodel import DATA_DIR
from tbt_alert.errors import RulesError
from tbt_alert.record import parse_record
from tbt_alert.text.phrases import normalise_text, phrase_key

ROOT = Path(__file__).resolve().parent.parent


def records_per_phrase() -> dict[str, set[int]]:
    index = build_index(load_rules())
    lines = (DATA_DIR / "labelled.jsonl").read_text("utf-8").splitlines()
    found: dict[str, set[int]] = defaultdict(set)
    for i, line in enumerate(lines):
        record = parse_record(json.loads(line))
        for name in TITLE_FIELDS + BODY_FIELDS:
            for hit in index.matcher.find(normalise_text(getattr(record, name))):
                found[hit.phrase].add(i)
    return found


def test_every_single_record_phrase_has_a_reason() -> None:
    rules = load_rules()
    explained = {phrase_key(p) for why in rules.why.values() for p in why}
    single = sorted(p for p, recs in records_per_phrase().items() if len(recs) == 1)
    assert single, "the check must see some phrases"
    assert [p for p in single if p not in explained] == []


def test_why_must_name_a_phrase_of_its_entry() -> None:
    data = {
        "sectors": [
            {
                "id": "toys",
                "name_en": "Toys",
                "name_zh": "玩具",
                "priority": "core",
                "keywords_en": ["toys"],
                "why": {"dolls": "made up"},
            }
        ]
    }
    with pytest.raises(RulesError, match="'why' names phrase"):
        parse_rules(data, Path("x.yaml"))
    data["sectors"][0]["why"] = {"toys": ""}
    with pytest.raises(RulesError, match="non-empty reasons"):
        parse_rules(data, Path("x.yaml"))


def test_rules_changelog_has_a_line_per_version() -> None:
    log = (ROOT / "rules" / "CHANGELOG.md").read_text("utf-8")
    assert f"## {load_rules().version}" in log
