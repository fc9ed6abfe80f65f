"""Reasons as data: why a sector was given, and why a risk level.

A reason is never a sentence. The classifier and the risk assessment emit :class:`Reason` values;
they are stored as JSON objects in the notification's classification, and each reader (a message in
Chinese or English, ``tbt-alert show``, ``classify`` output) words them from the catalogue of its own
language. Nothing parses a reason back out of text.

Fields:

* ``kind``: what kind of evidence (see :class:`ReasonKind`);
* ``sector``: the sector it speaks for, ``None`` for a record-level reason (horizontal, risk);
* ``field``: where in the record it was found (``title``, ``products_text``, ``description``,
  ``objective``), ``None`` when it is not about a field;
* ``value``: the code, phrase, score, member or date, as text;
* ``strength``: ``strong`` or ``weak`` evidence, or the market weight for a market reason;
* ``detail``: small named extras (the matched prefix, the vetoing phrase, the trigger, the parent
  symbol of an inherited reason, the HS heading a quoted description belongs to).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from tbt_alert.store.shapes import ReasonJSON


class ReasonKind(StrEnum):
    HS = "hs"  # an HS code of the record matches a sector prefix
    ICS = "ics"  # an ICS code matches
    PHRASE = "phrase"  # a sector phrase in a field
    WEAK_PHRASE = "weak_phrase"
    CROSS = "cross"  # a cross-cutting trigger with a product word (detail: trigger, cross)
    VETO = "veto"  # a negative phrase cancelled a phrase (value: cancelled, detail: by)
    CODES_DOUBTED = "codes_doubted"  # codes weighed less: the text names other products
    HS_DESCRIPTION = "hs_description"  # words quoted from an HS description (detail: heading)
    LEXICON = "lexicon"  # a product phrase mapped to an HS heading by the nomenclature
    # the product wording reads like a heading of the sector's HS codes (value: the heading;
    # detail: words shared, similarity, runner_up = best heading outside the sector)
    HS_RETRIEVED = "hs_retrieved"
    MODEL = "model"  # the text model's probability (value: "0.87")
    RULE_SCORE = "rule_score"  # the summed rule score (for analysts; messages skip it)
    # an addendum takes its parent's scope (value: parent symbol); each reason read from the parent
    # also carries detail["inherited_from"]
    INHERITED = "inherited"
    HORIZONTAL = "horizontal"  # a horizontal measure (value: trigger phrase, detail: cross)
    # the title names no products: description and objective phrases weighed as the title's
    THIN_TITLE = "thin_title"
    LANGUAGE = "language"  # the record's language had no product vocabulary of its own
    # risk
    MARKET = "market"  # value: member code; strength: major | significant | smaller
    MANDATORY = "mandatory"
    VOLUNTARY = "voluntary"
    MEASURE_KIND = "measure_kind"  # value: ban | testing | labelling
    ENTRY_INTO_FORCE = "entry_into_force"  # value: ISO date (stored; "within 6 months" is derived)
    # value: ISO date; strength: closing | open | closed; detail: days
    COMMENT_PERIOD = "comment_period"
    # a reason stored as an English sentence by an earlier version: shown as it is, never parsed
    LEGACY = "legacy"


@dataclasses.dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    value: str = ""
    sector: str | None = None
    field: str | None = None
    strength: str | None = None
    detail: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def to_json(self) -> ReasonJSON:
        out: ReasonJSON = {"kind": self.kind.value, "value": self.value}
        if self.sector is not None:
            out["sector"] = self.sector
        if self.field is not None:
            out["field"] = self.field
        if self.strength is not None:
            out["strength"] = self.strength
        if self.detail:
            out["detail"] = dict(self.detail)
        return out

    def inherited(self, parent: str) -> Reason:
        """The same reason, read from the parent notification ``parent``."""
        return Reason(
            self.kind,
            self.value,
            self.sector,
            self.field,
            self.strength,
            {**self.detail, "inherited_from": parent},
        )

    @property
    def inherited_from(self) -> str | None:
        return self.detail.get("inherited_from")


def reason_from_json(value: Any) -> Reason:
    """The one reader of a stored reason. A string is a sentence stored by an earlier version: it
    is kept as a ``legacy`` reason (shown as it is, never parsed). Unknown kinds raise ValueError
    (a stored shape this version cannot word is a bug to see, not text to show)."""
    if isinstance(value, str):
        return Reason(ReasonKind.LEGACY, value)
    if not isinstance(value, Mapping):
        raise ValueError(f"a stored reason must be a JSON object, got {type(value).__name__}")
    detail = value.get("detail") or {}
    if not isinstance(detail, Mapping):
        raise ValueError("a stored reason's detail must be an object")
    return Reason(
        kind=ReasonKind(str(value.get("kind"))),
        value=str(value.get("value", "")),
        sector=value.get("sector"),
        field=value.get("field"),
        strength=value.get("strength"),
        detail={str(k): str(v) for k, v in detail.items()},
    )


def reasons_from_json(values: Iterable[Any]) -> list[Reason]:
    return [reason_from_json(v) for v in values]
