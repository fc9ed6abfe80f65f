"""The frozen dev/test split: the committed file equals the rule, and training keeps the test out."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tbt_alert.classify.split import SPLIT_PATH, load_split, part_of
from tbt_alert.classify.textmodel import DATA_DIR

LABELLED = DATA_DIR / "labelled.jsonl"


def rule(symbol: str) -> str:
    """The rule, written out again independently of the module under test."""
    first = hashlib.sha256(("tbt-alert/split/v2:" + symbol).encode()).digest()[0]
    return "test" if first % 3 == 0 else "dev"


def test_committed_split_equals_the_rule_over_the_labelled_symbols() -> None:
    symbols = [json.loads(line)["symbol"] for line in LABELLED.read_text("utf-8").splitlines()]
    committed = json.loads(Path(SPLIT_PATH).read_text("utf-8"))
    assert committed == {s: rule(s) for s in symbols}
    assert load_split() == committed


def test_part_of_is_the_rule() -> None:
    for symbol in ("G/TBT/N/EU/1097", "G/TBT/N/CHN/1792", "NOSYMBOL-001", "G/TBT/N/USA/1/Add.1"):
        assert part_of(symbol) == rule(symbol)


def test_both_parts_are_used() -> None:
    parts = list(load_split().values())
    assert 0.25 < parts.count("test") / len(parts) < 0.42


def test_training_leaves_the_test_part_out(monkeypatch) -> None:
    from tbt_alert.classify import textmodel

    seen: list[str] = []

    def fake_train(examples, sector_ids, meta=None, rules=None, index=None):
        seen.extend(e.record.symbol for e in examples)
        return meta

    monkeypatch.setattr(textmodel, "train_model", fake_train)
    meta = textmodel.build_default_model(["toys_playground"])
    test = {s for s, p in load_split().items() if p == "test"}
    assert seen and not (set(seen) & test)
    assert meta["test_part_left_out"] > 30
