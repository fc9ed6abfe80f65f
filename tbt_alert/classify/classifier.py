"""The decision: rules and model -> per sector a tier (alert / possible), a score, reasons, risk.

Rules stay in charge where codes and phrases are unambiguous (rule score >= thresholds.alert);
the model confirms weaker rule evidence (rule score >= thresholds.rules_confirm: a weak phrase in
the title or products covered, a weak code; a phrase of the description only where the description
is the scope, see ``SectorEvidence.grounded``) into an alert, and on its own
raises a sector to ``possible`` (the analysts' queue). It alerts alone only if thresholds.model_alert
is at most 1 (the shipped rules set it above 1: never). Addenda, corrigenda and revisions inherit
their parent's scope unless their own title or codes name a sector.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from tbt_alert.classify.evidence import (
    RecordEvidence,
    RuleIndex,
    SectorEvidence,
    build_index,
    collect_evidence,
    collect_evidence_many,
)
from tbt_alert.classify.reasons import Reason, ReasonKind
from tbt_alert.classify.risk import Risk, assess, content_points
from tbt_alert.classify.rules import Rules, load_rules
from tbt_alert.record import CanonicalRecord
from tbt_alert.store.ingest import read_facts
from tbt_alert.store.shapes import ClassificationJSON, SectorJSON
from tbt_alert.text.language import detect

if TYPE_CHECKING:  # the model (scikit-learn, numpy) is imported only when one is loaded
    from tbt_alert.classify.textmodel import TextModel

Tier = Literal["alert", "possible"]
RULE_SCALE = 5.0  # rule score at which rule confidence saturates
LANGUAGE_SAMPLE = 300  # characters of title, products and description read to guess the language
# the shape of stored reasons: part of the classifier version, so rows stored with an older shape
# are classified again (their stored reasons are still shown meanwhile, as legacy text)
REASONS_FORMAT = "reasons-4"


@dataclass(slots=True)
class SectorMatch:
    sector: str
    tier: Tier
    score: float
    reasons: list[Reason]
    risk: Risk

    def to_json(self) -> SectorJSON:
        return {
            "sector": self.sector,
            "tier": self.tier,
            "score": self.score,
            "reasons": [r.to_json() for r in self.reasons],
            "risk": self.risk.to_json(),
        }


@dataclass(slots=True)
class Classification:
    symbol: str
    sectors: list[SectorMatch]
    horizontal: bool
    horizontal_reasons: list[Reason] = field(default_factory=list)
    language: str | None = None  # detected from the text (tbt_alert.text.language)

    def to_json(self) -> ClassificationJSON:
        """The stored classification: what the content says, nothing that depends on today."""
        return {
            "symbol": self.symbol,
            "sectors": [m.to_json() for m in self.sectors],
            "horizontal": self.horizontal,
            "horizontal_reasons": [r.to_json() for r in self.horizontal_reasons],
            "language": self.language,
        }

    def report(self, today: date) -> dict[str, Any]:
        """The ``tbt-alert classify`` output object: the stored shape with each sector's risk
        level and reasons as of ``today``, and the highest alert-tier level as "risk"."""
        out: dict[str, Any] = dict(self.to_json())
        levels = []
        for entry, m in zip(out["sectors"], self.sectors, strict=True):
            now = m.risk.at(today)
            entry["risk"] = {
                "level": now.level,
                "points": now.points,
                "reasons": [r.to_json() for r in now.reasons],
            }
            if m.tier == "alert":
                levels.append(now.level)
        out["risk"] = next((lv for lv in ("red", "amber", "green") if lv in levels), None)
        return out

    def alerted(self) -> set[str]:
        return {m.sector for m in self.sectors if m.tier == "alert"}


def decide(
    rule: float, prob: float | None, t: dict[str, float], grounded: bool = True
) -> Tier | None:
    """Tier from the rule score and the model probability (None: no model for this sector).
    ``grounded``: the rule evidence comes from the products (a code, the title or products
    covered, retrieval), not only from phrases of the description; only then can the model
    confirm weak rule evidence into an alert. The model reads the same phrases (its training
    adds one pseudo-document per phrase, and rule features are stacked), so its confirming a
    phrase of the description ('pumps' of insulin pumps, 'textiles' washed by washing machines)
    is the phrase counted twice."""
    p = prob if prob is not None else 0.0
    if rule >= t["alert"]:
        return "alert"
    if grounded and prob is not None and rule >= t["rules_confirm"] and p >= t["model_confirm"]:
        return "alert"
    if prob is not None and p >= t["model_alert"]:
        return "alert"
    if rule >= t["possible"] or p >= t["model_possible"]:
        return "possible"
    return None


def combined_score(rule: float, prob: float | None) -> float:
    r = min(rule / RULE_SCALE, 1.0) * 0.95
    return round(1.0 - (1.0 - r) * (1.0 - (prob or 0.0)), 3)


@dataclass(frozen=True, slots=True)
class ParentScope:
    """What the caller knows of an addendum's parent without its text: the parent's symbol and
    the sectors its stored classification alerted (see classify/annotate.py)."""

    symbol: str
    sectors: tuple[str, ...]


def _thin(own: RecordEvidence) -> bool:
    """No product scope of its own: no sector phrase in the title or products, no strong code."""
    return not any(ev.title_text or ev.strong_code for ev in own.sectors.values())


def _inherit_scope(own: RecordEvidence, scope: ParentScope, alert: float) -> RecordEvidence:
    """A thin child takes the sectors its parent was alerted for, at alert strength."""
    if not _thin(own):
        return own
    merged = dict(own.sectors)
    for sid in scope.sectors:
        ev = merged.get(sid)
        if ev is not None and ev.score >= alert:
            continue
        reasons = [
            *(ev.reasons if ev else []),
            Reason(ReasonKind.INHERITED, scope.symbol, sid, detail={"from": "stored_sectors"}),
        ]
        merged[sid] = SectorEvidence(alert, reasons, text=True, title_text=False, grounded=True)
    return RecordEvidence(merged, own.horizontal, own.horizontal_reasons)


def _inherit(own: RecordEvidence, parent: RecordEvidence, symbol: str) -> RecordEvidence:
    """A child without its own product scope takes its parent's sectors."""
    if not _thin(own):
        return own
    merged = dict(own.sectors)
    for sid, ev in parent.sectors.items():
        if sid not in merged or ev.score > merged[sid].score:
            reasons = [Reason(ReasonKind.INHERITED, symbol, sid)]
            reasons += [r.inherited(symbol) for r in ev.reasons]
            # the child's own grounding (a weak code of its own) is not lost to a parent that
            # scores higher on a description phrase
            own_ev = merged.get(sid)
            grounded = ev.grounded or (own_ev is not None and own_ev.grounded)
            merged[sid] = replace(ev, reasons=reasons, grounded=grounded)
    reasons = own.horizontal_reasons + [r.inherited(symbol) for r in parent.horizontal_reasons]
    return RecordEvidence(merged, own.horizontal or parent.horizontal, reasons)


_NO_EVIDENCE = SectorEvidence()  # a sector nothing spoke for (read only)


class Classifier:
    """Stateless after construction: rules compiled once, model loaded once."""

    def __init__(self, rules: Rules, model: TextModel, index: RuleIndex | None = None) -> None:
        self.rules = rules
        self.index: RuleIndex = index or build_index(rules)
        self.model = model

    @property
    def version(self) -> str:
        """Identifies rules + model: stored notifications are reclassified when it changes."""
        digest = hashlib.sha256(repr(self.rules).encode("utf-8"))
        digest.update(REASONS_FORMAT.encode("utf-8"))
        digest.update(json.dumps(self.model.meta, sort_keys=True, default=str).encode("utf-8"))
        return f"{self.rules.version}+{digest.hexdigest()[:12]}"

    def with_model(self, model: TextModel) -> Classifier:
        """The same compiled rules with another model (evaluation folds)."""
        return Classifier(self.rules, model, self.index)

    def sector_names(self) -> dict[str, tuple[str, str]]:
        return {s.id: (s.name_en, s.name_zh) for s in self.rules.sectors}

    def rule_evidence(
        self, record: CanonicalRecord, parent: CanonicalRecord | None = None
    ) -> RecordEvidence:
        own = collect_evidence(self.index, record)
        if parent is None:
            return own
        return _inherit(own, collect_evidence(self.index, parent), parent.symbol)

    def model_scores(
        self,
        records: Sequence[CanonicalRecord],
        parents: Sequence[CanonicalRecord | None],
        evidence: Sequence[RecordEvidence] | None = None,
        parent_evidence: Sequence[RecordEvidence | None] | None = None,
    ) -> list[dict[str, float]]:
        """Model probabilities; a child takes the higher of its own and its parent's score.

        ``evidence``/``parent_evidence``: each record's (parent's) own rule evidence, for the
        model's stacked rule features; computed here when not given.
        """
        if evidence is None:
            evidence = collect_evidence_many(self.index, records)
        own = self.model.predict(records, evidence)
        with_parent = [i for i, p in enumerate(parents) if p is not None]
        if with_parent:
            pev = [
                (parent_evidence[i] if parent_evidence is not None else None)
                or collect_evidence(self.index, parents[i])  # type: ignore[arg-type]
                for i in with_parent
            ]
            inherited = self.model.predict([parents[i] for i in with_parent], pev)  # type: ignore[misc]
            for i, scores in zip(with_parent, inherited, strict=True):
                own[i] = {s: max(v, scores.get(s, 0.0)) for s, v in own[i].items()}
        return own

    def classify(
        self,
        record: CanonicalRecord,
        parent: CanonicalRecord | None = None,
        scope: ParentScope | None = None,
    ) -> Classification:
        return self.classify_many([record], [parent], [scope])[0]

    def classify_many(
        self,
        records: Sequence[CanonicalRecord],
        parents: Sequence[CanonicalRecord | None] | None = None,
        scopes: Sequence[ParentScope | None] | None = None,
    ) -> list[Classification]:
        """Classify a batch (the model vectorises the batch at once: much faster per record).
        The result depends on the records only, never on the day it is made.

        ``parents``: each record's parent notification (addenda, corrigenda, revisions), when the
        caller has its text; ``scopes``: the parent's stored labels, when it has those. A child
        whose own text names no products inherits either."""
        parents = list(parents) if parents is not None else [None] * len(records)
        scopes = list(scopes) if scopes is not None else [None] * len(records)
        own = collect_evidence_many(self.index, records)
        pev: list[RecordEvidence | None] = [None] * len(parents)
        with_parent = [i for i, p in enumerate(parents) if p is not None]
        if with_parent:
            found = collect_evidence_many(self.index, [parents[i] for i in with_parent])  # type: ignore[misc]
            for i, e in zip(with_parent, found, strict=True):
                pev[i] = e
        scores = self.model_scores(records, parents, own, pev)
        alert = self.rules.thresholds["alert"]
        out = []
        for r, p, ev, pe, sc, s in zip(records, parents, own, pev, scopes, scores, strict=True):
            if pe is not None and p is not None:
                ev = _inherit(ev, pe, p.symbol)
            if sc is not None:
                ev = _inherit_scope(ev, sc, alert)
            out.append(self._decide(r, ev, s))
        return out

    def _decide(
        self,
        record: CanonicalRecord,
        evidence: RecordEvidence,
        probs: dict[str, float],
    ) -> Classification:
        matches = []
        facts = None  # read once per record, when a sector is given: the store's, or as ingest
        content = None  # the risk points of the text, the same for every sector
        for sector in self.rules.sectors:
            ev = evidence.sectors.get(sector.id) or _NO_EVIDENCE
            prob = probs.get(sector.id)
            tier = decide(ev.score, prob, self.rules.thresholds, ev.grounded)
            if tier is None:
                continue
            reasons = [Reason(ReasonKind.RULE_SCORE, f"{ev.score:g}", sector.id), *ev.reasons]
            if prob is not None:
                reasons.append(Reason(ReasonKind.MODEL, f"{prob:.2f}", sector.id))
            if facts is None:
                facts = read_facts(record)
                content = content_points(record)
            matches.append(
                SectorMatch(
                    sector.id,
                    tier,
                    combined_score(ev.score, prob),
                    reasons,
                    assess(record, sector.id, facts, content),
                )
            )
        matches.sort(key=lambda m: (m.tier != "alert", -m.score, m.sector))
        text = " ".join(t for t in (record.title, record.products_text, record.description) if t)
        return Classification(
            record.symbol,
            matches,
            evidence.horizontal,
            evidence.horizontal_reasons,
            detect(text[:LANGUAGE_SAMPLE]),
        )


def load_classifier(rules_path: Path | None = None, model_path: Path | None = None) -> Classifier:
    """Rules from ``rules/sectors.yaml`` (or the path given) and the bundled (or given) model."""
    rules = load_rules(rules_path)
    from tbt_alert.classify.textmodel import load_model

    model = load_model(rules.ids, model_path, rules)
    index = build_index(rules)
    if model.index is not None:
        # the rules index pickled with the model was compiled by the code that trained it; the
        # same rules (the version is checked on load) compiled by this code read records the
        # way the classifier does
        model.index = index
    return Classifier(rules, model, index)
