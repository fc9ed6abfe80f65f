"""Analysts' decisions as training data: each notification an analyst labelled, accepted or
dismissed becomes a labelled example (a dismissal: no sector at all), read from the database.

Symbols of the classifier's frozen test part are kept out, so `evaluate` still measures on data
the model never saw: ``tbt_alert.classify.split.is_test`` decides."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, col, select

from tbt_alert.record import CanonicalRecord
from tbt_alert.status import DecisionKind
from tbt_alert.store.ingest import as_record
from tbt_alert.store.tables import Decision, Notification
from tbt_alert.triage.decisions import effective_map

LABELLING = (
    DecisionKind.LABEL_ADD,
    DecisionKind.LABEL_REMOVE,
    DecisionKind.ACCEPT,
    DecisionKind.DISMISS,
)


@dataclass(frozen=True)
class Labelled:
    record: CanonicalRecord
    sectors: frozenset[str]


def decision_examples(
    session: Session, keep_out: Callable[[str], bool] | None = None
) -> tuple[list[Labelled], int]:
    """(examples from live decisions, oldest notification first; how many were kept out)."""
    ids = session.exec(
        select(Decision.notification_id)
        .where(col(Decision.kind).in_(LABELLING), col(Decision.undone_at).is_(None))
        .distinct()
    ).all()
    rows = list(
        session.exec(
            select(Notification).where(col(Notification.id).in_(ids)).order_by(col(Notification.id))
        ).all()
    )
    states = effective_map(session, rows)
    out, kept_out = [], 0
    for row in rows:
        if keep_out is not None and keep_out(row.symbol):
            kept_out += 1
            continue
        state = states[row.id or 0]
        if state.status is None and not state.relabelled:
            continue  # e.g. an accept undone, a label added then removed by undo
        if state.status == DecisionKind.DISMISS:
            sectors: frozenset[str] = frozenset()
        elif state.status == DecisionKind.ACCEPT:
            sectors = state.labels  # accepting confirms the possible tier too
        else:
            sectors = (state.alert | state.added) - state.removed
        out.append(Labelled(as_record(row), sectors))
    return out, kept_out


def examples_hash(examples: list[Labelled]) -> str:
    h = hashlib.sha256()
    for e in examples:
        h.update(json.dumps([e.record.symbol, sorted(e.sectors)]).encode() + b"\n")
    return h.hexdigest()[:16]
