"""Retrieval of product text to HS 2022 headings: which headings does a notification's product
wording read like?

:mod:`tbt_alert.text.lexicon` recognises descriptions *quoted* from the nomenclature; this module
ranks every heading (4 digits) and subheading (6) of the bundled table by how much of its English
description a free product text shares ("Safety of children's scooters" reads like 9503,
"gate valves for water supply" like 8481). It is plain TF-IDF over the ~6,900 descriptions: content
words (stop words and the notification boilerplate of TBT forms out: regulation, draft, safety,
requirements, ...), lightly stemmed, plus adjacent-word pairs, weighted by inverse document
frequency across the descriptions and compared by cosine similarity.

The index is built on first use (about a tenth of a second) from ``data/hs2022.csv``; a query is a
handful of array additions over the postings of its words (no model, no per-sector loop), so it is
cheap enough to run on every record.

The text is English only (the table is): other languages retrieve nothing, which is the intended
behaviour (no evidence rather than wrong evidence).
"""

from __future__ import annotations

import csv
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from tbt_alert.text.lexicon import DATA

# Words that say nothing about which product: grammar, the nomenclature's own connectives and the
# vocabulary every TBT notification uses whatever its products (regulation, draft, safety, ...);
# "part" is both "Part 2" of a standard and the generic "parts" of anything: no product either.
# The forms' own sentences too ("Burundi, Kenya, ... would like to inform WTO Members that ...",
# "This regulation specifies the following: Terms and Definitions, Scope, Objectives, ...").
_STOP_WORDS = """
    and the with for not whether than their such including excluding nes n.e.c but being which its
    thereof those this that from other others into kind kinds used use having any all are has
    heading headings subheading chapter no nec etc similar like whose these them they was were
    been also may can shall must will under without within per about between each only new
    product products goods item items
    regulation regulations regulatory technical draft standard standards national specification
    specifications requirement requirements safety test tests testing method methods
    general labelling labeling label labels marking conformity assessment certification
    certificate quality decree resolution order law act ordinance directive amendment amending
    annex addendum corrigendum revision notification notified page pages english spanish french
    arabic chinese hebrew portuguese russian available language edition version proposed
    commission council european parliament ministry ministerial minister official mandatory
    compulsory voluntary procedure procedures rules rule code codes ics cccn tariff item
    government federal state republic implementing application applicable scope measure measures
    provision provisions concerning relating related respect set sets establishing establishes
    part first second third fourth fifth
    wto member members inform would east african africa gulf gcc mercosur states parties party
    territory burundi kenya rwanda tanzania uganda definition definitions term terms objective
    objectives obligation obligations supplier suppliers responsibility responsibilities authority
    authorities surveillance preamble document proposes adoption prepared updated specifies specify
    applies apply establishes concerned intended purpose purposes following hereinafter referred
"""
_STOP = frozenset(_STOP_WORDS.split())
_WORD = re.compile(r"[a-z]{3,}")
_CODES = re.compile(r"\([^)]*\d[^)]*\)|\b\d[\d.,\s/-]*\b")
MAX_QUERY_CHARS = 600  # title + products + the head of the description


_GRAMMAR_WORDS = "and the with for from not than such their whether into other"
_GRAMMAR = frozenset(_GRAMMAR_WORDS.split())


@functools.lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light English stem: plural endings off (valves -> valve, accessories -> accessory);
    the empty string for a stop word."""
    if word in _STOP:
        return ""
    word = _plural_off(word)
    return "" if word in _STOP else word


def _plural_off(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        word = word[:-2]
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    return word


def phrase_words(text: str) -> frozenset[str]:
    """Every word of a (short) phrase that could name a product, stemmed like :func:`terms` but
    keeping the words retrieval ignores ("vehicle parts" -> vehicle, part): for asking whether a
    phrase is made of a heading's words."""
    return frozenset(_plural_off(w) for w in _WORD.findall(text.lower()) if w not in _GRAMMAR)


def terms(text: str) -> list[str]:
    """Content-word stems of ``text`` and the pairs of adjacent ones ("motor vehicle")."""
    words = [w for w in map(stem, _WORD.findall(_CODES.sub(" ", text.lower()))) if w]
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words) if a != b]


@dataclass(frozen=True, slots=True)
class Hit:
    code: str  # heading (4 digits) or subheading (6)
    similarity: float  # cosine, 0..1
    words: tuple[str, ...]  # the query terms it shares with the description (single words)


@dataclass(frozen=True, slots=True)
class HsIndex:
    codes: tuple[str, ...]
    descriptions: tuple[str, ...]
    vocabulary: dict[str, int]  # term -> column
    idf: np.ndarray  # per column
    matrix: sp.csr_matrix  # terms x documents: each document's unit TF-IDF vector
    own_words: tuple[frozenset[str], ...]  # single-word terms of each code's own description

    def search(self, text: str, k: int = 10) -> list[Hit]:
        """The ``k`` best headings and subheadings for ``text``, best first (similarity > 0)."""
        return self.search_many([text], k)[0]

    def search_many(self, texts: Sequence[str], k: int = 10) -> list[list[Hit]]:
        """:meth:`search` for a batch: one sparse product for all texts."""
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        names: list[list[str]] = []
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            found = []
            for t in terms(text[:MAX_QUERY_CHARS]):
                j = self.vocabulary.get(t)
                if j is not None:
                    if j not in counts and " " not in t:
                        found.append(t)
                    counts[j] = counts.get(j, 0) + 1
            names.append(found)
            rows += [r] * len(counts)
            cols += counts
            tfs += counts.values()
        if not cols:
            return [[] for _ in texts]
        col = np.array(cols, dtype=np.int64)
        row = np.array(rows, dtype=np.int64)
        vals = (1.0 + np.log(np.array(tfs, dtype=np.float64))) * self.idf[col]
        norms = np.sqrt(np.bincount(row, weights=vals * vals, minlength=len(texts)))
        q = sp.csr_matrix((vals / norms[row], (row, col)), shape=(len(texts), len(self.idf)))
        sims = (q @ self.matrix).tocsr()
        rank = _specific_first(self.codes)
        indptr, indices, data = sims.indptr.tolist(), sims.indices, sims.data
        out = []
        for r in range(len(texts)):
            s, e = indptr[r], indptr[r + 1]
            idx, val = indices[s:e], data[s:e]
            if e - s > k:
                top = np.argpartition(-val, k - 1)[:k]
                idx, val = idx[top], val[top]
            # best first; among equals the more specific code (a subheading over its heading):
            # (-similarity, rank of the code) tuples sort so without a key function
            ranked = sorted(zip((-val).tolist(), rank[idx].tolist(), idx.tolist(), strict=True))
            words = frozenset(names[r])
            out.append(
                [
                    Hit(self.codes[i], round(-v, 4), tuple(sorted(words & self.own_words[i])))
                    for v, _, i in ranked
                    if v < 0
                ]
            )
        return out


@functools.lru_cache(maxsize=4)
def _specific_first(codes: tuple[str, ...]) -> np.ndarray:
    """Each code's place in the order (longer code first, then the code): a sort key as one
    integer per column."""
    order = sorted(range(len(codes)), key=lambda i: (-len(codes[i]), codes[i]))
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes), dtype=np.int64)
    return rank


@functools.cache
def load_index(path: Path = DATA) -> HsIndex:
    """Headings and subheadings of the bundled nomenclature as unit TF-IDF vectors. A subheading's
    document is its own description plus its heading's, so that terse subheadings ("Vehicles;
    n.e.c. in heading no. 8716") carry the context that says what they are."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = [
            (r["hscode"], r["description"])
            for r in csv.DictReader(f)
            if len(r["hscode"]) in (4, 6) and r["hscode"].isdigit()
        ]
    heading_terms = {code: terms(desc) for code, desc in rows if len(code) == 4}
    vocabulary: dict[str, int] = {}
    doc_ids: list[int] = []
    term_ids: list[int] = []
    tfs: list[float] = []
    own: list[frozenset[str]] = []
    for i, (code, desc) in enumerate(rows):
        mine = heading_terms[code] if len(code) == 4 else terms(desc)
        counts: dict[str, int] = {}
        for t in mine if len(code) == 4 else mine + heading_terms.get(code[:4], []):
            counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            doc_ids.append(i)
            term_ids.append(vocabulary.setdefault(t, len(vocabulary)))
            tfs.append(c)
        own.append(frozenset(t for t in mine if " " not in t))
    n = len(rows)
    term_arr = np.array(term_ids, dtype=np.int64)
    df = np.bincount(term_arr, minlength=len(vocabulary))
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    vals = (1.0 + np.log(np.array(tfs, dtype=np.float64))) * idf[term_arr]
    docs = np.array(doc_ids, dtype=np.int64)
    norms = np.sqrt(np.bincount(docs, weights=vals * vals, minlength=n))
    vals /= norms[docs]
    matrix = sp.csr_matrix((vals, (term_arr, docs)), shape=(len(vocabulary), n))
    return HsIndex(
        tuple(code for code, _ in rows),
        tuple(desc for _, desc in rows),
        vocabulary,
        idf,
        matrix,
        tuple(own),
    )
