"""HS/ICS normalisation: tariff lines, dots, chapters, ranges in text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbt_alert.text.codes import (
    HsCode,
    codes_in_text,
    hs_in_text,
    ics_in_text,
    match_hs,
    match_ics,
    normalise_hs,
    normalise_ics,
)


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("8534.40", ["853440"]),
        ("84.19", ["8419"]),
        ("4818900000", ["481890"]),  # national tariff line -> 6 digits
        ("9503.0089", ["950300"]),
        ("64029", ["6402"]),  # odd length: cut to the heading
        ("64", ["64"]),
        ("0401-0402", ["0401", "0402"]),
        ("6401到6405", ["6401", "6402", "6403", "6404", "6405"]),
        ("8", []),
        ("HS 85", ["85"]),
    ],
)
def test_normalise_hs(raw: str, codes: list[str]) -> None:
    assert [c.code for c in normalise_hs(raw)] == codes


def test_wide_range_and_placeholder_are_broad() -> None:
    assert normalise_hs("9001-9033") == [HsCode("90", broad=True, raw="9001-9033")]
    assert normalise_hs("8700")[0].broad


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        (
            "Footwear with outer soles of rubber (HS 6404); Other footwear (HS 6405)",
            ["6404", "6405"],
        ),
        ("一次性打火机(CCCN 9613.10.00.00-9,可充气的)", ["961310"]),
        ("HS Code: from 870310 to 870390", ["8703"]),  # a range inside one heading -> the heading
        ("帶有外底的鞋類,關稅稅目號6401到6405.", ["6401", "6402", "6403", "6404", "6405"]),
        ("Machines of Chapter 85 and 第84章", ["85", "84"]),
        ("Productos de petróleo. SA: 2710", ["2710"]),
        ("IS 16008(第1部分):2016 遮阳网", []),  # numbers without an HS marker are not codes
    ],
)
def test_hs_in_text(text: str, codes: list[str]) -> None:
    assert [c.code for c in hs_in_text(text)] == codes


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("29.120.50", "29.120.50"),
        ("43.", "43"),
        ("23.04.01", "23.040.01"),
        ("ICS 67", "67"),
        ("x", None),
    ],
)
def test_normalise_ics(raw: str, code: str | None) -> None:
    assert normalise_ics(raw) == code


def test_ics_in_text() -> None:
    assert ics_in_text("Textiles in general (ICS 59.080.01).") == ["59.080.01"]
    assert ics_in_text("玩具(ICS 97.200.50)。") == ["97.200.50"]


def test_match_strength() -> None:
    assert match_hs([HsCode("640399")], ("64",))[0][2] == "strong"
    assert match_hs([HsCode("85")], ("8536",))[0][2] == "weak"
    assert match_hs([HsCode("90", broad=True)], ("9004",))[0][2] == "weak"
    assert match_hs([HsCode("853440")], ("8536",)) == []  # printed circuits are not switchgear
    assert match_hs([HsCode("2924")], ("50", "61")) == []  # the chemical is not a textile
    assert match_ics(["29.120.50"], ("29.120",))[0][2] == "strong"
    assert match_ics(["29"], ("29.120",))[0][2] == "weak"
    assert match_ics(["29.1"], ("29.120",)) == []


@given(st.text(max_size=200))
def test_code_parsers_never_crash(text: str) -> None:
    for c in normalise_hs(text) + hs_in_text(text):
        assert c.code.isdigit() and len(c.code) in (2, 4, 6)
    for code in ics_in_text(text):
        assert code[:2].isdigit()


_MARKER_PIECES = [
    "HS", "h.s.", "hs编码", "SA", "Sa ", "CCCN", "ncm", "NALADISA", "tariff lines", "partidas",
    "FRACCIÓN", "海关编码", "税则号", "稅目號", "Chapters", "CHAPITRE", "capítulo", "第", "章",
    "ICS", "ics编码", "ICS代碼", "usa", "safety", "plastics", "widths", "İ", "ı", "ſ", "\u212a",
    " ", ",", "(", ")", "to", "8536", "85.36", "64", "6403.99", "13.220", "43.040.10",
]  # fmt: skip


@pytest.mark.parametrize(
    "text",
    [
        "Safety of toys; plastics and widths of USA products",  # no marker: the quick answer
        "NALADISA,SA964",  # NALADISA, then a code
        "Footwear (HS 6403.99) and ICS 61.060",
        "Toys, Chapter 95; 第64章",
        "İCS 13.220 and Hſ 8536",  # folds to ICS / HS ignoring case: read with the markers
        "\u212aeys HS 8301",
    ],
)
def test_codes_in_text_is_hs_and_ics_in_text(text: str) -> None:
    assert codes_in_text(text) == (hs_in_text(text), ics_in_text(text))


@given(st.lists(st.sampled_from(_MARKER_PIECES), max_size=12).map("".join))
def test_codes_in_text_quick_scan_misses_no_marker(text: str) -> None:
    assert codes_in_text(text) == (hs_in_text(text), ics_in_text(text))
