"""A small, dependency-free language guess from script and a few function words.

Scripts decide first (kana -> ja, Hangul -> ko, Han -> zh, Cyrillic -> ru, Arabic -> ar,
Thai -> th); Latin text is Vietnamese when it carries Vietnamese letters (ơ, ư, đ, ă and the
stacked tone marks), otherwise the language whose common function words and letters it uses most
among English, French, Spanish and Portuguese. ``None`` when the text gives no signal. Deterministic.
"""

from __future__ import annotations

import re

LANGUAGES = ("en", "fr", "es", "pt", "vi", "ru", "ar", "ko", "ja", "zh", "th")
_SCRIPTS = (
    ("ja", re.compile(r"[\u3040-\u30ff]")),
    ("ko", re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", re.compile(r"[\u3400-\u9fff]")),
    ("ru", re.compile(r"[\u0400-\u04ff]")),
    ("ar", re.compile(r"[\u0600-\u06ff\u0750-\u077f]")),
    ("th", re.compile(r"[\u0e00-\u0e7f]")),
)
_NOT_LETTER = re.compile(r"[\W\d_]+")
_BEYOND_GREEK = re.compile(r"[^\x00-\u03ff]")  # every script of _SCRIPTS starts above Greek
_VI = re.compile(r"[ơưđăƠƯĐĂ\u1ea0-\u1ef9]")
_WORD = re.compile(r"[a-zà-ÿœç]+")
_FUNCTION_WORDS = {
    "en": frozenset(["the", "of", "and", "for", "to", "in", "on", "with", "is", "are", "this"]),
    "fr": frozenset(["le", "la", "les", "des", "du", "et", "pour", "sur", "une", "est", "dans"]),
    "es": frozenset(
        ["el", "la", "los", "las", "del", "y", "para", "por", "con", "una", "sobre", "al"]
    ),
    "pt": frozenset(
        ["o", "os", "as", "do", "da", "dos", "das", "e", "com", "uma", "ao", "em", "no", "na"]
    ),
}
# each function word -> the languages it counts for (one pass over a text's words for all four)
_FUNCTION_LANGS: dict[str, tuple[str, ...]] = {
    w: tuple(lang for lang, fw in _FUNCTION_WORDS.items() if w in fw)
    for w in sorted(set().union(*_FUNCTION_WORDS.values()))
}
# ASCII bytes that are not letters ([\W\d_] of an ASCII text): deleted to count its letters
_ASCII_NOT_LETTER = bytes(b for b in range(128) if not chr(b).isalpha())
# letters and endings one of the four uses and the others (almost) never do; every alternative
# opens with a plain character (a word start is checked behind it: l(?<=\bl)l is \bll), so the
# engine skips to the positions of the first characters
_MARK_ALTERNATIVES = {
    "pt": ("ã", "õ", "nh", "lh", r"agem\b"),
    "es": ("ñ", r"ción\b", r"l(?<=\bl)l"),
    "fr": ("è", "œ", r"eaux?\b", r"l(?<=\bl)'", r"d(?<=\bd)'", r"q(?<=\bq)'"),
}
_MARKS = {lang: re.compile("|".join(alts)) for lang, alts in _MARK_ALTERNATIVES.items()}
# any of the marks: most text has none, and one scan then stands for the three
_ANY_MARK = re.compile("|".join(a for alts in _MARK_ALTERNATIVES.values() for a in alts))


def detect(text: str | None) -> str | None:
    """The language of ``text`` as an ISO 639-1 code, or None when it cannot tell."""
    if not text:
        return None
    ascii_text = text.isascii()
    if ascii_text:  # the same count as the pattern's, by a byte deletion
        letters = len(text.encode("ascii").translate(None, _ASCII_NOT_LETTER))
    else:
        letters = len(_NOT_LETTER.sub("", text))
    if not letters:
        return None
    if ascii_text or _BEYOND_GREEK.search(text) is None:
        counts = dict.fromkeys(("ja", "ko", "zh", "ru", "ar", "th"), 0)
    else:
        counts = {lang: len(rx.findall(text)) for lang, rx in _SCRIPTS}
    if counts["ja"] and counts["ja"] + counts["zh"] >= 0.3 * letters:
        return "ja"
    for lang in ("ko", "zh", "ru", "ar", "th"):
        if counts[lang] >= 0.3 * letters:
            return lang
    if not ascii_text and len(_VI.findall(text)) >= max(2, 0.03 * letters):  # _VI is not ASCII
        return "vi"
    lowered = text.lower()
    scores = dict.fromkeys(_FUNCTION_WORDS, 0)
    for word in _WORD.findall(lowered):
        for lang in _FUNCTION_LANGS.get(word, ()):
            scores[lang] += 1
    if _ANY_MARK.search(lowered) is not None:
        for lang, rx in _MARKS.items():
            scores[lang] += 2 * len(rx.findall(lowered))
    best = max(scores, key=lambda k: (scores[k], k == "en"))
    return best if scores[best] else None
