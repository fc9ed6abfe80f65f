"""The jieba user dictionary of sector terms, generated from the rules.

Every Chinese phrase of the rules (product phrases, weak and negative phrases, cross-cutting
triggers and product words) is a user word, so the segmenter keeps it whole: 剩余电流 is one word,
not 剩余 + 电流. ``rules/zh_words.txt`` is this list for the shipped rules (tests keep it equal);
an index built from other rules uses their own list.
"""

from __future__ import annotations

from pathlib import Path

from tbt_alert.classify.rules import Rules
from tbt_alert.resources import resource_dir
from tbt_alert.text.phrases import phrase_key
from tbt_alert.text.segment import USER_DICT_NAME, has_han

HEADER = "# jieba user words: the Chinese phrases of sectors.yaml (tbt_alert.classify.userdict)\n"


def user_words(rules: Rules) -> tuple[str, ...]:
    """Sorted Chinese phrases of the rules, in their normalised form, without spaces."""
    phrases: set[str] = set()
    for s in rules.sectors:
        phrases.update(s.keywords, s.weak_keywords, s.negatives)
    for c in rules.cross_cutting:
        phrases.update(c.triggers)
        phrases.update(p for p, _ in c.fan_out)
    keys = {phrase_key(p) for p in phrases}
    return tuple(sorted(k for k in keys if has_han(k) and " " not in k))


def user_dict_text(rules: Rules) -> str:
    return HEADER + "".join(w + "\n" for w in user_words(rules))


def write_user_dict(rules: Rules, path: Path | None = None) -> Path:
    """Regenerate ``rules/zh_words.txt`` (run after editing the Chinese phrases)."""
    path = path or resource_dir("rules") / USER_DICT_NAME
    path.write_text(user_dict_text(rules), encoding="utf-8")
    return path
