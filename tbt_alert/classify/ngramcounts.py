"""The n-gram counts of the model's fitted TF-IDF vectorisers, counted over a batch with numpy.

scikit-learn's ``transform`` counts every n-gram of every document in a Python dict: about half
of a batch prediction. Here each batch is counted at once: every n-gram becomes a vocabulary
column (or -1), and ``np.unique`` over (document, column) cells gives the counts in the order
``CountVectorizer.transform`` sorts them. The count matrix (same entries, sorted indices, same
dtype) then takes the TF-IDF transformer's own numpy operations, in its order, without its
per-call input checks (most of the time of a one-record call), so the features are bit for bit
those of ``vectoriser.transform``; a counter is used only after it agreed with its vectoriser on
probe texts. :func:`compile_counter` answers None (use the vectoriser itself) for any setting
other than the two the model uses.

* ``word`` (1, 2): the vectoriser's own preprocessor and tokeniser, unigrams then bigrams joined
  by a space, as its analyser makes them; the counting is all that differs.
* ``char_wb`` (2, 3): the n-grams are never made as strings: each is its code points packed into
  an integer, looked up in the sorted integer keys of the vocabulary. After the analyser's
  white-space normalisation a document is words joined by single spaces; ``" " + words + " "``
  holds every padded word ``" w "``, sharing the spaces. Its bigrams are exactly the padded
  words' bigrams; its trigrams are the padded words' trigrams plus those centred on a space,
  which ``char_wb`` never makes, so no vocabulary entry is one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

_SHIFT = 21  # code points are below 2**21
_TRIGRAM = np.uint64(1 << 63)  # marks a trigram key, so no bigram key equals a trigram key
_RADIX = 1 << 16  # documents or columns up to this many: counted by 16-bit radix sorts
_WHITE_SPACES = re.compile(r"\s\s+")  # the char_wb analyser's own white-space normalisation


def _counts_matrix(
    docs: np.ndarray, columns: np.ndarray, n_docs: int, n_features: int
) -> sp.csr_matrix:
    """The count matrix of the (document, column) pairs, one per n-gram occurrence."""
    cells, counts = _cell_counts(docs, columns, n_docs, n_features)
    rows = cells // n_features
    indptr = np.searchsorted(rows, np.arange(n_docs + 1, dtype=np.int64))
    matrix = sp.csr_matrix(
        (counts.astype(np.intc), (cells % n_features).astype(np.int32), indptr.astype(np.int32)),
        shape=(n_docs, n_features),
        dtype=np.float32,
    )
    matrix.has_sorted_indices = True
    return matrix


def _cell_counts(
    docs: np.ndarray, columns: np.ndarray, n_docs: int, n_features: int
) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(docs * n_features + columns, return_counts=True)``. When documents and columns
    fit 16 bits (every batch the classifier makes), two stable sorts of 16-bit keys (numpy sorts
    those by radix, in linear time: columns, then documents) give the same order at a fraction of
    the cost of sorting the 64-bit cells."""
    if not len(docs) or n_docs > _RADIX or n_features > _RADIX:
        return np.unique(docs * n_features + columns, return_counts=True)
    order = np.argsort(columns.astype(np.uint16), kind="stable")
    order = order[np.argsort(docs[order].astype(np.uint16), kind="stable")]
    cells = docs[order] * n_features + columns[order]
    first = np.empty(len(cells), dtype=bool)
    first[0] = True
    np.not_equal(cells[1:], cells[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    return cells[starts], np.diff(np.append(starts, len(cells)))


def _weigh(tfidf: Any, counts: sp.csr_matrix) -> sp.csr_matrix:
    """``tfidf.transform(counts, copy=False)`` for the settings the model uses (sublinear tf, idf,
    l2 rows), the same numpy operations in the same order, without its per-call input checks."""
    data = counts.data
    np.log(data, data)
    data += 1.0
    data *= tfidf.idf_[counts.indices]
    inplace_csr_row_normalize_l2(counts)
    return counts


@dataclass(frozen=True, slots=True)
class WordCounter:
    vocabulary: dict[str, int]
    preprocess: Callable[[str], str]
    tokenize: Callable[[str], list[str]]
    tfidf: Any  # the vectoriser's fitted TfidfTransformer

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF features of ``texts``, equal to ``vectoriser.transform(texts)``."""
        grams: list[str] = []
        lengths = []
        for text in texts:
            tokens = self.tokenize(self.preprocess(text))
            before = len(grams)
            grams += tokens
            grams += map(" ".join, itertools.pairwise(tokens))
            lengths.append(len(grams) - before)
        columns = np.fromiter(
            map(self.vocabulary.get, grams, itertools.repeat(-1)), dtype=np.int64, count=len(grams)
        )
        docs = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)
        known = columns >= 0
        matrix = _counts_matrix(docs[known], columns[known], len(texts), len(self.vocabulary))
        return _weigh(self.tfidf, matrix)


def _key(gram: str) -> int:
    points = [ord(c) for c in gram]
    if len(points) == 2:
        return (points[0] << _SHIFT) | points[1]
    return (1 << 63) | (points[0] << (2 * _SHIFT)) | (points[1] << _SHIFT) | points[2]


@dataclass(frozen=True, slots=True)
class CharCounter:
    keys: np.ndarray  # sorted uint64 keys of the vocabulary's n-grams
    columns: np.ndarray  # the feature column of each key
    preprocess: Callable[[str], str]
    tfidf: Any  # the vectoriser's fitted TfidfTransformer

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF features of ``texts``, equal to ``vectoriser.transform(texts)``."""
        padded = [
            " " + " ".join(_WHITE_SPACES.sub(" ", self.preprocess(t)).split()) + " " for t in texts
        ]
        lengths = np.fromiter(map(len, padded), dtype=np.int64, count=len(padded))
        points = np.frombuffer("".join(padded).encode("utf-32-le"), dtype=np.uint32).astype(
            np.uint64
        )
        doc = np.repeat(np.arange(len(padded), dtype=np.int64), lengths)
        shift = np.uint64(_SHIFT)
        bigrams = (points[:-1] << shift) | points[1:]
        trigrams = _TRIGRAM | (points[:-2] << (shift + shift)) | bigrams[1:]
        in_doc2, in_doc3 = doc[:-1] == doc[1:], doc[:-2] == doc[2:]
        grams = np.concatenate([bigrams[in_doc2], trigrams[in_doc3]])
        gram_docs = np.concatenate([doc[:-1][in_doc2], doc[:-2][in_doc3]])
        at = np.searchsorted(self.keys, grams)
        at[at == len(self.keys)] = 0
        known = self.keys[at] == grams
        matrix = _counts_matrix(
            gram_docs[known], self.columns[at[known]], len(padded), len(self.keys)
        )
        return _weigh(self.tfidf, matrix)


NgramCounter = WordCounter | CharCounter


def compile_counter(vectoriser: Any) -> NgramCounter | None:
    """A counter for a fitted ``word`` (1, 2) or ``char_wb`` (2, 3) TF-IDF vectoriser with the
    default text handling, or None when the vectoriser is anything else (then call it)."""
    try:
        plain = (
            vectoriser.input == "content"
            and vectoriser.preprocessor is None
            and vectoriser.tokenizer is None
            and vectoriser.stop_words is None
            and not vectoriser.binary
            and vectoriser.dtype == np.float32
        )
        vocabulary: dict[str, int] = vectoriser.vocabulary_
        tfidf = vectoriser._tfidf  # the vectoriser's own TF-IDF step
        preprocess = vectoriser.build_preprocessor()
        analyzer, ngrams = vectoriser.analyzer, tuple(vectoriser.ngram_range)
    except AttributeError:
        return None
    weighing = (
        getattr(tfidf, "sublinear_tf", False) is True
        and getattr(tfidf, "norm", None) == "l2"
        and getattr(getattr(tfidf, "idf_", None), "dtype", None) == np.float32
    )
    if (
        not plain
        or not weighing
        or not vocabulary
        or sorted(vocabulary.values()) != list(range(len(vocabulary)))
    ):
        return None
    counter: NgramCounter | None = None
    if analyzer == "word" and ngrams == (1, 2):
        counter = WordCounter(vocabulary, preprocess, vectoriser.build_tokenizer(), tfidf)
    elif analyzer == "char_wb" and ngrams == (2, 3):
        counter = _char_counter(vocabulary, preprocess, tfidf)
    if counter is None or not _agrees(counter, vectoriser):
        return None
    return counter


PROBES = (
    "",
    "Low-voltage switchgear; LOW voltage  switch-gear\t(HS 8536)",
    "Chaussures à dessus en cuir naturel, ß straße İstanbul",
    "电动自行车用锂离子电池 儿童玩具  安全技术规范",
    "x\x00y \u3000 z",
)


def _agrees(counter: NgramCounter, vectoriser: Any) -> bool:
    """The counter's features equal the vectoriser's on a few probe texts and on its own
    vocabulary written out (every feature at least once), bit for bit."""
    probes = [*PROBES, " ".join(vectoriser.vocabulary_), " | ".join(vectoriser.vocabulary_)]
    ours, theirs = counter.transform(probes), vectoriser.transform(probes)
    return (
        ours.shape == theirs.shape
        and ours.dtype == theirs.dtype
        and all(
            np.array_equal(getattr(ours, part), getattr(theirs, part))
            for part in ("indptr", "indices", "data")
        )
    )


def _char_counter(vocabulary: dict[str, int], preprocess: Any, tfidf: Any) -> CharCounter | None:
    """The integer keys of a char_wb vocabulary, or None if it holds an n-gram char_wb never
    makes (see the module docstring)."""
    for gram in vocabulary:
        impossible = gram == "  " or (len(gram) == 3 and gram[1] == " ")
        if len(gram) not in (2, 3) or impossible or any(ord(c) >> _SHIFT for c in gram):
            return None
    order = sorted(vocabulary, key=_key)
    keys = np.array([_key(g) for g in order], dtype=np.uint64)
    columns = np.array([vocabulary[g] for g in order], dtype=np.int64)
    return CharCounter(keys, columns, preprocess, tfidf)
