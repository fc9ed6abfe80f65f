"""Where a notification's text says what its scope leaves out.

"This standard does not apply to toys", "Bed linen and mattress protectors are not covered",
"Se excluyen los juguetes", "玩具除外": a product named there is named to be excluded, and is no
evidence that the measure covers it. :func:`exclusion_spans` finds those stretches of already
normalised text (see :func:`tbt_alert.text.phrases.normalise_text`: lower case, NFKC).

Two kinds of cue:

* a cue that opens the excluded part ("does not apply to", "excluding", "except", "no se aplica
  a", "à l'exception de", "não se aplica", "不适用于"): the span runs from the cue to the end of
  its sentence, or of the parenthesis it stands in;
* a cue that closes it ("... are excluded", "... are not covered", "... sont exclus", "...除外"):
  the span runs from the start of its clause (the sentence's start, or the last comma, colon or
  opening parenthesis before the cue) to the cue. Said at the start of a sentence ("Sont exclus
  les jouets ..."), such a cue opens the part instead.

Sentences end at . ; ! ? and their full-width forms followed by a space or the end, and at line
breaks. A decimal point or an abbreviation ("No. 12") may end a sentence early: the span is then
shorter than meant, never longer, so a product named outside the exclusion is never lost to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_OPENING = (
    # English
    "does not apply to",
    "do not apply to",
    "shall not apply to",
    "will not apply to",
    "is not applicable to",
    "are not applicable to",
    "does not cover",
    "do not cover",
    "shall not cover",
    "excluding",
    "except",
    "with the exception of",
    "not including",
    # Spanish
    "no se aplica a",
    "no se aplica al",
    "no se aplica para",
    "no aplica a",
    "no aplica para",
    "no será aplicable a",
    "no es aplicable a",
    "excepto",
    "con excepción de",
    "a excepción de",
    "salvo",
    "no incluye",
    "no comprende",
    # French
    "ne s'applique pas",
    "ne s'appliquent pas",
    "à l'exception de",
    "à l'exception des",
    "à l'exclusion de",
    "à l'exclusion des",
    "sauf",
    "hormis",
    "ne couvre pas",
    # Portuguese
    "não se aplica",
    "não se aplicam",
    "exceto",
    "com exceção de",
    "à exceção de",
    "não abrange",
    "excluem-se",
    # Chinese
    "不适用于",
    "不包括",
)
_CLOSING = (
    # English
    "are excluded",
    "is excluded",
    "are not covered",
    "is not covered",
    "are not included",
    "is not included",
    "are exempted",
    "is exempted",
    "are exempt",
    "is exempt",
    "are outside the scope",
    "is outside the scope",
    "fall outside the scope",
    "falls outside the scope",
    # Spanish
    "se excluyen",
    "quedan excluidos",
    "quedan excluidas",
    "están excluidos",
    "están excluidas",
    "quedan exentos",
    "quedan exentas",
    # French
    "sont exclus",
    "sont exclues",
    "est exclu",
    "est exclue",
    "ne sont pas couverts",
    "ne sont pas couvertes",
    "ne sont pas concernés",
    "ne sont pas concernées",
    # Portuguese
    "são excluídos",
    "são excluídas",
    "estão excluídos",
    "estão excluídas",
    "ficam excluídos",
    "ficam excluídas",
    "não são abrangidos",
    "não são abrangidas",
    # Chinese
    "除外",
)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _cue_pattern(cues: tuple[str, ...]) -> str:
    """Latin cues as whole words (one word-boundary test for all of them), Chinese ones wherever
    they are written; the longest first."""
    ordered = sorted(cues, key=len, reverse=True)
    latin = [re.escape(c).replace(r"\ ", r"\s+") for c in ordered if not _HAN.match(c)]
    han = [re.escape(c) for c in ordered if _HAN.match(c)]
    return "|".join([rf"\b(?:{'|'.join(latin)})\b", *han])


_CUES = re.compile(f"(?P<open>{_cue_pattern(_OPENING)})|(?P<close>{_cue_pattern(_CLOSING)})")
# every cue holds one of these: a text holding none (most do) is not scanned at all
_STEMS = (
    "appl",
    "aplic",
    "exclu",
    "exce",
    "cover",
    "couv",
    "inclu",
    "exempt",
    "exent",
    "outside",
    "salvo",
    "compren",
    "sauf",
    "hormis",
    "concern",
    "abrang",
    "不适用",
    "不包括",
    "除外",
)
_SENTENCE_END = re.compile(r"[.;!?](?=\s|$)|[。；！？\n]")


@dataclass(frozen=True, slots=True)
class Exclusion:
    start: int
    end: int
    cue: str  # the cue as written (normalised), for the reason shown to readers


def exclusion_spans(text: str) -> list[Exclusion]:
    """The stretches of normalised ``text`` that name what the scope leaves out, in order."""
    if not text or not any(stem in text for stem in _STEMS):
        return []
    out: list[Exclusion] = []
    for m in _CUES.finditer(text):
        start = _sentence_start(text, m.start())
        opens = m.group("open") is not None or not text[start : m.start()].strip(" \t:,-–(")
        if opens:
            out.append(Exclusion(m.end(), _part_end(text, start, m.end()), m.group(0)))
        else:
            out.append(Exclusion(_clause_start(text, start, m.start()), m.start(), m.group(0)))
    return out


def _sentence_start(text: str, pos: int) -> int:
    start = 0
    for m in _SENTENCE_END.finditer(text, 0, pos):
        start = m.end()
    return start


def _part_end(text: str, start: int, pos: int) -> int:
    """Where an opened exclusion ends: its sentence's end, or the closing parenthesis of the
    parenthesis it stands in ("(it does not apply to toys)")."""
    m = _SENTENCE_END.search(text, pos)
    end = m.start() if m else len(text)
    if text.count("(", start, pos) > text.count(")", start, pos):
        close = text.find(")", pos, end)
        if close != -1:
            return close
    return end


# what may stand between an excluded list and the sentence's start: a closing cue excludes only
# the clause it ends ("Mattresses are covered, bed linen is not covered"; "(filters for direct
# observation of the sun are excluded)"; "所有货物，但……除外")
_CLAUSE_BREAK = re.compile(r"[,，:：(（]|但")


def _clause_start(text: str, start: int, pos: int) -> int:
    for m in _CLAUSE_BREAK.finditer(text, start, pos):
        start = m.end()
    return start


def excluded_by(spans: list[Exclusion], start: int, end: int) -> Exclusion | None:
    """The exclusion that holds the stretch [start, end), if any."""
    for span in spans:
        if span.start <= start and end <= span.end:
            return span
    return None
