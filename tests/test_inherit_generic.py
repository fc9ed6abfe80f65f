"""Generic words are weak evidence; thin addenda inherit their parent's stored sectors (made up)."""

from __future__ import annotations

import pytest

from tbt_alert.classify.classifier import Classifier, ParentScope, load_classifier
from tbt_alert.classify.reasons import ReasonKind
from tbt_alert.mail.explain import explain
from tbt_alert.mail.wording import CATALOGUE, INTERNAL, entry_key
from tbt_alert.record import CanonicalRecord


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def rec(title: str, symbol: str = "G/TBT/N/XXX/1", **kw) -> CanonicalRecord:
    return CanonicalRecord(symbol=symbol, member="Test", title=title, **kw)


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("零部件质量追溯管理要求", "auto_moto_parts"),  # parts of anything
        ("Repuestos y partes y piezas de maquinaria agrícola", "auto_moto_parts"),
        ("Steel flanges and pipe fittings for building structures", "pumps_valves"),
        ("Radiators for central heating: thermal output", "auto_moto_parts"),
        ("Clutches and handbags of textile materials", "auto_moto_parts"),
        ("Pressure equipment: simple pressure vessels", "pumps_valves"),
    ],
)
def test_generic_words_alone_give_no_alert(clf: Classifier, title: str, sector: str) -> None:
    assert sector not in clf.classify(rec(title)).alerted()


def test_generic_word_with_a_sector_code_still_alerts(clf: Classifier) -> None:
    record = rec("Pipe fittings of copper alloys", hs_codes=["8481.80"])
    assert "pumps_valves" in clf.classify(record).alerted()


def test_thin_addendum_inherits_the_parents_stored_sectors(clf: Classifier) -> None:
    child = rec("Addendum: the date of entry into force is postponed", symbol="G/TBT/N/BRA/9/Add.1")
    assert not clf.classify(child).alerted()
    scope = ParentScope("G/TBT/N/BRA/9", ("footwear_leather",))
    result = clf.classify(child, scope=scope)
    assert result.alerted() == {"footwear_leather"}
    reasons = next(m.reasons for m in result.sectors if m.sector == "footwear_leather")
    inherited = [r for r in reasons if r.kind == ReasonKind.INHERITED]
    assert [r.value for r in inherited] == ["G/TBT/N/BRA/9"]
    assert "G/TBT/N/BRA/9" in explain(inherited, "en", {})[0]
    assert "G/TBT/N/BRA/9" in explain(inherited, "zh", {})[0]


def test_addendum_with_its_own_scope_keeps_it(clf: Classifier) -> None:
    child = rec("Addendum: the scope is extended to toys", symbol="G/TBT/N/BRA/9/Add.2")
    scope = ParentScope("G/TBT/N/BRA/9", ("footwear_leather",))
    got = clf.classify(child, scope=scope).alerted()
    assert "toys_playground" in got and "footwear_leather" not in got


def test_products_named_only_in_the_description_of_a_thin_title(clf: Classifier) -> None:
    child = rec(
        "G/TBT/N/XXX/5/Add.1",
        symbol="G/TBT/N/XXX/5/Add.1",
        description="The regulation now also covers pneumatic tyres for passenger cars.",
    )
    result = clf.classify(child)
    assert "auto_moto_parts" in result.alerted()
    reasons = next(m.reasons for m in result.sectors if m.sector == "auto_moto_parts")
    assert any(r.kind == ReasonKind.THIN_TITLE for r in reasons)
    assert all(entry_key(r) in CATALOGUE or entry_key(r) in INTERNAL for r in reasons)


def test_a_title_that_names_other_products_keeps_body_words_light(clf: Classifier) -> None:
    record = rec(
        "Labelling of wine",
        description="Importers of beverages, like importers of tyres, must register.",
    )
    match = next(m for m in clf.classify(record).sectors if m.sector == "auto_moto_parts")
    scores = [r.value for r in match.reasons if r.kind == ReasonKind.RULE_SCORE]
    assert scores == ["1.5"]  # body weight, not title weight
    assert not any(r.kind == ReasonKind.THIN_TITLE for r in match.reasons)
    # a field that usually concerns no sector, named in the title, halves it again
    foods = rec(
        "Labelling of prepackaged foods and beverages",
        description="Importers of food, like importers of tyres, must register.",
    )
    match = next(m for m in clf.classify(foods).sectors if m.sector == "auto_moto_parts")
    assert [r.value for r in match.reasons if r.kind == ReasonKind.RULE_SCORE] == ["0.75"]
