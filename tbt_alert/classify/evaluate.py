"""Score the systems side by side on gold-labelled notifications, on the frozen dev/test split.

Systems: ``hs_only`` (a strong HS-code match, what HS-keyed product alerts give), ``rules`` (rule
score alone reaches the alert threshold), ``model`` (calibrated probability >= 0.5), ``combined``
(the alert tier of the real decision), and ``queue`` (alert or possible: what analysts see; its
precision is the share of the queue that is right). Ambiguous records are left out. The split is
:mod:`tbt_alert.classify.split` (a hash of the symbol, committed as ``data/split.json``):

* development part: repeated stratified K-fold, each fold's model trained on the other folds only.
  Rules and phrases are edited looking at this part's errors, so its figures are optimistic;
* test part: scored by a model trained on the development part. Nobody edits rules looking at its
  errors (``--errors`` refuses it); it is the figure the README quotes.

Headline figures carry Wilson 95 % intervals: precision and recall at alert tier over the core
sectors (micro), the false-alarm rate on notifications with no gold sector, and the queue's recall.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from sklearn.model_selection import StratifiedKFold

from tbt_alert.classify.classifier import Classifier
from tbt_alert.classify.evidence import collect_evidence_many, record_codes
from tbt_alert.classify.split import held_symbols, part_of
from tbt_alert.classify.textmodel import Example, jsonl_text, read_examples, train_model
from tbt_alert.errors import TbtAlertError
from tbt_alert.record import CanonicalRecord, parse_record
from tbt_alert.text.codes import match_hs
from tbt_alert.text.symbols import symbol_keys

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


PartName = Literal["dev", "test", "all"]


def is_test(symbol: str) -> bool:
    """In the test part: the committed split for its symbols, the frozen rule for any other."""
    held = held_symbols()
    return symbol in held or part_of(symbol) == "test"


def split(examples: Sequence[Example]) -> tuple[list[Example], list[Example]]:
    """(development part, test part)."""
    dev = [e for e in examples if not is_test(e.record.symbol)]
    return dev, [e for e in examples if is_test(e.record.symbol)]


def wilson(k: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score 95 % interval of the proportion k/n ((0, 1) when n is 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def headline(tallies: dict[str, Tally], core: Sequence[str], repeats: int = 1) -> dict[str, Any]:
    """The four quoted figures, each as {k, n, value, low, high}. Counts summed over ``repeats``
    cross-validation repeats are divided back, so an interval reflects the real sample size."""

    def fig(k: float, n: float) -> dict[str, float]:
        k, n = k / repeats, n / repeats
        lo, hi = wilson(k, n)
        return {"k": k, "n": n, "value": k / n if n else 0.0, "low": lo, "high": hi}

    c, q = tallies["combined"], tallies["queue"]
    tp = sum(c.tp.get(s, 0) for s in core)
    fp = sum(c.fp.get(s, 0) for s in core)
    fn = sum(c.fn.get(s, 0) for s in core)
    qtp = sum(q.tp.get(s, 0) for s in core)
    qfn = sum(q.fn.get(s, 0) for s in core)
    return {
        "precision": fig(tp, tp + fp),
        "recall": fig(tp, tp + fn),
        "false_alarm_rate": fig(c.false_alarms, c.negatives),
        "queue_recall": fig(qtp, qtp + qfn),
    }


HEADLINE_LABELS = {
    "precision": "precision (alert tier, core sectors)",
    "recall": "recall (alert tier, core sectors)",
    "false_alarm_rate": "false alarms (no-sector notifications)",
    "queue_recall": "queue recall (alert + possible, core)",
}


def format_headline(head: dict[str, Any]) -> str:
    lines = []
    for key, label in HEADLINE_LABELS.items():
        f = head[key]
        lines.append(
            f"  {label:<40} {f['value']:.2f}  95% CI [{f['low']:.2f}, {f['high']:.2f}]"
            f"  ({f['k']:g}/{f['n']:g})"
        )
    return "\n".join(lines)


def predict(
    clf: Classifier,
    examples: Sequence[Example],
    parents: Sequence[CanonicalRecord | None] | None = None,
) -> list[dict[str, set[str]]]:
    """Per example, the sectors each system alerts. ``parents``: each record's parent notification
    when the caller has its text (``hs_only``, ``rules`` and ``model`` read the record alone)."""
    records = [e.record for e in examples]
    evidences = collect_evidence_many(clf.index, records)
    probs = clf.model.predict(records, evidences)
    out = []
    for record, result, p, evidence in zip(
        records, clf.classify_many(records, parents), probs, evidences, strict=True
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


@dataclass(frozen=True, slots=True)
class Error:
    """A development-part record whose alert-tier core sectors differ from its gold labels."""

    symbol: str
    title: str
    missed: tuple[str, ...]  # gold core sectors not alerted
    false: tuple[str, ...]  # core sectors alerted but not gold
    reasons: tuple[str, ...]  # the decision's reasons for the wrong or missed sectors

    def format(self) -> str:
        head = f"{self.symbol}: missed {', '.join(self.missed) or '-'}; false {', '.join(self.false) or '-'}"
        body = [f"    title: {self.title[:160]}"] + [f"    {r}" for r in self.reasons]
        return "\n".join([head, *body])


def _errors(
    fold: Classifier,
    test: Sequence[Example],
    preds: Sequence[dict[str, set[str]]],
    parents: Sequence[CanonicalRecord | None] | None = None,
) -> list[Error]:
    core = set(fold.rules.core_ids)
    out = []
    wrong = [
        (e, p, parents[i] if parents is not None else None)
        for i, (e, p) in enumerate(zip(test, preds, strict=True))
        if (set(e.sectors) & core) != (p["combined"] & core)
    ]
    results = (
        fold.classify_many([e.record for e, _, _ in wrong], [q for *_, q in wrong]) if wrong else []
    )
    for (e, p, _), result in zip(wrong, results, strict=True):
        gold, got = set(e.sectors) & core, p["combined"] & core
        missed, false = tuple(sorted(gold - got)), tuple(sorted(got - gold))
        reasons = [
            f"{m.sector} ({m.tier}): "
            + "; ".join(f"{r.kind.value} {r.value}".strip() for r in m.reasons)
            for m in result.sectors
            if m.sector in set(missed) | set(false)
        ]
        out.append(Error(e.record.symbol, e.record.title or "", missed, false, tuple(reasons)))
    return out


def cross_validate(
    clf: Classifier,
    examples: Sequence[Example],
    folds: int = 5,
    repeats: int = 2,
    extra: Sequence[Example] = (),
    errors: list[Error] | None = None,
) -> dict[str, Tally]:
    """K-fold over ``examples`` (the development part). With ``errors``, the first repeat's wrong
    records are appended to it."""
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
            preds = predict(fold, test)
            for e, p in zip(test, preds, strict=True):
                for name in SYSTEMS:
                    tallies[name].add(set(e.sectors), p[name], core)
            if errors is not None and rep == 0:
                errors += _errors(fold, test, preds)
    return tallies


def held_out(
    clf: Classifier, dev: Sequence[Example], held: Sequence[Example], extra: Sequence[Example] = ()
) -> dict[str, Tally]:
    """The test part scored by a model trained on the development part (and analysts' labels)."""
    fold = _fit(clf, list(dev) + list(extra))
    tallies = {s: Tally() for s in SYSTEMS}
    for e, preds in zip(held, predict(fold, held), strict=True):
        for name in SYSTEMS:
            tallies[name].add(set(e.sectors), preds[name], clf.rules.core_ids)
    return tallies


def in_file_parents(
    examples: Sequence[Example], records: Sequence[CanonicalRecord]
) -> list[CanonicalRecord | None]:
    """Each example's parent notification when an earlier line of the same file holds it (an
    addendum, corrigendum or revision and the measure it amends), as ``tbt-alert classify``
    links them. ``records``: every record of the file in order, ambiguous ones included (a parent
    left out of scoring is still a parent)."""
    first: dict[str, tuple[int, CanonicalRecord]] = {}
    for n, r in enumerate(records):
        first.setdefault(symbol_keys(r.symbol)[0], (n, r))
    out: list[CanonicalRecord | None] = []
    for e in examples:
        own, parent = symbol_keys(e.record.symbol)
        line = first[own][0] if own in first else len(records)
        found = first.get(parent) if parent else None
        out.append(found[1] if found is not None and found[0] < line else None)
    return out


def _file_records(gold: Path) -> tuple[list[CanonicalRecord], list[Example]]:
    """Every record of a gold file in order, and the examples to score (ambiguous ones left
    out), from one read; a line that is not a labelled record, or lacks 'gold_sectors', is
    refused with its line number."""
    text = jsonl_text(gold)
    records: list[CanonicalRecord] = []
    examples: list[Example] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise TbtAlertError("a record must be a JSON object")
            record = parse_record(data)
        except (ValueError, TbtAlertError) as e:
            raise TbtAlertError(f"{gold}:{n}: bad labelled record: {e}") from e
        gold_sectors = data.get("gold_sectors")
        if not isinstance(gold_sectors, list):
            raise TbtAlertError(
                f"{gold}:{n}: each line needs 'gold_sectors' (a list of sector ids; an empty "
                "list for a record that concerns no sector)"
            )
        records.append(record)
        if not data.get("ambiguous"):
            examples.append(Example(record, frozenset(gold_sectors)))
    return records, examples


def score_external(
    clf: Classifier, gold: Path, list_errors: bool = False
) -> tuple[str, dict[str, Any], list[Error]]:
    """Every record of a separately labelled file scored by the rules and model as shipped: no
    split, no training, addenda linked to parents on earlier lines of the file. This is what an
    outside check of the classifier measures; its errors are listed only on request, for a set
    one may tune on."""
    records, examples = _file_records(gold)
    if not any(e.sectors for e in examples):
        raise TbtAlertError(
            f"{gold} has no gold labels: each line needs 'gold_sectors' (a list of sector ids; "
            "an empty list for a record that concerns no sector), and some must be non-empty"
        )
    unknown = sorted({s for e in examples for s in e.sectors} - set(clf.rules.ids))
    if unknown:
        raise TbtAlertError(f"{gold}: unknown sector id(s) in gold_sectors: {', '.join(unknown)}")
    parents = in_file_parents(examples, records)
    preds = predict(clf, examples, parents)
    core = clf.rules.core_ids
    tallies = {s: Tally() for s in SYSTEMS}
    for e, p in zip(examples, preds, strict=True):
        for name in SYSTEMS:
            tallies[name].add(set(e.sectors), p[name], core)
    figures: dict[str, Any] = {
        "records": len(examples),
        "external": {"headline": headline(tallies, core), "systems": summary(tallies, core)},
    }
    text = _report(
        f"{gold.name} ({len(examples)} records, ambiguous ones left out; scored by the shipped "
        f"rules and model {clf.version}, not trained on it)",
        figures["external"],
        core,
        "",
    )
    errors = _errors(clf, examples, preds, parents) if list_errors else []
    return text, figures, sorted(errors, key=lambda e: e.symbol)


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
    clf: Classifier,
    gold: Path,
    folds: int = 5,
    repeats: int = 2,
    extra_paths: Sequence[Path] = (),
    part: PartName = "all",
) -> tuple[str, dict[str, Any]]:
    """Score the development part (cross-validation), the test part, or both; returns the
    printable report and the figures as data."""
    examples = read_examples([gold])
    require_gold(gold, examples, folds)
    extra = [e for e in read_examples(extra_paths) if not is_test(e.record.symbol)]
    dev, test = split(examples)
    core = clf.rules.core_ids
    texts: list[str] = []
    figures: dict[str, Any] = {"dev": len(dev), "test": len(test)}
    if part in ("dev", "all"):
        tallies = cross_validate(clf, dev, folds, repeats, extra)
        figures["dev_part"] = {
            "headline": headline(tallies, core, repeats),
            "systems": summary(tallies, core),
        }
        texts.append(
            _report(
                f"Development part ({len(dev)} records, cross-validated {folds}-fold x {repeats}; "
                "rules are edited looking at this part's errors: optimistic)",
                figures["dev_part"],
                core,
                f"counts n in the table are summed over {repeats} repeats",
            )
        )
    if part in ("test", "all"):
        tallies = held_out(clf, dev, test, extra)
        figures["test_part"] = {
            "headline": headline(tallies, core),
            "systems": summary(tallies, core),
        }
        texts.append(
            _report(
                f"Test part ({len(test)} records, model trained on the development part; "
                "rules never edited looking at its errors)",
                figures["test_part"],
                core,
                "",
            )
        )
    return "\n\n".join(texts), figures


def dev_errors(
    clf: Classifier, gold: Path, folds: int = 5, extra_paths: Sequence[Path] = (), part: str = "dev"
) -> list[Error]:
    """Wrong records of the development part, from one cross-validation repeat. The test part's
    errors are never listed: rules edited against them would make its figures meaningless."""
    if part != "dev":
        raise TbtAlertError(
            f"errors are listed for the development part only, not '{part}': "
            "the test part is measured, never tuned on"
        )
    dev, _ = split(read_examples([gold]))
    extra = [e for e in read_examples(extra_paths) if not is_test(e.record.symbol)]
    errors: list[Error] = []
    cross_validate(clf, dev, folds, 1, extra, errors)
    return sorted(errors, key=lambda e: e.symbol)


def _report(title: str, data: dict[str, Any], core: Sequence[str], note: str) -> str:
    table = format_table("per sector and system (P R F1):", data["systems"], core)
    return "\n".join([title, format_headline(data["headline"]), table] + ([note] if note else []))


def to_json(figures: dict[str, Any]) -> str:
    return json.dumps(figures, indent=2, default=lambda o: list(o))
