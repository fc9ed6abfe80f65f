"""The statistical half of the classifier: TF-IDF word and character n-grams -> one calibrated
logistic regression per sector.

* Character n-grams (``char_wb`` 2-3) make Chinese, French and Spanish records work without a
  tokeniser; word uni- and bigrams carry English phrases.
* Per sector: ``LogisticRegression`` (liblinear, class-balanced, fixed seed), then Platt scaling fitted
  on out-of-fold decision values (deterministic 3-fold split), so scores read as probabilities.
  Sectors with fewer than ``MIN_POSITIVES`` examples get no model: the rules decide alone.
* Prediction is one sparse matrix product over all sectors (no per-sector sklearn calls).
* The model file (joblib) has a JSON sidecar: model version, scikit-learn version, training-data
  hash. A missing file or one written by another scikit-learn version is retrained from the bundled
  data, with a log warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from tbt_alert.errors import TbtAlertError
from tbt_alert.keywords import normalise_text
from tbt_alert.record import CanonicalRecord, parse_record

log = logging.getLogger(__name__)

MODEL_VERSION = "1"
MIN_POSITIVES = 3
SEED = 20240601
MAX_BODY_CHARS = 300  # description/objective characters the model reads (speed; the head says most)
DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL_PATH = DATA_DIR / "model.joblib"
TRAINING_FILES = (DATA_DIR / "labelled.jsonl", DATA_DIR / "analyst_labels.jsonl")


@dataclass(frozen=True, slots=True)
class Example:
    record: CanonicalRecord
    sectors: frozenset[str]


@dataclass(slots=True)
class TextModel:
    sectors: list[str]  # sectors that have a trained column, in column order
    word: TfidfVectorizer
    char: TfidfVectorizer
    coef: np.ndarray  # dense (n_features, n_sectors)
    intercept: np.ndarray
    platt: np.ndarray  # (n_sectors, 2): p = 1 / (1 + exp(a * d + b))
    meta: dict[str, Any] = field(default_factory=dict)

    def predict(self, records: Sequence[CanonicalRecord]) -> list[dict[str, float]]:
        """Calibrated probability per modelled sector, for each record."""
        if not records or not self.sectors:
            return [{} for _ in records]
        texts = [model_text(r) for r in records]
        x = sp.hstack([self.word.transform(texts), self.char.transform(texts)], format="csr")
        d = x @ self.coef + self.intercept
        p = 1.0 / (1.0 + np.exp(self.platt[:, 0] * d + self.platt[:, 1]))
        return [dict(zip(self.sectors, row.tolist(), strict=True)) for row in p]


def model_text(record: CanonicalRecord) -> str:
    """What the model reads: title and products in full, the head of description and objective."""
    body = " ".join(t[:MAX_BODY_CHARS] for t in (record.description, record.objective) if t)
    return normalise_text(" ".join(t for t in (record.title, record.products_text, body) if t))


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, max_features=20000,
                           sublinear_tf=True, token_pattern=r"(?u)\b\w[\w\-]+\b",  # noqa: S106
                           dtype=np.float32)
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), min_df=2, max_features=30000,
                           sublinear_tf=True, dtype=np.float32)
    return word, char


def _classifier() -> LogisticRegression:
    return LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", random_state=SEED)


def _platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=1.0, solver="lbfgs")
    lr.fit(decision.reshape(-1, 1), y)
    return -float(lr.coef_[0, 0]), -float(lr.intercept_[0])


def train_model(examples: Sequence[Example], sector_ids: Iterable[str],
                meta: dict[str, Any] | None = None) -> TextModel:
    """Fit deterministically: same examples in the same order -> the same model."""
    texts = [model_text(e.record) for e in examples]
    word, char = _vectorisers()
    x = sp.hstack([word.fit_transform(texts), char.fit_transform(texts)], format="csr")
    trained, coefs, intercepts, platts = [], [], [], []
    for sid in sector_ids:
        y = np.array([sid in e.sectors for e in examples], dtype=int)
        if y.sum() < MIN_POSITIVES or y.sum() == len(y):
            continue
        folds = StratifiedKFold(n_splits=min(3, int(y.sum())), shuffle=True, random_state=SEED)
        oof = cross_val_predict(_classifier(), x, y, cv=folds, method="decision_function")
        clf = _classifier().fit(x, y)
        trained.append(sid)
        coefs.append(clf.coef_[0])
        intercepts.append(clf.intercept_[0])
        platts.append(_platt(oof, y))
    coef = np.array(coefs, dtype=np.float32).T if coefs else np.zeros((x.shape[1], 0), np.float32)
    return TextModel(trained, word, char, coef, np.array(intercepts), np.array(platts).reshape(-1, 2),
                     meta=dict(meta or {}, sectors=trained, n_examples=len(examples)))


def read_examples(paths: Iterable[Path] = TRAINING_FILES) -> list[Example]:
    """Labelled records from JSON Lines files (missing files skipped; ambiguous ones left out)."""
    out: list[Example] = []
    for path in paths:
        if not path.exists():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if data.get("ambiguous"):
                    continue
                out.append(Example(parse_record(data), frozenset(data.get("gold_sectors") or ())))
            except (ValueError, TbtAlertError) as e:
                raise TbtAlertError(f"{path}:{n}: bad labelled record: {e}") from e
    return out


def data_hash(paths: Iterable[Path] = TRAINING_FILES) -> str:
    h = hashlib.sha256()
    for path in paths:
        if path.exists():
            h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def save_model(model: TextModel, path: Path = DEFAULT_MODEL_PATH) -> None:
    joblib.dump(model, path, compress=3)
    path.with_suffix(".json").write_text(json.dumps(model.meta, indent=2, sort_keys=True) + "\n",
                                         encoding="utf-8")


def build_default_model(sector_ids: Iterable[str]) -> TextModel:
    """Train on the bundled labelled data plus analysts' labels."""
    meta = {"model_version": MODEL_VERSION, "sklearn_version": sklearn.__version__,
            "training_data_sha256_16": data_hash(),
            "training_files": [p.name for p in TRAINING_FILES if p.exists()]}
    return train_model(read_examples(), list(sector_ids), meta)


def load_model(sector_ids: Iterable[str], path: Path | None = None) -> TextModel:
    """Load the model file; retrain in memory (with a warning) if it is missing or stale."""
    path = path or DEFAULT_MODEL_PATH
    sidecar = path.with_suffix(".json")
    reason = None
    if not path.exists() or not sidecar.exists():
        reason = f"model file {path} is missing"
    else:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("sklearn_version") != sklearn.__version__:
            reason = (f"model file {path} was written by scikit-learn {meta.get('sklearn_version')}, "
                      f"this is {sklearn.__version__}")
        elif meta.get("model_version") != MODEL_VERSION:
            reason = f"model file {path} has model version {meta.get('model_version')}, expected {MODEL_VERSION}"
    if reason:
        log.warning("%s: retraining from the bundled labelled data (run 'tbt-alert train' to save it)",
                    reason)
        return build_default_model(sector_ids)
    model: TextModel = joblib.load(path)  # our own file, written by save_model
    if model.meta.get("training_data_sha256_16") != data_hash():
        log.warning("model file %s was trained on other labelled data; run 'tbt-alert train'", path)
    return model
