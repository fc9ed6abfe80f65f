"""Phrase matching: boundaries, separators, Chinese substrings, traditional characters."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbt_alert.text.phrases import PhraseMatcher, normalise_text, to_simplified

M = PhraseMatcher(
    [
        "pumps",
        "heat pumps",
        "low voltage",
        "vis",
        "锁",
        "锁定",
        "鞋类标签",
        "cr(vi)",
        "étiquetage des chaussures",
        "calzado",
        "PU革",
    ]
)


def found(text: str) -> list[str]:
    return [h.phrase for h in M.find(normalise_text(text))]


@pytest.mark.parametrize(
    ("text", "phrases"),
    [
        ("Water PUMPS", ["pumps"]),
        ("Heat-pumps", ["heat pumps", "pumps"]),  # overlapping hits: the veto needs both
        ("low-voltage and low  voltage", ["low voltage", "low voltage"]),
        ("visas and revision", []),  # 'vis' only as a word
        ("Vis à tête hexagonale", ["vis"]),
        ("数据锁定", ["锁定"]),  # the longer phrase at that position, never the bare 锁
        ("电子门锁", ["锁"]),
        ("鞋類標簽的技術法規", ["鞋类标签"]),  # traditional characters
        ("Cr(VI) in leather", ["cr(vi)"]),
        ("Étiquetage des chaussures", ["étiquetage des chaussures"]),
        ("Etiquetado de Calzado", ["calzado"]),
        ("ＰＵ革", ["pu革"]),  # full-width letters
    ],
)
def test_find(text: str, phrases: list[str]) -> None:
    assert found(text) == phrases


def test_to_simplified() -> None:
    assert to_simplified("電線電纜、開關") == "电线电缆、开关"


@given(st.text(max_size=300))
def test_find_never_crashes_and_spans_are_valid(text: str) -> None:
    norm = normalise_text(text)
    for h in M.find(norm):
        assert 0 <= h.start < h.end <= len(norm)


def test_matcher_pickled_with_one_pattern_is_compiled_again() -> None:
    """A saved model's rules index holds a matcher pickled by an earlier version (one pattern
    for Latin and other phrases): it is rebuilt in the current form and finds the same hits."""
    import pickle

    m = PhraseMatcher(["toys", "children's toys", "玩具", "lighters"])
    old = PhraseMatcher.__new__(PhraseMatcher)
    old.__dict__.update({"segmenter": None, "phrases": m.phrases, "_re": None})
    restored = pickle.loads(pickle.dumps(old))
    text = "children's toys, 玩具 and lighters"
    assert restored.find(text) == m.find(text)
    assert [h.phrase for h in m.find(text)] == ["children's toys", "toys", "玩具", "lighters"]
