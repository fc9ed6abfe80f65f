from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tbt_alert.text.members import MEMBERS, Member, member_by_code, normalise_member
from tbt_alert.text.symbols import is_placeholder, parse_symbol

LABELLED = (
    Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
)
GCC_LIST = "阿拉伯联合酋长国、巴林王国、科威特国、阿曼、卡塔尔、沙特阿拉伯王国、也门"

REQUIRED = (
    "EU",
    "AUT",
    "BEL",
    "BGR",
    "HRV",
    "CYP",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "DEU",
    "GRC",
    "HUN",
    "IRL",
    "ITA",
    "LVA",
    "LTU",
    "LUX",
    "MLT",
    "NLD",
    "POL",
    "PRT",
    "ROU",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
    "USA",
    "CAN",
    "MEX",
    "BRA",
    "ARG",
    "CHL",
    "COL",
    "PER",
    "ECU",
    "JPN",
    "KOR",
    "CHN",
    "TPKM",
    "HKG",
    "MAC",
    "IND",
    "IDN",
    "THA",
    "VNM",
    "MYS",
    "PHL",
    "SGP",
    "AUS",
    "NZL",
    "GBR",
    "CHE",
    "NOR",
    "RUS",
    "UKR",
    "TUR",
    "ISR",
    "SAU",
    "ARE",
    "BHR",
    "KWT",
    "OMN",
    "QAT",
    "YEM",
    "EGY",
    "KEN",
    "UGA",
    "TZA",
    "RWA",
    "BDI",
    "ZAF",
    "BWA",
    "GUY",
    "JAM",
    "TTO",
    "CRI",
    "DOM",
    "GEO",
)


def _records() -> list[dict]:
    return [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines() if line]


def _symbol_member(text: str) -> str | None:
    return None if is_placeholder(text) else parse_symbol(text).member


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Saudi Arabia, Kingdom of", "SAU"),
        ("SA Saudi Arabia", "SAU"),
        ("沙特阿拉伯", "SAU"),
        ("Korea, Republic of", "KOR"),
        ("Korea (Republic of)", "KOR"),
        ("Republic of Korea", "KOR"),
        ("韩国", "KOR"),
        ("KR Südkorea", "KOR"),
        ("REPUBLIC OF KOREA", "KOR"),
        ("United States", "USA"),
        ("United States of America", "USA"),
        ("UNITED STATES OF AMERICA", "USA"),
        ("UNITED STATES", "USA"),
        ("USA", "USA"),
        ("U.S.A.", "USA"),
        ("美国", "USA"),
        ("美國", "USA"),
        ("Europäische Union", "EU"),
        ("European Union", "EU"),
        ("EUROPEAN UNION", "EU"),
        ("欧盟", "EU"),
        ("EU", "EU"),
        ("Chinese Taipei", "TPKM"),
        ("台澎金马单独关税区", "TPKM"),
        ("臺澎金馬單獨關稅區", "TPKM"),
        ("Taiwan", "TPKM"),
        ("IL Israël", "ISR"),
        ("IL Israel", "ISR"),
        ("ISRAEL", "ISR"),
        ("EC Ecuador", "ECU"),
        ("UG Uganda", "UGA"),
        ("CN China", "CHN"),
        ("Argentinien", "ARG"),
        ("Tansania", "TZA"),
        ("Trinidad und Tobago", "TTO"),
        ("中国澳门", "MAC"),
        ("中國澳門", "MAC"),
        ("Macao, China", "MAC"),
        ("Hong Kong, China", "HKG"),
        ("中国", "CHN"),
        ("中國", "CHN"),
        ("Kuwait, the State of", "KWT"),
        ("State of Kuwait", "KWT"),
        ("Bahrain, Kingdom of", "BHR"),
        ("Kingdom of Bahrain", "BHR"),
        ("Côte d'Ivoire", "CIV"),
        ("COTE D IVOIRE", "CIV"),
        ("Viet Nam", "VNM"),
        ("Türkiye", "TUR"),
        ("Turkey", "TUR"),
        ("Denmark", "DNK"),
        ("  european   union  ", "EU"),
        ("Ｊａｐａｎ", "JPN"),
        (GCC_LIST, "ARE"),
        ("Kenya, Uganda, Tanzania", "KEN"),
        ("Atlantis, Kenya", "KEN"),
    ],
)
def test_name_variants(name: str, code: str) -> None:
    assert normalise_member(name).code == code


def test_member_fields() -> None:
    assert normalise_member("Saudi Arabia, Kingdom of") == Member(
        "SAU", "Saudi Arabia, Kingdom of", "沙特阿拉伯"
    )
    assert normalise_member("美國") == Member("USA", "United States", "美国")
    assert normalise_member("Chinese Taipei").name_zh == "台澎金马单独关税区"


@pytest.mark.parametrize(
    "name", ["Atlantis", "  Atlantis \n Republic ", "XX Atlantis", "", "???", "NA"]
)
def test_unknown_names_keep_cleaned_text(name: str) -> None:
    member = normalise_member(name)
    assert member.code == "" and member.name_zh == ""
    assert member.name_en == " ".join(name.split())


def test_unknown_name_is_cleaned() -> None:
    assert normalise_member("  Atlantis \n Republic ") == Member("", "Atlantis Republic", "")
    assert len(normalise_member("x" * 10_000).name_en) <= 200


def test_symbol_code_wins_over_name() -> None:
    assert normalise_member("美国", "CHN").code == "CHN"
    assert normalise_member(GCC_LIST, "SAU") == member_by_code("SAU")
    assert normalise_member("anything", "eu").code == "EU"
    assert normalise_member("European Communities", "EEC").code == "EU"
    assert normalise_member("Atlantis", "ATL") == Member("ATL", "Atlantis", "")
    assert normalise_member("", "ATL") == Member("ATL", "ATL", "")


def test_bad_symbol_code_falls_back_to_name() -> None:
    assert normalise_member("Kenya", "").code == "KEN"
    assert normalise_member("Kenya", "K3N").code == "KEN"
    assert normalise_member("Kenya", "  ").code == "KEN"


def test_member_by_code() -> None:
    assert member_by_code("usa") == normalise_member("United States")
    assert member_by_code("EEC") == member_by_code("EU")
    assert member_by_code("ZZZ") is None


def test_table_covers_major_markets() -> None:
    codes = {m.code for m in MEMBERS}
    assert not set(REQUIRED) - codes
    assert len(codes) == len(MEMBERS)
    for member in MEMBERS:
        assert member.name_en and member.name_zh
        assert normalise_member(member.name_en).code == member.code, member
        assert normalise_member(member.name_zh).code == member.code, member
        assert normalise_member(member.code).code == member.code, member


def test_no_two_members_share_a_name() -> None:
    english = [m.name_en.casefold() for m in MEMBERS]
    chinese = [m.name_zh for m in MEMBERS]
    assert len(set(english)) == len(english)
    assert len(set(chinese)) == len(chinese)


def test_every_labelled_member_resolves_with_its_symbol() -> None:
    for record in _records():
        code = _symbol_member(record["symbol"])
        member = normalise_member(record["member"], code)
        assert member.code, record["member"]
        assert member.name_en and member.name_zh
        if code:
            assert member.code == code


def test_every_labelled_member_name_resolves_alone_to_its_symbol_code() -> None:
    """The name alone agrees with the symbol, except the joint GCC list (first member)."""
    checked = 0
    for record in _records():
        name, code = record["member"], _symbol_member(record["symbol"])
        resolved = normalise_member(name).code
        assert resolved, name
        if code and name != GCC_LIST:
            assert resolved == code, (name, record["symbol"])
            checked += 1
    assert checked > 120


def test_labelled_names_without_member_code() -> None:
    by_symbol = {r["symbol"]: r["member"] for r in _records()}
    assert normalise_member(by_symbol["G/TBT/Notif.96.15"]).code == "JPN"
    assert normalise_member(by_symbol["G/TBT/Notif.00/194"]).code == "CRI"
    assert normalise_member(by_symbol["NOSYMBOL-001"]).code == "COL"
    assert normalise_member(by_symbol["NOSYMBOL-004"]).code == "KEN"
    assert normalise_member(by_symbol["NOSYMBOL-005"]).code == "SAU"


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=6)))
def test_arbitrary_text_never_raises(name: str, code: str | None) -> None:
    member = normalise_member(name, code)
    assert isinstance(member, Member)
    assert member.code == "" or (member.code.isascii() and member.code.isupper())
