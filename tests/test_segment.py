"""Chinese word segmentation: phrases match words, not substrings (made-up examples)."""

from __future__ import annotations

import pytest

from tbt_alert.classify.classifier import Classifier, load_classifier
from tbt_alert.classify.rules import load_rules
from tbt_alert.classify.userdict import user_dict_text, user_words
from tbt_alert.record import CanonicalRecord
from tbt_alert.resources import resource_dir
from tbt_alert.text.phrases import PhraseMatcher, normalise_text
from tbt_alert.text.segment import Segmenter, default_segmenter, words


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return load_classifier()


def alerted(clf: Classifier, title: str) -> set[str]:
    record = CanonicalRecord(symbol="G/TBT/N/XXX/1", member="Test", title=title)
    return clf.classify(record).alerted()


def test_words_keep_sector_terms_whole_and_give_the_text_back() -> None:
    text = "带过电流保护的剩余电流动作断路器 (RCBO) 技术要求"
    got = words(text)
    assert "剩余电流" in got  # jieba alone cuts 剩余 + 电流: the user dictionary keeps it
    assert "断路器" in got
    assert "".join(got) == text
    assert words(text) == got  # deterministic
    assert words("") == [] and words("no Chinese here") == ["no Chinese here"]


def test_user_words_change_the_cut() -> None:
    plain, sector = Segmenter(), Segmenter(["剩余电流"])
    assert "剩余电流" not in plain.words("剩余电流动作")
    assert "剩余电流" in sector.words("剩余电流动作")


def test_shipped_user_dictionary_is_generated_from_the_rules() -> None:
    rules = load_rules()
    path = resource_dir("rules") / "zh_words.txt"
    assert path.read_text("utf-8") == user_dict_text(rules)
    assert "剩余电流" in user_words(rules) and "鞋" in user_words(rules)
    assert default_segmenter().user_words == user_words(rules)


@pytest.mark.parametrize(
    ("text", "phrase", "found"),
    [
        ("数据锁定与访问控制", "锁", False),  # lock-in, not a lock
        ("笔记本电脑安全要求", "笔", False),  # notebook computer, not a pen
        ("鞋油的成分", "鞋", False),  # shoe polish: the phrase ends inside a word
        ("门锁安全技术要求", "锁", True),  # door lock: the head of the compound
        ("儿童玩具安全规范", "玩具", True),  # children's toys
        ("女鞋和童鞋的标签", "鞋", True),
        ("锁的安全要求", "锁", True),
        # Japanese phrases mixing kana and kanji: the kanji end or start is a word edge
        ("ガス栓の技術上の基準", "ガス栓", True),
        ("眼鏡フレームの基準", "眼鏡フレーム", True),
    ],
)
def test_phrase_matches_words_not_substrings(text: str, phrase: str, found: bool) -> None:
    matcher = PhraseMatcher([phrase], Segmenter([phrase]))
    hits = matcher.find(normalise_text(text))
    assert bool(hits) is found
    # without segmentation the phrase is found as a substring every time
    assert PhraseMatcher([phrase]).find(normalise_text(text))


@pytest.mark.parametrize(
    ("title", "absent"),
    [
        ("连锁经营企业的服务规范", "locks"),  # chain stores
        ("笔记本电脑电源适配器的安全要求", "pens_stationery"),
        ("数据锁定与访问控制技术要求", "locks"),
    ],
)
def test_longer_words_meaning_something_else_give_no_alert(
    clf: Classifier, title: str, absent: str
) -> None:
    assert absent not in alerted(clf, title)


@pytest.mark.parametrize(
    ("title", "sector"),
    [
        ("儿童玩具安全规范", "toys_playground"),
        ("女鞋和童鞋的标签要求", "footwear_leather"),
        ("家用和类似用途的剩余电流动作断路器", "low_voltage_electrical"),
    ],
)
def test_compounds_whose_head_is_a_sector_word_alert(
    clf: Classifier, title: str, sector: str
) -> None:
    assert sector in alerted(clf, title)


def test_a_segmenter_pickles_as_its_user_words() -> None:
    import pickle

    seg = Segmenter(["剩余电流"])
    back = pickle.loads(pickle.dumps(seg))
    assert back.user_words == seg.user_words
    assert "剩余电流" in back.words("剩余电流动作")


@pytest.mark.parametrize(
    "text",
    [
        "带过电流保护的剩余电流动作断路器RCBO技术要求",
        "数据锁定与访问控制",
        "女鞋和童鞋的标签",
        "鞋油的成分",
    ],
)
def test_run_cuts_agree_with_words(text: str) -> None:
    seg = default_segmenter()
    ends, pos = set(), 0
    for word in seg.words(text):
        pos += len(word)
        ends.add(pos)
    han_ends = {e for e in ends if "\u4e00" <= text[e - 1] <= "\u9fff"}
    assert han_ends <= set(seg.run_cuts(text))
