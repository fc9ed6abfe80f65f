"""Evaluation: scoring arithmetic, the fixed held-out split, and a small end-to-end run."""

from __future__ import annotations

from pathlib import Path

import pytest

from tbt_alert.classify.classifier import load_classifier
from tbt_alert.classify.evaluate import SYSTEMS, Tally, is_held_out, run, summary

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


def test_held_out_split_is_fixed_and_about_a_quarter() -> None:
    symbols = [f"G/TBT/N/EU/{i}" for i in range(400)]
    share = sum(map(is_held_out, symbols)) / len(symbols)
    assert 0.18 < share < 0.32
    assert is_held_out("G/TBT/N/EU/7") == is_held_out("G/TBT/N/EU/7")


def test_run_reports_all_systems_and_beats_hs_baseline() -> None:
    text, figures = run(load_classifier(), DATA, folds=3, repeats=1)
    for name in SYSTEMS:
        assert name in text
    cv = figures["cross_validation"]
    assert cv["combined"]["micro"][1] >= 1.5 * cv["hs_only"]["micro"][1]
    assert "Held-out part" in text and figures["held"] > 20
