"""Evaluation: scoring arithmetic, the fixed held-out split, and a small end-to-end run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbt_alert.classify.classifier import load_classifier
from tbt_alert.classify.evaluate import (
    SYSTEMS,
    Tally,
    dev_errors,
    is_test,
    run,
    score_external,
    summary,
    wilson,
)
from tbt_alert.errors import TbtAlertError

DATA = Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"


def test_tally_and_summary() -> None:
    t = Tally()
    t.add({"a"}, {"a", "b"}, ["a", "b"])  # tp a, fp b
    t.add({"b"}, set(), ["a", "b"])  # fn b
    t.add(set(), {"a"}, ["a", "b"])  # fp a, false alarm
    t.add(set(), set(), ["a", "b"])
    res = summary(dict.fromkeys(SYSTEMS, t), ["a", "b"])["combined"]
    p, r, _f, n = res["per_sector"]["a"]
    assert (p, r, n) == (0.5, 1.0, 1)
    assert res["per_sector"]["b"][:2] == (0.0, 0.0)
    assert res["false_alarm_rate"] == 0.5
    assert res["micro"][0] == pytest.approx(1 / 3)


def test_test_part_is_fixed_and_about_a_third() -> None:
    symbols = [f"G/TBT/N/EU/{i}" for i in range(600)]
    share = sum(map(is_test, symbols)) / len(symbols)
    assert 0.28 < share < 0.39
    assert is_test("G/TBT/N/EU/7") == is_test("G/TBT/N/EU/7")


def test_wilson_interval() -> None:
    lo, hi = wilson(16, 19)
    assert lo == pytest.approx(0.624, abs=0.002) and hi == pytest.approx(0.945, abs=0.002)
    assert wilson(0, 24)[0] == 0.0 and wilson(0, 24)[1] == pytest.approx(0.138, abs=0.002)
    assert wilson(0, 0) == (0.0, 1.0)


def test_run_reports_both_parts_with_intervals() -> None:
    text, figures = run(load_classifier(), DATA, folds=3, repeats=1)
    for name in SYSTEMS:
        assert name in text
    assert "Development part" in text and "Test part" in text and "95% CI" in text
    dev = figures["dev_part"]
    assert dev["systems"]["combined"]["micro"][1] >= 1.5 * dev["systems"]["hs_only"]["micro"][1]
    assert figures["test"] > 30 and figures["dev"] > 60
    head = figures["test_part"]["headline"]
    for key in ("precision", "recall", "false_alarm_rate", "queue_recall"):
        assert head[key]["low"] <= head[key]["value"] <= head[key]["high"]


def test_errors_refuse_the_test_part() -> None:
    with pytest.raises(TbtAlertError, match="development part only"):
        dev_errors(load_classifier(), DATA, part="test")


def _rec(symbol: str, title: str, gold: list[str], **extra: object) -> str:
    import json

    data = {"symbol": symbol, "member": "Kenya", "title": title, "gold_sectors": gold}
    return json.dumps({**data, **extra}, ensure_ascii=False)


def test_an_external_set_is_scored_as_shipped_with_in_file_parents(tmp_path: Path) -> None:
    """Made-up records: a footwear regulation, its thin addendum (which inherits it), a food
    standard, and a record labelled footwear that names nothing (a miss the errors must show)."""
    gold = tmp_path / "set.jsonl"
    gold.write_text(
        "\n".join(
            [
                _rec(
                    "G/TBT/N/KEN/9001",
                    "DKS 2950:2026, Leather safety shoes and sandals - Specification",
                    ["footwear_leather"],
                    hs_codes=["6403"],
                ),
                _rec("G/TBT/N/KEN/9001/Add.1", "Adoption of the final text", ["footwear_leather"]),
                _rec("G/TBT/N/KEN/9002", "DKS 88:2026, Honey - Specification", []),
                _rec("G/TBT/N/KEN/9003", "Notice of entry into force", ["footwear_leather"]),
                _rec("G/TBT/N/KEN/9004", "Borderline", ["apparel_textiles"], ambiguous=True),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    text, figures, errors = score_external(load_classifier(), gold, list_errors=True)
    head = figures["external"]["headline"]
    assert figures["records"] == 4  # the ambiguous record is left out
    assert (head["recall"]["k"], head["recall"]["n"]) == (2, 3)
    assert (head["false_alarm_rate"]["k"], head["false_alarm_rate"]["n"]) == (0, 1)
    assert [(e.symbol, e.missed) for e in errors] == [("G/TBT/N/KEN/9003", ("footwear_leather",))]
    assert "set.jsonl (4 records" in text and "95% CI" in text


def test_an_external_set_with_unknown_sectors_is_refused(tmp_path: Path) -> None:
    gold = tmp_path / "set.jsonl"
    gold.write_text(_rec("G/TBT/N/KEN/1", "Shoes", ["shoes"]) + "\n", encoding="utf-8")
    with pytest.raises(TbtAlertError, match=r"unknown sector id.*shoes"):
        score_external(load_classifier(), gold)


def test_an_external_set_links_parents_on_earlier_lines_only(tmp_path: Path) -> None:
    gold = tmp_path / "set.jsonl"
    shoes = ["footwear_leather"]
    lines = [
        # an addendum listed before its parent is scored without it, as classify would
        _rec("G/TBT/N/KEN/9011/Add.1", "Adoption of the final text", shoes),
        _rec("G/TBT/N/KEN/9011", "Leather safety shoes - Specification", shoes, hs_codes=["6403"]),
        # a parent left out of scoring (ambiguous) is still a parent
        _rec("G/TBT/N/KEN/9012", "Leather sandals - Specification", shoes, ambiguous=True),
        _rec("G/TBT/N/KEN/9012/Add.1", "Adoption of the final text", shoes),
    ]
    gold.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, _, errors = score_external(load_classifier(), gold, list_errors=True)
    assert [e.symbol for e in errors] == ["G/TBT/N/KEN/9011/Add.1"]


def test_an_external_line_without_gold_sectors_is_refused(tmp_path: Path) -> None:
    gold = tmp_path / "set.jsonl"
    gold.write_text(
        _rec("G/TBT/N/KEN/1", "Shoes", ["footwear_leather"])
        + "\n"
        + '{"symbol": "G/TBT/N/KEN/2", "member": "Kenya", "title": "Honey"}\n',
        encoding="utf-8",
    )
    with pytest.raises(TbtAlertError, match=r"set.jsonl:2: each line needs 'gold_sectors'"):
        score_external(load_classifier(), gold)
