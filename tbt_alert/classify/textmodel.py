"""The statistical half of the classifier: TF-IDF word and character n-grams plus the rules' own
evidence -> one calibrated logistic regression per sector.

* Character n-grams (``char_wb`` 2-3) make Chinese, French and Spanish records work without a
  tokeniser; word uni- and bigrams carry English phrases.
* With 2-10 labelled positives per sector the text alone teaches little, so training adds one
  pseudo-document per product phrase of the rules file (en/fr/es/zh), labelled with its sector:
  the model sees every language's vocabulary, and its character n-grams reach inflections and
  compounds the exact phrase matcher misses (chaussure/chaussures, 电器开关/开关电器).
* Stacking: per sector three rule features (rule score / 5 capped at 1, "a product phrase matched",
  "a strong code matched"). Rules are fixed functions of the record, fitted on nothing in a training
  fold, so they need no out-of-fold treatment; pseudo-documents get zero rule features.
* Per sector: ``LogisticRegression`` (liblinear, class-balanced, fixed seed), then Platt scaling fitted
  on out-of-fold decision values (deterministic 3-fold split), so scores read as probabilities.
  Sectors with fewer than ``MIN_POSITIVES`` examples (pseudo-documents included) get no model.
* Prediction is one sparse matrix product over all sectors (no per-sector sklearn calls); the
  batch's n-grams are counted with numpy (:mod:`tbt_alert.classify.ngramcounts`), giving exactly
  the vectorisers' own features.
* The model file (joblib) has a JSON sidecar: model version, scikit-learn version, training-data
  hash. A missing file or one written by another scikit-learn version is retrained from the bundled
  data, with a log warning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import weakref
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

from tbt_alert.classify.evidence import (
    RecordEvidence,
    RuleIndex,
    build_index,
    collect_evidence_many,
)
from tbt_alert.classify.ngramcounts import NgramCounter, compile_counter
from tbt_alert.classify.rules import Rules, load_rules
from tbt_alert.classify.split import held_symbols
from tbt_alert.errors import TbtAlertError
from tbt_alert.record import CanonicalRecord, parse_record
from tbt_alert.text.phrases import normalise_text

log = logging.getLogger(__name__)

MODEL_VERSION = "2"  # 2: keyword pseudo-documents and stacked rule features
MIN_POSITIVES = 3
RULE_FEATURES = 3  # per sector: capped rule score, phrase matched, strong code matched
RULE_SCORE_CAP = 5.0
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
    rule_sectors: list[str] = field(default_factory=list)  # sectors whose rule features are stacked
    index: RuleIndex | None = None  # compiled rules, for callers that pass no evidence

    def predict(
        self, records: Sequence[CanonicalRecord], evidence: Sequence[RecordEvidence] | None = None
    ) -> list[dict[str, float]]:
        """Calibrated probability per modelled sector, for each record.

        ``evidence``: each record's own rule evidence (``collect_evidence_many``), if the caller has it;
        otherwise it is computed here with the rules the model was trained with.
        """
        if not records or not self.sectors:
            return [{} for _ in records]
        texts = [model_text(r) for r in records]
        parts = [_features(self.word, texts), _features(self.char, texts)]
        if self.rule_sectors:
            if evidence is None:
                if self.index is None:
                    raise TbtAlertError(
                        "model has stacked rule features but no rules to compute them"
                    )
                evidence = collect_evidence_many(self.index, records)
            parts.append(rule_features(evidence, self.rule_sectors))
        x = sp.hstack(parts, format="csr")
        d = x @ self.coef + self.intercept
        p = 1.0 / (1.0 + np.exp(self.platt[:, 0] * d + self.platt[:, 1]))
        return [dict(zip(self.sectors, row.tolist(), strict=True)) for row in p]


_COUNTERS: weakref.WeakKeyDictionary[TfidfVectorizer, NgramCounter | None] = (
    weakref.WeakKeyDictionary()
)


def _features(vectoriser: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vectoriser.transform(texts)``, counted by the batch counter compiled once for it."""
    if vectoriser not in _COUNTERS:
        _COUNTERS[vectoriser] = compile_counter(vectoriser)
    counter = _COUNTERS[vectoriser]
    return counter.transform(texts) if counter else vectoriser.transform(texts)


def model_text(record: CanonicalRecord) -> str:
    """What the model reads: title and products in full, the head of description and objective."""
    body = " ".join(t[:MAX_BODY_CHARS] for t in (record.description, record.objective) if t)
    return normalise_text(" ".join(t for t in (record.title, record.products_text, body) if t))


def rule_features(evidence: Sequence[RecordEvidence], sector_ids: Sequence[str]) -> sp.csr_matrix:
    """The stacked rule features: per sector (capped score, phrase matched, strong code matched)."""
    rows = np.zeros((len(evidence), RULE_FEATURES * len(sector_ids)), dtype=np.float32)
    for i, ev in enumerate(evidence):
        for j, sid in enumerate(sector_ids):
            e = ev.sectors.get(sid)
            if e is not None:
                rows[i, RULE_FEATURES * j : RULE_FEATURES * (j + 1)] = (
                    min(e.score / RULE_SCORE_CAP, 1.0),
                    float(e.text),
                    float(e.strong_code),
                )
    return sp.csr_matrix(rows)


def keyword_documents(rules: Rules) -> list[tuple[str, str]]:
    """One pseudo-document per product phrase of the rules file: (normalised phrase, sector)."""
    return [(normalise_text(kw), s.id) for s in rules.sectors for kw in s.keywords]


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        min_df=1,
        max_features=20000,
        sublinear_tf=True,
        token_pattern=r"(?u)\b\w[\w\-]+\b",  # noqa: S106
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(2, 3),
        min_df=2,
        max_features=30000,
        sublinear_tf=True,
        dtype=np.float32,
    )
    return word, char


def _classifier() -> LogisticRegression:
    return LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", random_state=SEED)


def _platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    lr = LogisticRegression(C=1.0, solver="lbfgs")
    lr.fit(decision.reshape(-1, 1), y)
    return -float(lr.coef_[0, 0]), -float(lr.intercept_[0])


def train_model(
    examples: Sequence[Example],
    sector_ids: Iterable[str],
    meta: dict[str, Any] | None = None,
    rules: Rules | None = None,
    index: RuleIndex | None = None,
) -> TextModel:
    """Fit deterministically: same examples in the same order -> the same model.

    With ``rules`` (or a compiled ``index``), training adds the keyword pseudo-documents and
    stacks the rule features; without, it is a text-only model (model version 1 behaviour).
    """
    sector_ids = list(sector_ids)
    if index is None and rules is not None:
        index = build_index(rules)
    texts = [model_text(e.record) for e in examples]
    labels = [e.sectors for e in examples]
    docs = keyword_documents(index.rules) if index is not None else []
    texts += [d for d, _ in docs]
    labels += [frozenset({sid}) for _, sid in docs]
    word, char = _vectorisers()
    parts = [word.fit_transform(texts), char.fit_transform(texts)]
    rule_sectors = list(index.rules.ids) if index is not None else []
    if index is not None:
        feats = rule_features(
            collect_evidence_many(index, [e.record for e in examples]), rule_sectors
        )
        parts.append(
            sp.vstack([feats, sp.csr_matrix((len(docs), feats.shape[1]), dtype=np.float32)])
        )
    x = sp.hstack(parts, format="csr")
    trained, coefs, intercepts, platts = [], [], [], []
    for sid in sector_ids:
        y = np.array([sid in lab for lab in labels], dtype=int)
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
    coef = np.ascontiguousarray(coef)  # the sparse product reads it row-major: no copy per call
    return TextModel(
        trained,
        word,
        char,
        coef,
        np.array(intercepts),
        np.array(platts).reshape(-1, 2),
        meta=dict(
            meta or {},
            sectors=trained,
            n_examples=len(examples),
            n_keyword_documents=len(docs),
            stacked_rule_features=bool(rule_sectors),
        ),
        rule_sectors=rule_sectors,
        index=index,
    )


def jsonl_text(path: Path) -> str:
    """The text of a labelled JSON Lines file; a file that is not UTF-8 is refused by name."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise TbtAlertError(
            f"{path} is not UTF-8 text (byte {e.start + 1}): give a JSON Lines file"
        ) from e


def read_examples(paths: Iterable[Path] = TRAINING_FILES) -> list[Example]:
    """Labelled records from JSON Lines files (missing files skipped; ambiguous ones left out)."""
    out: list[Example] = []
    for path in paths:
        if not path.exists():
            continue
        for n, line in enumerate(jsonl_text(path).splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise TbtAlertError("a record must be a JSON object")
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
    path.with_suffix(".json").write_text(
        json.dumps(model.meta, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )


def build_default_model(
    sector_ids: Iterable[str],
    rules: Rules | None = None,
    extra: Sequence[Example] = (),
    extra_meta: dict[str, Any] | None = None,
) -> TextModel:
    """Train on the bundled labelled data plus analysts' labels (and the rules' phrases), leaving
    out every record of the frozen test part (:mod:`tbt_alert.classify.split`). ``extra``: more
    examples (analysts' decisions from the database, test part already left out); one for a
    symbol the bundled data also labels replaces the bundled one."""
    rules = rules or load_rules()
    meta = {
        "model_version": MODEL_VERSION,
        "sklearn_version": sklearn.__version__,
        "training_data_sha256_16": data_hash(),
        "rules_version": rules.version,
        "training_files": [p.name for p in TRAINING_FILES if p.exists()],
        **(extra_meta or {}),
    }
    replaced = {e.record.symbol for e in extra}
    examples = [e for e in read_examples() if e.record.symbol not in replaced]
    held = held_symbols()
    train = [e for e in examples if e.record.symbol not in held]
    meta["test_part_left_out"] = len(examples) - len(train)
    return train_model(train + list(extra), list(sector_ids), meta, rules=rules)


def load_model(
    sector_ids: Iterable[str], path: Path | None = None, rules: Rules | None = None
) -> TextModel:
    """Load the model file; retrain in memory (with a warning) if it is missing or stale."""
    path = path or DEFAULT_MODEL_PATH
    sidecar = path.with_suffix(".json")
    reason = None
    if not path.exists() or not sidecar.exists():
        reason = f"model file {path} is missing"
    else:
        meta = json.loads(sidecar.read_text(encoding="utf-8"))
        if meta.get("sklearn_version") != sklearn.__version__:
            reason = (
                f"model file {path} was written by scikit-learn {meta.get('sklearn_version')}, "
                f"this is {sklearn.__version__}"
            )
        elif meta.get("model_version") != MODEL_VERSION:
            reason = f"model file {path} has model version {meta.get('model_version')}, expected {MODEL_VERSION}"
        elif rules is not None and meta.get("rules_version") != rules.version:
            reason = (
                f"model file {path} was trained with rules {meta.get('rules_version')}, "
                f"these are {rules.version}"
            )
    if reason:
        log.warning(
            "%s: retraining from the bundled labelled data (run 'tbt-alert train' to save it)",
            reason,
        )
        return build_default_model(sector_ids, rules)
    model: TextModel = joblib.load(path)  # our own file, written by save_model
    # row-major, as the sparse product reads it (the same values; saves a copy at every predict)
    model.coef = np.ascontiguousarray(model.coef)
    if model.meta.get("training_data_sha256_16") != data_hash():
        log.warning("model file %s was trained on other labelled data; run 'tbt-alert train'", path)
    return model
