"""The declared shapes of the JSON columns that hold more than a list of strings, with one reader
each. A reader takes whatever a row holds (written by this version or an earlier one, or edited by
hand) and returns the declared shape, dropping what does not fit; nothing else reads these columns
by key.

* ``notification.classification``: :class:`ClassificationJSON` (written by classify/annotate);
* ``notification.events``: a list of :class:`EventJSON` (written by ingest);
* ``bulletin.snapshot``: :class:`WarningSnapshot` for a warning or an update, :class:`DigestSnapshot`
  for a digest (written by alerts/plan and alerts/digest);
* ``source_record.payload``: :class:`PayloadJSON`, one source's record (written by ingest).

Reasons inside a classification are :class:`ReasonJSON` objects, read into
:class:`~tbt_alert.classify.reasons.Reason` values by ``classify.reasons.reason_from_json``; an
earlier version stored them as sentences, which are kept as they are.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict, cast

from tbt_alert.errors import RecordError
from tbt_alert.record import parse_record


class ReasonJSON(TypedDict, total=False):
    """The stored shape of a reason (JSON object)."""

    kind: str
    sector: str | None
    field: str | None
    value: str
    strength: str | None
    detail: dict[str, str]


class RiskJSON(TypedDict, total=False):
    """Content points and reasons (the level is worked out on the day shown); ``level`` only in
    rows stored by an earlier version."""

    points: int
    reasons: list[ReasonJSON | str]
    level: str


class SectorJSON(TypedDict):
    sector: str
    tier: str  # alert | possible
    score: float
    reasons: list[ReasonJSON | str]
    risk: RiskJSON


class ClassificationJSON(TypedDict):
    symbol: str
    sectors: list[SectorJSON]
    horizontal: bool
    horizontal_reasons: list[ReasonJSON | str]
    language: NotRequired[str | None]  # guessed from the text; absent in older rows


class EventJSON(TypedDict):
    kind: str  # an addenda.EventKind name
    date: str | None  # ISO date
    text: str


class PayloadJSON(TypedDict, total=False):
    """What one source said of a notification: its canonical record as JSON
    (``CanonicalRecord.to_dict``), the canonical fields first, then the source's own keys. Those
    read by name elsewhere are declared here."""

    symbol: str
    member: str
    title: str
    distribution_date: str | None
    description: str | None
    products_text: str | None
    hs_codes: list[str]
    ics_codes: list[str]
    objective: str | None
    comment_deadline: str | None
    language: str | None
    source_url: str | None
    joint_symbols: list[str]
    notification_type: str | None
    proposed_adoption: str | None
    proposed_entry_into_force: str | None
    document_url: str | None
    document_links: list[str]
    source: str | None
    source_id: str | None
    dol_link: str | None  # ePing's Documents Online file name
    events: list[EventJSON]  # an addendum's, read by the source adapter


class WarningSnapshot(TypedDict):
    """What a warning, update or correction bulletin says, frozen when it is planned."""

    kind: str  # warning | update | correction
    symbol: str
    symbols: list[str]
    document_kind: str
    events: list[EventJSON]
    classification: ClassificationJSON
    alert_sectors: list[str]
    # the sectors it was planned for (the classifier's, as analysts' decisions leave them);
    # bulletins planned by an earlier version hold none and read as alert_sectors
    sectors: list[str]
    # for a correction: the sectors analysts added since the first warning went out
    added_sectors: list[str]


class DigestSnapshot(TypedDict):
    kind: str  # digest
    cadence: str
    period: str
    start: str
    end: str
    # what the digest says of each notification it lists, by notification id (as text), frozen
    # when it is planned; digests planned by an earlier version have none
    items: dict[str, WarningSnapshot]


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [str(v) for v in _list(value) if isinstance(v, str)]


def _reasons(value: Any) -> list[ReasonJSON | str]:
    """Reason objects as stored (checked field by field where they are read), or sentences."""
    out: list[ReasonJSON | str] = []
    for v in _list(value):
        if isinstance(v, str | dict):
            out.append(v)  # type: ignore[arg-type]
    return out


def _risk(value: Any) -> RiskJSON:
    if not isinstance(value, dict):
        return {"reasons": []}
    out: RiskJSON = {"reasons": _reasons(value.get("reasons"))}
    if isinstance(value.get("points"), int):
        out["points"] = value["points"]
    if isinstance(value.get("level"), str):
        out["level"] = value["level"]
    return out


def _sector(value: Any) -> SectorJSON | None:
    if not isinstance(value, dict) or not isinstance(value.get("sector"), str):
        return None
    score = value.get("score")
    return {
        "sector": value["sector"],
        "tier": str(value.get("tier") or "alert"),
        "score": float(score) if isinstance(score, int | float) else 0.0,
        "reasons": _reasons(value.get("reasons")),
        "risk": _risk(value.get("risk")),
    }


def read_classification(value: Any) -> ClassificationJSON:
    """The one reader of ``notification.classification`` (None or junk: no sectors)."""
    data = value if isinstance(value, dict) else {}
    sectors = [s for s in (_sector(v) for v in _list(data.get("sectors"))) if s is not None]
    return {
        "symbol": str(data.get("symbol") or ""),
        "sectors": sectors,
        "horizontal": bool(data.get("horizontal")),
        "horizontal_reasons": _reasons(data.get("horizontal_reasons")),
        "language": data["language"] if isinstance(data.get("language"), str) else None,
    }


def tier_sectors(classification: Any, tier: str = "alert") -> list[str]:
    """The sectors a stored classification puts in ``tier`` ("alert" or "possible")."""
    return [
        s["sector"] for s in read_classification(classification)["sectors"] if s["tier"] == tier
    ]


def read_events(value: Any) -> list[EventJSON]:
    """The one reader of ``notification.events``."""
    out: list[EventJSON] = []
    for v in _list(value):
        if isinstance(v, dict) and isinstance(v.get("kind"), str):
            day, text = v.get("date"), v.get("text")
            out.append(
                {
                    "kind": v["kind"],
                    "date": day if isinstance(day, str) else None,
                    "text": text if isinstance(text, str) else "",
                }
            )
    return out


def read_warning_snapshot(value: Any) -> WarningSnapshot:
    """The one reader of a warning's or an update's ``bulletin.snapshot``."""
    data = value if isinstance(value, dict) else {}
    return {
        "kind": str(data.get("kind") or "warning"),
        "symbol": str(data.get("symbol") or ""),
        "symbols": _strings(data.get("symbols")),
        "document_kind": str(data.get("document_kind") or ""),
        "events": read_events(data.get("events")),
        "classification": read_classification(data.get("classification")),
        "alert_sectors": _strings(data.get("alert_sectors")),
        "sectors": _strings(data.get("sectors") or data.get("alert_sectors")),
        "added_sectors": _strings(data.get("added_sectors")),
    }


def read_digest_snapshot(value: Any) -> DigestSnapshot:
    """The one reader of a digest's ``bulletin.snapshot``."""
    data = value if isinstance(value, dict) else {}
    return {
        "kind": "digest",
        "cadence": str(data.get("cadence") or ""),
        "period": str(data.get("period") or ""),
        "start": str(data.get("start") or ""),
        "end": str(data.get("end") or ""),
        "items": {
            str(k): read_warning_snapshot(v)
            for k, v in (data.get("items") or {}).items()
            if isinstance(v, dict)
        }
        if isinstance(data.get("items"), dict)
        else {},
    }


def read_payload(value: Any) -> PayloadJSON:
    """The one reader of ``source_record.payload``: the stored record checked as a canonical
    record (a payload that is not one, edited by hand or junk, reads as ``{}``)."""
    try:
        return cast(PayloadJSON, parse_record(value).to_dict())
    except RecordError:
        return {}
