from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tbt_alert.errors import SymbolError
from tbt_alert.text.symbols import (
    CodeOfGoodPracticeError,
    Symbol,
    find_symbols,
    is_placeholder,
    parse_symbol,
    split_joint,
)

ROOT = Path(__file__).resolve().parent.parent
LABELLED = ROOT / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
PAGES = ROOT / "tests" / "fixtures" / "pages"


def _records() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line]


EU1097 = Symbol("EU", "1097")


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("G/TBT/N/EU/1097", "G/TBT/N/EU/1097"),
        ("  G/TBT/N/EU/1097 \n", "G/TBT/N/EU/1097"),
        ("g/tbt/n/eu/1097", "G/TBT/N/EU/1097"),
        ("G/TBT/N/EU/1097/Add.1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097/ Add.1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097/Add1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097/Add 1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097/add.1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097 Add.1", "G/TBT/N/EU/1097/Add.1"),
        ("G/TBT/N/EU/1097/Add.1/Corr.1", "G/TBT/N/EU/1097/Add.1/Corr.1"),
        ("G/TBT/N/CAN/199/Rev.1/Add.2", "G/TBT/N/CAN/199/Rev.1/Add.2"),
        ("G/TBT/N/USA/1/Suppl.3", "G/TBT/N/USA/1/Suppl.3"),
        ("G/TBT/N/USA/1/Supp 3", "G/TBT/N/USA/1/Suppl.3"),
        ("G/TB/N/BHR/172", "G/TBT/N/BHR/172"),
        ("G/TBT/N?BHR/173", "G/TBT/N/BHR/173"),
        ("G\\TBT\\N\\USA\\532", "G/TBT/N/USA/532"),
        ("G／TBT／N／CHN／1183／Add．1", "G/TBT/N/CHN/1183/Add.1"),
        ("Ｇ/ＴＢＴ/Ｎ/ＣＨＮ/１１８３", "G/TBT/N/CHN/1183"),
        ("G/TBT/N/CHN/1183/Add。1", "G/TBT/N/CHN/1183/Add.1"),
        ("G/TBT/N/CHN/11\u200b83", "G/TBT/N/CHN/1183"),
        ("G/TBT/N/CHN/1183号", "G/TBT/N/CHN/1183"),
        ("“G/TBT/N/CHN/1183”.", "G/TBT/N/CHN/1183"),
        ("G / TBT / N / TPKM / 13", "G/TBT/N/TPKM/13"),
        ("G/TBT/N/EEC/52", "G/TBT/N/EEC/52"),
        ("G/TBT/N/EU/01097", "G/TBT/N/EU/1097"),
        ("G/TBT/Notif.97.323", "G/TBT/Notif.97.323"),
        ("g/tbt/notif.96.015", "G/TBT/Notif.96.15"),
        ("G/TBT/Notif.00/015", "G/TBT/Notif.00/015"),
        ("G/TBT/Notif.00/15", "G/TBT/Notif.00/015"),
        ("G/TBT/Notif.00.194", "G/TBT/Notif.00/194"),
        ("G/TBT/Notif.97.323/Add.1", "G/TBT/Notif.97.323/Add.1"),
    ],
)
def test_parse_tolerant_forms(text: str, canonical: str) -> None:
    assert parse_symbol(text).canonical == canonical


def test_parts_and_relations() -> None:
    s = parse_symbol("G/TBT/N/EU/1097/Add.1/Corr.1")
    assert (s.member, s.number, s.old_form) == ("EU", "1097", False)
    assert s.suffixes == (("Add", 1), ("Corr", 1))
    assert s.kind == "corrigendum" and s.is_corrigendum
    assert not s.is_addendum and not s.is_revision
    assert s.parent == parse_symbol("G/TBT/N/EU/1097/Add.1")
    assert s.parent is not None and s.parent.is_addendum
    assert s.parent.parent == EU1097
    assert EU1097.parent is None
    assert s.base == EU1097 and s.base.kind == "regular"
    assert str(s) == "G/TBT/N/EU/1097/Add.1/Corr.1"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("G/TBT/N/CAN/199/Rev.1", "revision"),
        ("G/TBT/N/CAN/199/Rev.1/Add.2", "addendum"),
        ("G/TBT/N/CAN/199/Add.2/Rev.1", "revision"),
        ("G/TBT/N/CAN/199/Suppl.1", "supplement"),
        ("G/TBT/Notif.96.15", "regular"),
    ],
)
def test_kind_is_by_last_suffix(text: str, kind: str) -> None:
    assert parse_symbol(text).kind == kind


def test_old_form_has_no_member() -> None:
    s = parse_symbol("G/TBT/Notif.97.323")
    assert s.member is None and s.old_form and s.number == "97.323"
    assert parse_symbol("G/TBT/Notif.00/15").number == "00/015"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "hello",
        "G/TBT/N/",
        "G/TBT/N/EU",
        "G/TBT/N/EU/",
        "G/TBT/N/EU/abc",
        "G/TBT/N/EU/0",
        "G/TBT/N/XX/1",
        "G/TBT/N/ABCDE/1",
        "G/TBT/N/EU/1097/Add.0",
        "G/TBT/N/EU/1097/Add.1/Add.2",
        "G/TBT/N/EU/1097/Foo.1",
        "G/TBT/N/EU/1097 and more",
        "G/TBT/Notif.01/5",
        "G/TBT/Notif.94.5",
        "G/TBT/Notif.00/0",
        "G/SPS/N/EU/1",
        "G/TBT/N/EU/1097" * 20,
    ],
)
def test_unreadable_text_raises_symbol_error_quoting_input(text: str) -> None:
    with pytest.raises(SymbolError) as info:
        parse_symbol(text)
    assert repr(text[:20])[1:-1] in str(info.value)


@pytest.mark.parametrize("text", ["G/TBT/CS/N/75", "g/tbt/cs/n/187", "G/TBT/CS/N/128/Add.1"])
def test_code_of_good_practice_has_its_own_error(text: str) -> None:
    with pytest.raises(CodeOfGoodPracticeError, match="Code of Good Practice"):
        parse_symbol(text)
    assert issubclass(CodeOfGoodPracticeError, SymbolError)


@pytest.mark.parametrize("text", ["NOSYMBOL-001", "nosymbol-42", " NOSYMBOL-005 "])
def test_placeholder_ids_are_not_symbols(text: str) -> None:
    assert is_placeholder(text)
    with pytest.raises(SymbolError, match="placeholder"):
        parse_symbol(text)


def test_is_placeholder_refuses_symbols_and_other_text() -> None:
    assert not is_placeholder("G/TBT/N/EU/1097")
    assert not is_placeholder("NOSYMBOL-")
    assert not is_placeholder("NOSYMBOL-12x")


def test_direct_construction_is_checked() -> None:
    with pytest.raises(SymbolError):
        Symbol("eu", "1")
    with pytest.raises(SymbolError):
        Symbol(None, "1097")
    with pytest.raises(SymbolError):
        Symbol("EU", "1", suffixes=(("Amd", 1),))
    with pytest.raises(SymbolError):
        Symbol("EU", "1", suffixes=(("Add", True),))
    with pytest.raises(SymbolError):
        Symbol("EU", "97.323", old_form=True)


def test_every_symbol_in_labelled_data_round_trips() -> None:
    seen = 0
    for record in _records():
        texts = [record["symbol"], *(record.get("joint_symbols") or [])]
        for text in texts:
            if is_placeholder(text):
                continue
            symbol = parse_symbol(text)
            assert symbol.canonical == text
            assert parse_symbol(symbol.canonical) == symbol
            seen += 1
    assert seen > 150


def test_labelled_placeholders_raise() -> None:
    placeholders = [r["symbol"] for r in _records() if r["symbol"].startswith("NOSYMBOL")]
    assert len(placeholders) == 3
    for text in placeholders:
        with pytest.raises(SymbolError):
            parse_symbol(text)


def test_labelled_joint_lists_join_and_split_back() -> None:
    for record in _records():
        joint = record.get("joint_symbols")
        if joint:
            assert [s.canonical for s in split_joint(", ".join(joint))] == joint


def test_split_joint() -> None:
    text = "G/TBT/N/ARE/703, G/TBT/N/BHR/780, G/TBT/N/KWT/764"
    assert [s.canonical for s in split_joint(text)] == [
        "G/TBT/N/ARE/703",
        "G/TBT/N/BHR/780",
        "G/TBT/N/KWT/764",
    ]
    messy = " G/TBT/N/ARE/703 ;; g/tbt/n/bhr/780\n\nG/TBT/N/ARE/703，G/TBT/N/KWT/764、, "
    assert [s.canonical for s in split_joint(messy)] == [
        "G/TBT/N/ARE/703",
        "G/TBT/N/BHR/780",
        "G/TBT/N/KWT/764",
    ]
    assert split_joint("") == []
    assert split_joint(" , ; \n") == []
    with pytest.raises(SymbolError, match="nonsense"):
        split_joint("G/TBT/N/ARE/703, nonsense")


def test_split_joint_of_eping_fixture() -> None:
    state = json.loads((PAGES / "eping_monitor_state_excerpt.json").read_text(encoding="utf-8"))
    texts = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "Document symbol(s)":
                    texts.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(state)
    assert texts
    first = split_joint(texts[0])
    assert len(first) == 7 and first[0] == Symbol("ARE", "703")
    assert {s.member for s in first} == {"ARE", "BHR", "KWT", "OMN", "QAT", "SAU", "YEM"}


def test_find_symbols_in_free_text() -> None:
    text = (
        "The Republic of Colombia advises that Resolution No. 18 0498, notified in document "
        "g/tbt/n/col/20/Add.4 of 4 May 2005, amends G/TBT/N/COL/20. See also G/TBT/N/COL/20 and "
        "G/TBT/CS/N/75; not G/SPS/N/COL/1. Form: G/TBT/Notif.97.323."
    )
    assert [s.canonical for s in find_symbols(text)] == [
        "G/TBT/N/COL/20/Add.4",
        "G/TBT/N/COL/20",
        "G/TBT/Notif.97.323",
    ]
    assert find_symbols("") == []
    assert find_symbols("no symbols here, only 2024/11/22") == []


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        ("chemycal_EU666.txt", ["G/TBT/N/EU/666"]),
        (
            "wto_addendum_old_format_COL20Add5_copy.txt",
            ["G/TBT/N/COL/20/Add.5", "G/TBT/N/COL/20/Add.4"],
        ),
        ("wto_form_1997_cbd_reprint.txt", ["G/TBT/Notif.97.323"]),
        ("eu_tbt_db_old_detail_EU489.txt", ["G/TBT/N/EU/489"]),
        ("tbtims_code_of_good_practice_search_p1.txt", []),
        (
            "eping_mirror_portal_KEN1412Rev1.txt",
            [
                "G/TBT/N/BDI/344/Rev.1",
                "G/TBT/N/KEN/1412/Rev.1",
                "G/TBT/N/RWA/851/Rev.1",
                "G/TBT/N/TZA/934/Rev.1",
                "G/TBT/N/UGA/1760/Rev.1",
            ],
        ),
    ],
)
def test_find_symbols_in_real_pages(page: str, expected: list[str]) -> None:
    text = (PAGES / page).read_text(encoding="utf-8")
    assert [s.canonical for s in find_symbols(text)] == expected


# -- properties -------------------------------------------------------------------------------

_members = st.one_of(
    st.sampled_from(["EU", "EEC", "TPKM", "USA", "CHN", "SAU"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
)
_kinds = st.lists(st.sampled_from(["Rev", "Add", "Corr", "Suppl"]), unique=True, max_size=4)


@st.composite
def symbols(draw: st.DrawFn) -> Symbol:
    kinds = draw(_kinds)
    suffixes = tuple((k, draw(st.integers(1, 999))) for k in kinds)
    if draw(st.booleans()):
        year = draw(st.sampled_from(["95", "96", "97", "98", "99", "00"]))
        serial = draw(st.integers(1, 9999))
        number = f"00/{serial:03d}" if year == "00" else f"{year}.{serial}"
        return Symbol(None, number, old_form=True, suffixes=suffixes)
    number = str(draw(st.integers(1, 99999)))
    return Symbol(draw(_members), number, suffixes=suffixes)


@given(symbols())
def test_canonical_is_a_fixed_point(symbol: Symbol) -> None:
    again = parse_symbol(symbol.canonical)
    assert again == symbol
    assert again.canonical == symbol.canonical


_space = st.text(alphabet=" \t\u3000\u00a0", max_size=3)


@given(
    symbols(),
    _space,
    _space,
    st.lists(st.booleans(), min_size=100, max_size=100),
    st.sampled_from(["/", "\\", "／", " / "]),
    st.booleans(),
)
def test_noise_gives_the_same_symbol(
    symbol: Symbol, before: str, after: str, lower: list[bool], slash: str, drop_dots: bool
) -> None:
    text = symbol.canonical
    if drop_dots and not symbol.old_form:
        text = text.replace(".", "")
    text = text.replace("/", slash)
    assert len(text) <= len(lower)
    text = "".join(c.lower() if flip else c for c, flip in zip(text, lower, strict=False))
    assert parse_symbol(before + text + after) == symbol


@given(symbols(), st.text(max_size=30), st.text(max_size=30))
def test_find_symbols_finds_a_symbol_on_its_own_line(symbol: Symbol, left: str, right: str) -> None:
    found = find_symbols(f"{left}\n{symbol.canonical}\n{right}")
    assert symbol in found


@given(st.lists(symbols(), max_size=6), st.sampled_from([", ", ";", "\n", "、"]))
def test_split_joint_keeps_order_and_drops_duplicates(items: list[Symbol], sep: str) -> None:
    text = sep.join(s.canonical for s in items + items)
    assert split_joint(text) == list(dict.fromkeys(items))


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_arbitrary_text_raises_only_symbol_error(text: str) -> None:
    with contextlib.suppress(SymbolError):
        parse_symbol(text)
    with contextlib.suppress(SymbolError):
        split_joint(text)
    assert isinstance(find_symbols(text), list)


@given(st.text(alphabet="GTBNnotif/\\?.:;, 0123456789ADDREVCORSUPLEUSA", max_size=60))
def test_symbol_like_text_raises_only_symbol_error(text: str) -> None:
    try:
        symbol = parse_symbol(text)
    except SymbolError:
        return
    assert parse_symbol(symbol.canonical) == symbol
