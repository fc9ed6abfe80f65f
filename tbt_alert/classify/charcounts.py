"""The character n-gram counts of a fitted ``char_wb`` TF-IDF vectoriser, computed with numpy.

scikit-learn's ``char_wb`` analyser builds every n-gram as a Python string and counts it in a
Python dict: about half of a batch prediction. Here each n-gram is an integer (its code points
packed into 64 bits), looked up in the sorted integer keys of the fitted vocabulary, and counted
with ``np.unique`` over the whole batch. The count matrix is the one ``CountVectorizer.transform``
builds (same entries, sorted indices, same dtype), then goes through the vectoriser's own TF-IDF
step, so the features are bit-for-bit those of ``vectoriser.transform``.

Why the counts agree: after the analyser's white-space normalisation a document is words joined
by single spaces; ``" " + words + " "`` holds every padded word ``" w "``, sharing the spaces.
Its bigrams are exactly the padded words' bigrams. Its trigrams are the padded words' trigrams
plus those centred on a space, which ``char_wb`` never produces, so no vocabulary entry is one.
:func:`compile_char_counter` answers None (use the vectoriser itself) for any other setting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

_SHIFT = 21  # code points are below 2**21
_TRIGRAM = np.uint64(1 << 63)  # marks a trigram key, so no bigram key equals a trigram key
_WHITE_SPACES = re.compile(r"\s\s+")  # the analyser's own white-space normalisation


def _key(gram: str) -> int:
    points = [ord(c) for c in gram]
    if len(points) == 2:
        return (points[0] << _SHIFT) | points[1]
    return (1 << 63) | (points[0] << (2 * _SHIFT)) | (points[1] << _SHIFT) | points[2]


@dataclass(frozen=True, slots=True)
class CharCounter:
    keys: np.ndarray  # sorted uint64 keys of the vocabulary's n-grams
    columns: np.ndarray  # the feature column of each key
    n_features: int
    tfidf: Any  # the vectoriser's fitted TfidfTransformer

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF features of ``texts``, equal to ``vectoriser.transform(texts)``."""
        padded = [" " + " ".join(_WHITE_SPACES.sub(" ", t.lower()).split()) + " " for t in texts]
        lengths = np.fromiter((len(s) for s in padded), dtype=np.int64, count=len(padded))
        points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(
            np.uint64
        )
        doc = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
        shift = np.uint64(_SHIFT)
        bigrams = (points[:-1] << shift) | points[1:]
        trigrams = _TRIGRAM | (points[:-2] << (shift + shift)) | (bigrams[1:])
        grams = np.concatenate([bigrams[doc[:-1] == doc[1:]], trigrams[doc[:-2] == doc[2:]]])
        gram_docs = np.concatenate([doc[:-1][doc[:-1] == doc[1:]], doc[:-2][doc[:-2] == doc[2:]]])
        at = np.searchsorted(self.keys, grams)
        at[at == len(self.keys)] = 0
        known = self.keys[at] == grams
        cells = gram_docs[known] * self.n_features + self.columns[at[known]]
        cells, counts = np.unique(cells, return_counts=True)
        rows = cells // self.n_features
        indptr = np.searchsorted(rows, np.arange(len(padded) + 1, dtype=np.int64))
        counts_matrix = sp.csr_matrix(
            (
                counts.astype(np.intc),
                (cells % self.n_features).astype(np.int32),
                indptr.astype(np.int32),
            ),
            shape=(len(padded), self.n_features),
            dtype=np.float32,
        )
        counts_matrix.has_sorted_indices = True
        return self.tfidf.transform(counts_matrix, copy=False)


def compile_char_counter(vectoriser: Any) -> CharCounter | None:
    """A :class:`CharCounter` for a fitted ``char_wb`` (2, 3) TF-IDF vectoriser with the default
    text handling, or None when the vectoriser is anything else (then call it directly)."""
    try:
        plain = (
            vectoriser.analyzer == "char_wb"
            and tuple(vectoriser.ngram_range) == (2, 3)
            and vectoriser.input == "content"
            and vectoriser.lowercase
            and vectoriser.preprocessor is None
            and vectoriser.strip_accents is None
            and not vectoriser.binary
            and vectoriser.dtype == np.float32
        )
        vocabulary: dict[str, int] = vectoriser.vocabulary_
        tfidf = vectoriser._tfidf  # the vectoriser's own TF-IDF step
    except AttributeError:
        return None
    if not plain or not vocabulary:
        return None
    for gram in vocabulary:
        impossible = gram == "  " or (len(gram) == 3 and gram[1] == " ")
        if len(gram) not in (2, 3) or impossible or any(ord(c) >> _SHIFT for c in gram):
            return None  # not an n-gram char_wb makes (see the module docstring)
    order = sorted(vocabulary, key=_key)
    keys = np.array([_key(g) for g in order], dtype=np.uint64)
    columns = np.array([vocabulary[g] for g in order], dtype=np.int64)
    return CharCounter(keys, columns, len(vocabulary), tfidf)
