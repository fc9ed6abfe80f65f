"""Where a notification's text says what its scope leaves out.

"This standard does not apply to toys", "Bed linen and mattress protectors are not covered",
"Se excluyen los juguetes", "玩具除外": a product named there is named to be excluded, and is no
evidence that the measure covers it. :func:`exclusion_spans` finds those stretches of already
normalised text (see :func:`tbt_alert.text.phrases.normalise_text`: lower case, NFKC, so
full-width ；！？ arrive as ; ! ?).

Two kinds of cue:

* a cue that opens the excluded part ("does not apply to", "excluding", "except for", "no se
  aplica a", "à l'exception de", "não se aplica", "不适用于"): the part runs to the end of its
  sentence, but stops earlier where the text turns back to what is covered: ", but", ", and",
  "applies to", 但, 也, a closing parenthesis the part did not open. A list cue ("excluding",
  "except for", "sauf", "不包括") also stops at the next comma: "footwear excluding slippers, and
  textile products";
* a cue that closes it ("... are excluded", "... are not covered", "Les jouets sont exclus",
  "...除外"): the part runs back to the start of its clause (the sentence's start, or the last
  comma, colon, opening parenthesis, "while", "but", 但 before the cue). The Romance verb-first
  forms ("se excluyen los juguetes", "sont exclus les jouets", "ficam excluídos os brinquedos")
  open the part when an article follows, as does any closing cue said at a sentence's start.

Conditions are not exclusions: "except as provided in Article 3", "sauf indication contraire",
"is exempt from the marking requirement", "are excluded from Annex II" name no product left out of
the scope, and are not cues. A part is bounded by its sentence and by :data:`MAX_PART` characters;
only the first :data:`MAX_SCAN` characters of a text are read, in one pass over its sentence and
clause breaks, so a hostile text costs time in proportion to its length. Every doubt makes a part
shorter than meant, never longer: a product named outside an exclusion is never lost to it.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

MAX_SCAN = 20_000  # characters of a field read for exclusions (a form's description is ~2,000)
MAX_PART = 400  # characters an excluded part may span
MAX_CUES = 50  # cues read per text

# articles and determiners that open a noun phrase (no prepositions: "exclus du champ" closes)
_DET = (
    r"(?:los|las|el|la|les|le|l'|os|as|o|a|todos|todas|tous|toutes|aquellos|aquellas|ceux|"
    r"celles|aqueles|aquelas)\b"
)
# cues that open a list of excluded products: the part also stops at the next comma
_LIST = (
    r"excluding",
    r"except\s+for",
    r"except\s+those",
    r"with\s+the\s+exception\s+of",
    r"not\s+including",
    rf"excepto(?=\s+{_DET})",
    r"con\s+excepción\s+de",
    r"a\s+excepción\s+de",
    r"sin\s+incluir",
    r"no\s+incluye",
    rf"sauf(?=\s+{_DET})",
    r"à\s+l'exception\s+d(?:es|e|u|')",
    r"à\s+l'exclusion\s+d(?:es|e|u|')",
    rf"hormis(?=\s+{_DET})",
    rf"exceto(?=\s+{_DET})",
    r"com\s+exceção\s+d(?:os|as|e|o|a)",
    r"à\s+exceção\s+d(?:os|as|e|o|a)",
    r"不包括(?!在内)",
)
# cues that open a statement of what the measure does not apply to
_SCOPE = (
    r"(?:does|do|shall|will|should)\s+not\s+apply\s+to",
    r"(?:is|are)\s+not\s+applicable\s+to",
    r"(?:does|do|shall)\s+not\s+cover",
    r"(?:does|do|shall)\s+not\s+concern",
    r"no\s+se\s+aplican\s+a",
    r"ne\s+concerne(?:nt)?\s+pas",
    r"no\s+(?:se\s+)?aplica(?:rá)?\s+(?:a|al|para)",
    r"no\s+(?:es|será)\s+aplicable\s+a",
    r"no\s+comprende",
    r"ne\s+s'applique(?:nt)?\s+pas",
    r"ne\s+couvre\s+pas",
    r"não\s+se\s+aplicam?",
    r"não\s+abrange",
    r"excluem-se",
    r"不适用于",
)
# cues that close the excluded part
_CLOSING = (
    r"(?:is|are)\s+excluded(?!\s+from\s+(?!(?:the\s+)?scope))",
    r"(?:is|are)\s+not\s+covered(?!\s+by\s+(?!(?:this|the\s+present)\b))",
    r"(?:is|are)\s+not\s+included(?!\s+in\s+(?!(?:the\s+)?scope))",
    r"(?:is|are|falls?)\s+outside\s+the\s+scope",
    r"ne\s+sont\s+pas\s+(?:couvert|concerné)e?s",
    r"não\s+são\s+abrangid[oa]s",
    r"不包括在内",
    r"(?<![排消去免])除外(?![\u3400-\u9fff])",
)
# Romance cues that close the part ("les jouets sont exclus", "quedan excluidos del ámbito") or,
# said verb first with an article after them, open it ("se excluyen los juguetes")
_VERB_FIRST = (
    r"se\s+excluyen",
    r"(?:quedan|están)\s+excluid[oa]s",
    r"(?:sont|est)\s+exclue?s?",
    r"(?:são|estão|ficam)\s+excluíd[oa]s",
)
_HAN = re.compile(r"[\u3400-\u9fff]")


def _alternatives(cues: tuple[str, ...]) -> str:
    """Latin cues as whole words (a cue ending in an apostrophe or a look-ahead ends there),
    Chinese ones where they are written."""
    latin = [
        c if c.endswith(("'", ")")) else c + r"(?![0-9a-zà-ÿ])" for c in cues if not _HAN.search(c)
    ]
    han = [c for c in cues if _HAN.search(c)]
    return "|".join([rf"\b(?:{'|'.join(latin)})", *han])


_CUES_BODY = (
    f"(?P<list>{_alternatives(_LIST)})|(?P<scope>{_alternatives(_SCOPE)})|"
    f"(?P<close>{_alternatives(_CLOSING)})|(?P<verb>{_alternatives(_VERB_FIRST)})"
)
# the first characters of all cues, looked at once before any alternative is tried: most
# positions of a text fail there (a test in tests/test_exclusions.py keeps it complete)
_FIRST = "acdefhinqswà不除"
_CUES = re.compile(f"(?=[{_FIRST}])(?:{_CUES_BODY})")
_ARTICLE_NEXT = re.compile(rf"\s+{_DET}")
# every cue holds one of these: a text holding none (most do) is not scanned at all
_STEMS = (
    "not ", "no ", "ne ", "não", "exclu", "excep", "excet", "exceç", "sauf", "hormis", "sin incluir",
    "outside", "不适用", "不包括", "除外",
)  # fmt: skip
# sentence ends: . followed by a space or the end (not after an abbreviation), ; ! ? anywhere
# (Chinese puts no space after them), 。 and line breaks
_END = re.compile(r"\.(?=\s|$)|[;!?。\n]")
_ABBREVIATION = re.compile(r"\b(?:no|nr|art|arts|fig|vol|pp?|sec|para|ref|e\.g|i\.e|cf)$")
# where a clause starts, for a closing cue
_CLAUSE = re.compile(
    r"[,:(]|\b(?:while|whereas|but|however|pero|mientras|mais|tandis\s+que|alors\s+que|mas|"
    r"enquanto)\b|但|而"
)
# what a sentence says is covered, then the 'and' after which it turns to what is not
_COVERED = re.compile(
    r"\b(?:covered|covers|included|includes|applies|apply|regulated|se\s+aplica|cubre|"
    r"s'applique|couvre|aplica-se|abrange)\b[^,;]*?\b(?:and|y|et|e)\b"
)
# where an opened part turns back to what is covered
_TURN = re.compile(
    r",\s*(?:and|or|but|as\s+well\s+as|y|o|pero|et|ou|mais|e|mas)\b|\b(?:but|however|whereas|"
    r"applies|apply|se\s+aplica|s'applique|aplica-se)\b|[)但也并而]|适用"
)


@dataclass(frozen=True, slots=True)
class Exclusion:
    start: int
    end: int
    cue: str  # the cue as written (normalised), for the reason shown to readers


def exclusion_spans(text: str) -> list[Exclusion]:
    """The stretches of normalised ``text`` that name what the scope leaves out, in order."""
    if not text or not any(stem in text for stem in _STEMS):
        return []
    text = text[:MAX_SCAN]
    cues = []
    for m in _CUES.finditer(text):
        cues.append(m)
        if len(cues) >= MAX_CUES:
            break
    if not cues:
        return []
    ends = [m.start() for m in _END.finditer(text) if not _abbreviation(text, m)]
    clauses = [m.end() for m in _CLAUSE.finditer(text)]
    out: list[Exclusion] = []
    for m in cues:
        i = bisect_left(ends, m.start())
        start = ends[i - 1] + 1 if i else 0
        end = ends[i] if i < len(ends) else len(text)
        cue = m.group(0).strip()
        closing = m.group("close") is not None or m.group("verb") is not None
        if closing and not _opens(text, start, m):
            j = bisect_right(clauses, m.start()) - 1
            clause = clauses[j] if j >= 0 and clauses[j] > start else start
            clause = max(clause, m.start() - MAX_PART)
            # "Textiles are covered and toys are excluded": the part starts after the 'and'
            # that follows what the sentence says is covered
            covered = _COVERED.search(text, clause, m.start())
            if covered is not None:
                clause = covered.end()
            out.append(Exclusion(clause, m.start(), cue))
            continue
        stop = min(end, m.end() + MAX_PART)
        turn = _TURN.search(text, m.end(), stop)
        if turn is not None:
            stop = turn.start()
        if m.group("list") is not None:
            comma = text.find(",", m.end(), stop)
            if comma != -1:
                stop = comma
        out.append(Exclusion(m.end(), stop, cue))
    return out


def _abbreviation(text: str, end: re.Match[str]) -> bool:
    """A full stop after 'No', 'art', 'e.g' ('No. 12', 'art. 5') ends no sentence."""
    at = end.start()
    return end.group(0) == "." and _ABBREVIATION.search(text, max(0, at - 5), at) is not None


def _opens(text: str, start: int, cue: re.Match[str]) -> bool:
    """A closing cue opens the part when it starts its sentence ("Sont exclus les jouets"), and a
    Romance verb-first one when an article follows it ("y se excluyen los juguetes")."""
    if not text[start : cue.start()].strip(" \t:,-–("):
        return True
    return cue.group("verb") is not None and _ARTICLE_NEXT.match(text, cue.end()) is not None


def excluded_by(spans: list[Exclusion], start: int, end: int) -> Exclusion | None:
    """The exclusion that holds the stretch [start, end), if any."""
    for span in spans:
        if span.start <= start and end <= span.end:
            return span
    return None
