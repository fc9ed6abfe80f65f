import pytest

from tbt_alert.alerts.match import Interest, Relevance, match
from tbt_alert.status import Cadence


def interest(sid, sector, markets=(), cadence=Cadence.IMMEDIATE):
    return Interest(sid, sector, frozenset(markets), cadence)


CASES = [
    (
        "sector matches",
        {"footwear_leather"},
        {"EU"},
        [interest(1, "footwear_leather")],
        {1: ["footwear_leather"]},
    ),
    ("other sector", {"footwear_leather"}, {"EU"}, [interest(1, "eyewear")], {}),
    (
        "market filter hit",
        {"eyewear"},
        {"USA"},
        [interest(1, "eyewear", {"USA", "EU"})],
        {1: ["eyewear"]},
    ),
    ("market filter miss", {"eyewear"}, {"USA"}, [interest(1, "eyewear", {"EU"})], {}),
    (
        "joint: any market",
        {"auto_moto_parts"},
        {"ARE", "SAU"},
        [interest(1, "auto_moto_parts", {"SAU"})],
        {1: ["auto_moto_parts"]},
    ),
    (
        "digest subscribers wait",
        {"lighters"},
        {"EU"},
        [interest(1, "lighters", cadence=Cadence.DAILY)],
        {},
    ),
    (
        "two sectors, one subscriber",
        {"footwear_leather", "apparel_textiles"},
        {"EU"},
        [
            interest(2, "apparel_textiles"),
            interest(2, "footwear_leather"),
            interest(3, "apparel_textiles"),
        ],
        {2: ["apparel_textiles", "footwear_leather"], 3: ["apparel_textiles"]},
    ),
    ("no alert sectors", set(), {"EU"}, [interest(1, "footwear_leather")], {}),
    (
        "China's own notification: only for who asks for the domestic market",
        {"lighters"},
        {"CHN"},
        [
            interest(1, "lighters"),
            interest(2, "lighters", markets={"CHN"}),
            interest(3, "lighters", markets={"EU"}),
        ],
        {2: ["lighters"]},
    ),
    (
        "a joint notification with China and others reaches every-market subscribers",
        {"lighters"},
        {"CHN", "EU"},
        [interest(1, "lighters"), interest(2, "lighters", markets={"CHN"})],
        {1: ["lighters"], 2: ["lighters"]},
    ),
]


@pytest.mark.parametrize(
    ("name", "sectors", "markets", "interests", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_match(name, sectors, markets, interests, expected):
    assert match(Relevance(frozenset(sectors), frozenset(markets)), interests) == expected


def test_match_for_a_digest_cadence():
    got = match(
        Relevance(frozenset({"lighters"}), frozenset({"EU"})),
        [interest(1, "lighters", cadence=Cadence.WEEKLY), interest(2, "lighters")],
        Cadence.WEEKLY,
    )
    assert got == {1: ["lighters"]}
