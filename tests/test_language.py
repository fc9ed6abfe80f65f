"""Language detection and the core-sector vocabulary beyond en/fr/es/zh (made-up titles)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tbt_alert.classify.classifier import Classifier, load_classifier
from tbt_alert.classify.reasons import ReasonKind
from tbt_alert.classify.rules import load_rules
from tbt_alert.record import CanonicalRecord
from tbt_alert.text.language import detect

NOW = datetime(2025, 1, 1, tzinfo=UTC)
CORE_LANGS = ("pt", "vi", "ru", "ar", "ko", "ja", "th")


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Safety of toys and the labelling of footwear", "en"),
        ("Projet de décret relatif à l'étiquetage des chaussures", "fr"),
        ("Reglamento técnico sobre etiquetado de calzado", "es"),
        ("Regulamento técnico de segurança de brinquedos e calçados", "pt"),
        ("Quy chuẩn kỹ thuật quốc gia về an toàn đồ chơi trẻ em", "vi"),
        ("Технический регламент о безопасности обуви", "ru"),
        ("اللائحة الفنية للأحذية", "ar"),
        ("신발의 안전 기준", "ko"),
        ("玩具の安全基準について", "ja"),
        ("儿童玩具安全规范", "zh"),
        ("มาตรฐานผลิตภัณฑ์อุตสาหกรรมรองเท้า", "th"),
        ("12345 / G/TBT/N/BRA/9", None),
        ("", None),
    ],
)
def test_detect(text: str, lang: str | None) -> None:
    assert detect(text) == lang


def test_every_core_sector_has_vocabulary_in_the_seven_languages() -> None:
    import yaml

    data = yaml.safe_load(load_rules().path.read_text("utf-8"))
    for sector in data["sectors"]:
        if sector["priority"] == "core":
            for lang in CORE_LANGS:
                assert sector.get(f"keywords_{lang}"), (sector["id"], lang)


@pytest.mark.parametrize(
    ("title", "sector", "lang"),
    [
        ("Regulamento técnico para calçados: etiquetagem", "footwear_leather", "pt"),
        ("Quy chuẩn kỹ thuật quốc gia về an toàn đồ chơi trẻ em", "toys_playground", "vi"),
        ("Технический регламент о безопасности зажигалок", "lighters", "ru"),
        ("اللائحة الفنية لمضخات المياه", "pumps_valves", "ar"),
        ("자동차 부품 안전기준 개정", "auto_moto_parts", "ko"),
        ("配線用遮断器の技術基準", "low_voltage_electrical", "ja"),
        ("Очки солнцезащитные: требования безопасности", "eyewear", "ru"),
        ("Regulamento de vestuário e produtos têxteis", "apparel_textiles", "pt"),
        # Thai writes words without spaces: a phrase is found inside the run of letters
        (
            "ร่างกฎกระทรวง กำหนดให้ผลิตภัณฑ์อุตสาหกรรมสายไฟฟ้าหุ้มด้วยพอลิไวนิลคลอไรด์ ต้องเป็นไปตามมาตรฐาน",
            "low_voltage_electrical",
            "th",
        ),
        ("มาตรฐานผลิตภัณฑ์อุตสาหกรรมไฟแช็กก๊าซ", "lighters", "th"),
        ("มาตรฐานผลิตภัณฑ์อุตสาหกรรมของเล่น", "toys_playground", "th"),
        ("มาตรฐานผลิตภัณฑ์อุตสาหกรรมปั๊มน้ำ", "pumps_valves", "th"),  # beside the fuel-station trap
    ],
)
def test_core_products_alert_in_other_languages(
    clf: Classifier, title: str, sector: str, lang: str
) -> None:
    record = CanonicalRecord(symbol="G/TBT/N/XXX/1", member="Test", title=title)
    result = clf.classify(record)
    assert sector in {m.sector for m in result.sectors}
    assert result.language == lang and result.to_json()["language"] == lang


def test_cyrillic_phrases_match_whole_words(clf: Classifier) -> None:
    # 'очки' (glasses) inside 'точки' (points) is no eyewear
    record = CanonicalRecord(
        symbol="G/TBT/N/XXX/1", member="Test", title="Контрольные точки измерения шума"
    )
    assert "eyewear" not in {m.sector for m in clf.classify(record).sectors}


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("สถานีบริการปั๊มน้ำมันเชื้อเพลิง ข้อกำหนดความปลอดภัย", "pumps_valves"),  # a fuel station
        ("ปั๊มความร้อนสำหรับทำน้ำร้อน", "pumps_valves"),  # heat pumps
        ("ที่จุดบุหรี่ในรถยนต์", "lighters"),  # a car's cigarette-lighter socket
        ("ของเล่นสัตว์เลี้ยง", "toys_playground"),  # pet toys
        ("มาตรฐานผลิตภัณฑ์อุตสาหกรรมผ้าห่มไฟฟ้า", "apparel_textiles"),  # electric blankets
        ("วาล์วหัวใจเทียม", "pumps_valves"),  # artificial heart valves
        ("ชั้นวางรองเท้า", "footwear_leather"),  # shoe racks
        ("เข็มขัดนิรภัยสำหรับงานที่สูง", "auto_moto_parts"),  # fall-arrest harnesses
    ],
)
def test_thai_traps(clf: Classifier, title: str, sector: str) -> None:
    record = CanonicalRecord(symbol="G/TBT/N/XXX/1", member="Test", title=title)
    result = clf.classify(record)
    assert sector not in result.alerted()
    # the trap vetoes the phrase: no rule evidence is left (the model may still queue it)
    assert not any(
        r.kind == ReasonKind.PHRASE for m in result.sectors if m.sector == sector for r in m.reasons
    )


def test_ascii_letter_count_is_the_patterns() -> None:
    """The byte deletion that counts an ASCII text's letters deletes exactly [\\W\\d_]."""
    from tbt_alert.text.language import _ASCII_NOT_LETTER, _NOT_LETTER

    for b in range(128):
        assert (bytes([b]) in _ASCII_NOT_LETTER) == (_NOT_LETTER.fullmatch(chr(b)) is not None)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("la la la eaux", "fr"),  # a mark (eaux) breaks the fr/es tie of 'la'
        ("la la la llave", "es"),
        ("o a the", "en"),  # one function word each: English wins ties
        ("d'un l'article", "fr"),  # marks alone, no function word
    ],
)
def test_detect_function_words_and_marks(text: str, lang: str) -> None:
    assert detect(text) == lang
