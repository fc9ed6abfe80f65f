"""Score four systems side by side on gold-labelled notifications the model never trained on.

Systems: ``hs_only`` (a strong HS-code match, what HS-keyed product alerts give), ``rules`` (rule
score alone reaches the alert threshold), ``model`` (calibrated probability >= 0.5), ``combined``
(the alert tier of the real decision), and ``queue`` (alert or possible: what analysts see; its
precision is the share of the queue that is right). Ambiguous records are left out. Two protocols:

* repeated stratified K-fold over the development part: each fold's model is trained on the other
  folds only (the rules file is fixed, and was tuned on this part: say so when quoting it);
* a fixed held-out part (about a quarter, chosen by a hash of the symbol) scored by a model trained
  on the development part; the rules were not tuned on it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from tbt_alert.classify.classifier import Classifier
from tbt_alert.classify.evidence import collect_evidence, record_codes
from tbt_alert.classify.textmodel import Example, read_examples, train_model
from tbt_alert.errors import TbtAlertError
from tbt_alert.text.codes import match_hs

SYSTEMS = ("hs_only", "rules", "model", "combined", "queue")
MODEL_ALONE = 0.5


@dataclass(slots=True)
class Tally:
    tp: dict[str, int] = field(default_factory=dict)
    fp: dict[str, int] = field(default_factory=dict)
    fn: dict[str, int] = field(default_factory=dict)
    false_alarms: int = 0  # records with no gold sector that got any alert
    negatives: int = 0

    def add(self, gold: set[str], predicted: set[str], sectors: Sequence[str]) -> None:
        for s in sectors:
            key = (
                "tp"
                if s in gold and s in predicted
                else "fn"
                if s in gold
                else "fp"
                if s in predicted
                else ""
            )
            if key:
                counts = getattr(self, key)
                counts[s] = counts.get(s, 0) + 1
        if not gold:
            self.negatives += 1
            self.false_alarms += bool(predicted)


def is_held_out(symbol: str) -> bool:
    """The fixed held-out quarter: decided by the symbol alone, never by content."""
    return hashlib.sha256(symbol.encode("utf-8")).digest()[0] % 4 == 0


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    dev = [e for e in examples if not is_held_out(e.record.symbol)]
    return dev, [e for e in examples if is_held_out(e.record.symbol)]


def predict(clf: Classifier, examples: Sequence[Example]) -> list[dict[str, set[str]]]:
    """Per example, the sectors each system alerts."""
    records = [e.record for e in examples]
    evidences = [collect_evidence(clf.index, r) for r in records]
    probs = clf.model.predict(records, evidences)
    out = []
    for record, result, p, evidence in zip(
        records, clf.classify_many(records), probs, evidences, strict=True
    ):
        hs, _ = record_codes(record)
        out.append(
            {
                "hs_only": {
                    s.id
                    for s in clf.rules.sectors
                    if any(st == "strong" for *_, st in match_hs(hs, s.hs))
                },
                "rules": {
                    s
                    for s, ev in evidence.sectors.items()
                    if ev.score >= clf.rules.thresholds["alert"]
                },
                "model": {s for s, v in p.items() if v >= MODEL_ALONE},
                "combined": result.alerted(),
                "queue": {m.sector for m in result.sectors},
            }
        )
    return out


def _fit(clf: Classifier, train: Sequence[Example]) -> Classifier:
    model = train_model(train, clf.rules.ids, {"purpose": "evaluation"}, index=clf.index)
    return clf.with_model(model)


def cross_validate(
    clf: Classifier,
    examples: Sequence[Example],
    folds: int = 5,
    repeats: int = 2,
    extra: Sequence[Example] = (),
) -> dict[str, Tally]:
    tallies = {s: Tally() for s in SYSTEMS}
    core = clf.rules.core_ids
    strata = [min((s for s in e.sectors if s in core), default="none") for e in examples]
    rare = {s for s in strata if strata.count(s) < folds}
    strata = ["rare" if s in rare else s for s in strata]
    for rep in range(repeats):
        kf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=rep)
        for train_idx, test_idx in kf.split(np.zeros(len(examples)), strata):
            fold = _fit(clf, [examples[i] for i in train_idx] + list(extra))
            test = [examples[i] for i in test_idx]
            for e, preds in zip(test, predict(fold, test), strict=True):
                for name in SYSTEMS:
                    tallies[name].add(set(e.sectors), preds[name], core)
    return tallies


def held_out(
    clf: Classifier, dev: Sequence[Example], held: Sequence[Example], extra: Sequence[Example] = ()
) -> dict[str, Tally]:
    fold = _fit(clf, list(dev) + list(extra))
    tallies = {s: Tally() for s in SYSTEMS}
    for e, preds in zip(held, predict(fold, held), strict=True):
        for name in SYSTEMS:
            tallies[name].add(set(e.sectors), preds[name], clf.rules.core_ids)
    return tallies


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summary(tallies: dict[str, Tally], sectors: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per system: per-sector P/R/F1 with support, micro and macro averages, false-alarm rate."""
    out: dict[str, dict[str, Any]] = {}
    for name, t in tallies.items():
        per = {
            s: (
                *_prf(t.tp.get(s, 0), t.fp.get(s, 0), t.fn.get(s, 0)),
                t.tp.get(s, 0) + t.fn.get(s, 0),
            )
            for s in sectors
        }
        micro = _prf(sum(t.tp.values()), sum(t.fp.values()), sum(t.fn.values()))
        scored = [v for v in per.values() if v[3]]
        macro = tuple(float(np.mean([v[i] for v in scored])) if scored else 0.0 for i in range(3))
        rate = t.false_alarms / t.negatives if t.negatives else 0.0
        out[name] = {
            "per_sector": per,
            "micro": micro,
            "macro": macro,
            "false_alarm_rate": rate,
            "false_alarms": t.false_alarms,
            "negatives": t.negatives,
        }
    return out


def format_table(title: str, result: dict[str, dict[str, Any]], sectors: Sequence[str]) -> str:
    head = f"{'sector':<24}{'n':>4} " + " ".join(f"{s:>17}" for s in SYSTEMS)
    lines = [title, " " * 29 + " ".join(f"{'P    R    F1':>17}" for _ in SYSTEMS), head]

    def row(label: str, n: object, key: str, sector: str | None = None) -> str:
        cells = []
        for name in SYSTEMS:
            data = result[name]
            v = data["per_sector"][sector] if sector else data[key]
            cells.append(f"{v[0]:.2f} {v[1]:.2f} {v[2]:.2f}".rjust(17))
        return f"{label:<24}{n!s:>4} " + " ".join(cells)

    for s in sectors:
        lines.append(row(s, result["combined"]["per_sector"][s][3], "", s))
    lines.append(row("micro", "", "micro"))
    lines.append(row("macro", "", "macro"))
    fa = " ".join(
        f"{result[n]['false_alarms']}/{result[n]['negatives']}"
        f" ({result[n]['false_alarm_rate']:.1%})".rjust(17)
        for n in SYSTEMS
    )
    lines.append(f"{'false alarms (no sector)':<28} {fa}")
    return "\n".join(lines)


def require_gold(gold: Path, examples: Sequence[Example], folds: int) -> None:
    """Refuse a file that cannot be scored: no gold labels at all, or fewer records than folds."""
    labelled = sum(1 for e in examples if e.sectors)
    if not labelled:
        raise TbtAlertError(
            f"{gold} has no gold labels: each line needs 'gold_sectors' (a list of sector ids; "
            "an empty list for a record that concerns no sector), and some must be non-empty"
        )
    if len(examples) < 2 * folds:
        raise TbtAlertError(
            f"{gold} has {len(examples)} usable records: {folds}-fold cross-validation needs "
            f"at least {2 * folds} (or lower --folds)"
        )


def run(
    clf: Classifier, gold: Path, folds: int = 5, repeats: int = 2, extra_paths: Sequence[Path] = ()
) -> tuple[str, dict[str, Any]]:
    """Both protocols on a gold file; returns the printable report and the figures as data."""
    examples = read_examples([gold])
    require_gold(gold, examples, folds)
    extra = read_examples(extra_paths)
    dev, held = split(examples)
    core = clf.rules.core_ids
    cv = summary(cross_validate(clf, dev, folds, repeats, extra), core)
    ho = summary(held_out(clf, dev, held, extra), core)
    text = "\n\n".join(
        [
            format_table(
                f"Cross-validation on the development part ({len(dev)} records, {folds}-fold x "
                f"{repeats}; counts n are summed over repeats; rules were tuned on this part)",
                cv,
                core,
            ),
            format_table(
                f"Held-out part ({len(held)} records, model trained on the development part; "
                "rules not tuned on it)",
                ho,
                core,
            ),
        ]
    )
    return text, {"cross_validation": cv, "held_out": ho, "dev": len(dev), "held": len(held)}


def to_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, default=lambda o: list(o))
