"""A measure is one notified draft with its addenda, revisions and corrigenda. Its state (stage,
current comment deadline, dates of adoption and entry into force) is derived from the events its
documents state, never stored separately, so it cannot drift from them."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from tbt_alert.record import CanonicalRecord
from tbt_alert.sources.addenda import AddendumEvent, EventKind, describe_event
from tbt_alert.status import NotificationKind
from tbt_alert.store.shapes import EventJSON, read_events
from tbt_alert.store.tables import Notification
from tbt_alert.text.dates import parse_date

Lang = Literal["zh", "en"]
STAGE_BY_EVENT = {
    EventKind.adopted: "adopted",
    EventKind.published: "adopted",
    EventKind.final_text_available: "adopted",
    EventKind.enters_into_force: "in_force",
    EventKind.withdrawn: "withdrawn",
}


@dataclass(frozen=True)
class MeasureState:
    measure_key: str
    stage: str  # draft | adopted | in_force | withdrawn
    comment_deadline: date | None
    adopted_on: date | None = None
    in_force_on: date | None = None
    withdrawn_on: date | None = None
    history: tuple[str, ...] = field(default_factory=tuple)  # "SYMBOL (date): what changed"


def record_events(record: CanonicalRecord, kind: NotificationKind) -> list[dict[str, Any]]:
    """The typed events an addendum, revision or corrigendum carries (``events``, read by its
    source adapter, see ``sources.canonical``), checked for shape; a regular notification has none.
    """
    if kind == NotificationKind.REGULAR:
        return []
    given = record.extra.get("events")
    if not isinstance(given, list):
        return []
    return [e for e in (_event_from_json(x) for x in given) if e is not None]


def _event_from_json(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict) or value.get("kind") not in EventKind.__members__:
        return None
    day = parse_date(value.get("date")) if isinstance(value.get("date"), str) else None
    text = value.get("text")
    return {
        "kind": value["kind"],
        "date": day.isoformat() if day else None,
        "text": text[:500] if isinstance(text, str) else "",
    }


def as_events(values: Any) -> list[AddendumEvent]:
    """Stored events (``notification.events``, or a snapshot's) as typed events."""
    return [
        AddendumEvent(EventKind(v["kind"]), parse_date(v["date"]), v["text"])
        for v in read_events(values)
        if v["kind"] in EventKind.__members__
    ]


def parallel_key(title: str, distributed: date | None) -> str | None:
    """Parallel notifications of one measure by several members (EAC, GCC) share title and day."""
    if distributed is None:
        return None
    words = re.sub(r"\W+", " ", title.casefold()).strip()
    if len(words) < 12:
        return None
    return hashlib.sha256(f"{distributed.isoformat()}|{words}".encode()).hexdigest()[:32]


def measure_state(rows: Sequence[Notification]) -> MeasureState:
    """Fold the documents of one measure, oldest first, into its current state."""
    ordered = sorted(rows, key=lambda r: (r.distribution_date or date.min, r.symbol))
    base = next((r for r in ordered if r.kind == NotificationKind.REGULAR), ordered[0])
    stage, deadline = (
        "draft",
        base.comment_deadline if base.kind == NotificationKind.REGULAR else None,
    )
    dates: dict[str, date | None] = {"adopted": None, "in_force": None, "withdrawn": None}
    history = []
    for row in ordered:
        if row.kind == NotificationKind.REGULAR:
            continue
        if row.kind == NotificationKind.REVISION and row.comment_deadline:
            deadline = row.comment_deadline
        for event in as_events(row.events):
            stage = STAGE_BY_EVENT.get(event.kind, stage)
            if (
                event.kind in (EventKind.comment_period_changed, EventKind.scope_changed)
                and event.date
            ):
                deadline = max(deadline or event.date, event.date)
            key = STAGE_BY_EVENT.get(event.kind)
            if key and event.date:
                dates[key] = event.date
            history.append(
                f"{row.symbol} ({row.distribution_date or '-'}): {describe_event(event, 'en')}"
            )
        if not row.events:
            history.append(f"{row.symbol} ({row.distribution_date or '-'}): {row.kind}")
    return MeasureState(
        base.measure_key,
        stage,
        deadline,
        dates["adopted"],
        dates["in_force"],
        dates["withdrawn"],
        tuple(history),
    )


def change_summary(
    kind: str, events: Sequence[EventJSON], deadline: date | None, lang: Lang
) -> str:
    """One line for an update alert: what the new document changes."""
    parts = [describe_event(e, lang) for e in as_events(events)]
    if parts:
        return "; ".join(dict.fromkeys(parts))
    due = deadline.isoformat() if deadline else None
    if kind == NotificationKind.REVISION:
        if lang == "zh":
            return f"通报草案已修订，评议截止日期{due}" if due else "通报草案已修订"
        return f"revised draft; comments due {due}" if due else "revised draft"
    if kind == NotificationKind.CORRIGENDUM:
        return "通报已更正" if lang == "zh" else "the notification was corrected"
    return "通报有补充信息" if lang == "zh" else "an addendum was circulated"
