"""The HS 2022 nomenclature as a product lexicon: recognise HS descriptions quoted in text.

ePing's "products covered" field, and many titles, quote the nomenclature ("Footwear with outer
soles of rubber, plastics, leather or composition leather and uppers of textile materials
(HS 6404)"). Such a span says which code the products fall under; the words inside it
("leather", "textile materials") describe that code, not the measure. :func:`quoted_descriptions`
finds the spans and attributes each to the heading or subheading whose description it quotes.

Matching is by content words, not characters, because quotations follow the legal text while the
bundled table (``data/hs2022.csv``, UN Comtrade wording, public domain: see its provenance file)
words headings slightly differently. A text segment (between ``;``, line breaks and code
parentheses) is a quotation when it shares at least ``MIN_SHARED`` content words with one
description, at least ``MIN_SEGMENT_SHARE`` of the segment's content words are in it, and at least
``MIN_DESCRIPTION_SHARE`` of the description's content words are in the segment.
"""

from __future__ import annotations

import csv
import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "hs2022.csv"
MIN_SHARED = 4
MIN_SEGMENT_SHARE = 0.75
MIN_DESCRIPTION_SHARE = 0.5
MAX_POSTINGS = 120  # words in more descriptions than this only score, never select candidates
_STOP = frozenset(
    [
        "and",
        "the",
        "with",
        "for",
        "not",
        "whether",
        "than",
        "their",
        "such",
        "including",
        "excluding",
        "nes",
        "but",
        "being",
        "which",
        "its",
        "thereof",
        "those",
        "this",
        "that",
        "from",
        "other",
        "others",
        "into",
        "kind",
        "kinds",
        "used",
        "use",
        "having",
        "any",
        "all",
        "are",
        "has",
        "or",
        "of",
        "in",
        "on",
        "by",
        "to",
        "as",
        "at",
    ]
)
_WORD = re.compile(r"[a-z]{3,}")
_SEGMENT = re.compile(r"[;\n|]|\((?:hs|sa|cccn|ics|ncm)\b[^)]*\)|\b(?:hs|sa)\s*:?\s*[\d.]{4,}")


@dataclass(frozen=True, slots=True)
class Quote:
    start: int
    end: int
    code: str  # the heading (4) or subheading (6) whose description is quoted
    shared: int  # content words shared with that description


def content_words(text: str) -> frozenset[str]:
    """Lower-case words of three letters or more, stop words out, a plural 's' dropped."""
    out = set()
    for w in _WORD.findall(text.lower()):
        if w in _STOP:
            continue
        out.add(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Lexicon:
    words: dict[str, frozenset[str]]  # code -> content words of its description
    postings: dict[str, tuple[str, ...]]  # content word -> codes whose description has it
    descriptions: dict[str, str]  # code -> description as written

    def best(self, segment: str) -> tuple[str, int] | None:
        """(code, shared words) of the description this segment quotes, or None."""
        seg = content_words(segment)
        if len(seg) < MIN_SHARED:
            return None
        counts: Counter[str] = Counter()
        common = 0  # words of the segment in too many descriptions to select candidates
        for w in seg:
            codes = self.postings.get(w, ())
            if len(codes) <= MAX_POSTINGS:
                counts.update(codes)
            else:
                common += 1
        # a description shares at most its rare words and the common ones: the candidates that
        # cannot reach the shares below are passed over without reading their words
        need = max(2, MIN_SHARED - common, MIN_SEGMENT_SHARE * len(seg) - common)
        best: tuple[float, int, str] | None = None
        for code, rare in counts.items():
            if rare < need:
                continue
            desc = self.words[code]
            shared = len(seg & desc)
            if shared < MIN_SHARED or shared < MIN_SEGMENT_SHARE * len(seg):
                continue
            if shared < MIN_DESCRIPTION_SHARE * len(desc):
                continue
            key = (shared / len(seg | desc), len(code), code)
            if best is None or key > best:
                best = key
        return (best[2], len(seg & self.words[best[2]])) if best else None


@functools.cache
def load_lexicon(path: Path = DATA) -> Lexicon:
    """Headings and subheadings of the bundled nomenclature, indexed by content word."""
    words: dict[str, frozenset[str]] = {}
    descriptions: dict[str, str] = {}
    postings: dict[str, list[str]] = {}
    with path.open(encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f):
            code = row["hscode"]
            if len(code) not in (4, 6) or not code.isdigit():
                continue
            descriptions[code] = row["description"]
            words[code] = content_words(row["description"])
            for w in words[code]:
                postings.setdefault(w, []).append(code)
    return Lexicon(words, {w: tuple(c) for w, c in postings.items()}, descriptions)


def quoted_descriptions(text: str, lexicon: Lexicon | None = None) -> list[Quote]:
    """Spans of ``text`` that quote an HS description, each with its code (in text order)."""
    if len(text) < 20 or not _WORD.search(text):
        return []
    lexicon = lexicon or load_lexicon()
    out: list[Quote] = []
    pos = 0
    for m in [*_SEGMENT.finditer(text), None]:
        end = m.start() if m else len(text)
        segment = text[pos:end]
        found = lexicon.best(segment) if len(segment) >= 20 else None
        if found:
            lead = len(segment) - len(segment.lstrip())
            out.append(Quote(pos + lead, pos + len(segment.rstrip()), found[0], found[1]))
        pos = m.end() if m else len(text)
    return out
