"""The batch n-gram counter gives the model exactly the features scikit-learn's transform gives."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from tbt_alert.classify.ngramcounts import CharCounter, WordCounter, compile_counter
from tbt_alert.classify.textmodel import DATA_DIR, model_text
from tbt_alert.record import parse_record

AWKWARD = [
    "",
    " ",
    "a",
    "Ab  c\t\u3000d  ",
    "İstanbul ŞEKER ß straße",
    "x\x00y  z",
    "中文 测试\n\n一",
    "  leading and trailing  ",
    "low-voltage switch-gear; Low voltage SWITCHGEAR",
    "emoji \U0001f600 and \U0001f600\U0001f600",
]


def _texts() -> list[str]:
    lines = (DATA_DIR / "labelled.jsonl").read_text(encoding="utf-8").splitlines()
    return [model_text(parse_record(json.loads(line))) for line in lines]


@pytest.fixture(scope="module")
def vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    from tbt_alert.classify.textmodel import _vectorisers

    word, char = _vectorisers()
    texts = _texts()
    word.fit(texts)
    char.fit(texts)
    return word, char


def _same(a: object, b: object) -> None:
    import scipy.sparse as sp

    assert sp.issparse(a) and sp.issparse(b)
    assert a.shape == b.shape  # type: ignore[attr-defined]
    assert a.dtype == b.dtype  # type: ignore[attr-defined]
    for part in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a, part), getattr(b, part)), part


@pytest.mark.parametrize("kind", [0, 1])
def test_counter_equals_transform(vectorisers: tuple[TfidfVectorizer, ...], kind: int) -> None:
    vectoriser = vectorisers[kind]
    counter = compile_counter(vectoriser)
    assert isinstance(counter, (WordCounter, CharCounter)[kind])
    texts = _texts()
    for batch in (texts, texts[:1], AWKWARD, AWKWARD[3:4], [t.upper() for t in texts[:20]]):
        _same(counter.transform(batch), vectoriser.transform(batch))


def test_other_settings_use_the_vectoriser() -> None:
    texts = _texts()
    for vectoriser in (
        TfidfVectorizer(analyzer="char", ngram_range=(2, 3)).fit(texts),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3)).fit(texts),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 3)).fit(texts),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), stop_words=["the"]).fit(texts),
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), dtype=np.float64).fit(texts),
    ):
        assert compile_counter(vectoriser) is None
    assert compile_counter(TfidfVectorizer()) is None  # not fitted


@pytest.mark.parametrize(("n_docs", "n_features"), [(3, 50), (70_000, 50), (3, 70_000), (0, 5)])
def test_cell_counts_equal_unique(n_docs: int, n_features: int) -> None:
    """The 16-bit radix path and the np.unique fallback give np.unique's cells and counts."""
    from tbt_alert.classify.ngramcounts import _cell_counts

    rng = np.random.default_rng(7)
    size = 0 if n_docs == 0 else 5000
    docs = rng.integers(0, max(n_docs, 1), size).astype(np.int64)
    columns = rng.integers(0, n_features, size).astype(np.int64)
    cells, counts = _cell_counts(docs, columns, n_docs, n_features)
    want_cells, want_counts = np.unique(docs * n_features + columns, return_counts=True)
    assert np.array_equal(cells, want_cells)
    assert np.array_equal(counts, want_counts)
    assert counts.sum() == size
