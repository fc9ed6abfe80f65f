"""The view model of a message: what one warning or digest line says of one notification, for
one reader on one day, built from what planning froze (the bulletin's snapshot) and the stored
notification. Reasons are worded from the catalogue; risk levels and day counts are worked out for
the day shown, from the one deadline the message prints."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Literal

from tbt_alert.alerts.plan import snapshot
from tbt_alert.classify.risk import risk_from_json
from tbt_alert.mail.explain import explain
from tbt_alert.mail.language import Localised
from tbt_alert.mail.render import SectorLine, WarningContext
from tbt_alert.status import BulletinKind
from tbt_alert.store.measure import change_summary
from tbt_alert.store.shapes import SectorJSON, WarningSnapshot
from tbt_alert.store.tables import Notification
from tbt_alert.text.members import normalise_member


@dataclass(frozen=True)
class View:
    """Who a message is for and when: the reader's language, sectors and links, and the day."""

    lang: Literal["zh", "en"]
    today: date
    sectors: tuple[str, ...]  # the reader's sectors the message concerns
    names: Mapping[str, tuple[str, str]]  # sector id -> (English, Chinese) name
    unsubscribe_url: str
    preferences_url: str
    # the signed link to the web comment form about one notification (by its id); None: no link
    comment_link: Callable[[int], str] | None = None
    # title and summary in the reader's language (tbt_alert.mail.language); None: as stored
    localise: Callable[[Notification], Localised] | None = None


def row_snapshot(row: Notification) -> WarningSnapshot:
    """What a digest planned by an earlier version (which froze no items) says of a row: the row
    alone, as a warning (no queries: sending does not plan again)."""
    return snapshot(row, BulletinKind.WARNING, [row])


def warning_context(snap: WarningSnapshot, row: Notification, view: View) -> WarningContext:
    """What one message says of one notification (``snap``: what planning froze), for one
    reader. Everything that depends on the day is worked out here, from ``view.today``."""
    lang, today = view.lang, view.today
    entries = {s["sector"]: s for s in snap["classification"]["sectors"]}
    lines = tuple(
        _sector_line(sid, entries.get(sid), view.names, lang, today, row.comment_deadline)
        for sid in view.sectors
        if sid in row.alert_sectors or sid in entries or sid in snap["sectors"]
    )
    member = normalise_member(row.member_name, row.member_code or None)
    update = snap["kind"] == BulletinKind.UPDATE
    correction = snap["kind"] == BulletinKind.CORRECTION
    en_zh = [view.names.get(sid, (sid, sid)) for sid in snap["added_sectors"]]
    others = tuple(s for s in snap["symbols"] or row.joint_symbols if s != row.symbol)
    local = view.localise(row) if view.localise else None
    return WarningContext(
        kind="update" if update else "correction" if correction else "new",
        added_sectors=tuple(zh if lang == "zh" else en for en, zh in en_zh) if correction else (),
        change_summary=change_summary(
            snap["document_kind"] or str(row.kind),
            snap["events"],
            row.comment_deadline,
            lang,
        )
        if update
        else None,
        symbol=row.symbol,
        joint_symbols=others,
        member=(member.name_zh or member.name_en or row.member_name)
        if lang == "zh"
        else (member.name_en or row.member_name),
        title=local.title if local else row.title,
        description=(local.description if local else row.description) or "",
        sectors=lines,
        distribution_date=row.distribution_date,
        comment_deadline=row.comment_deadline,
        deadline_text=None if row.comment_deadline else row.comment_deadline_text,
        days_left=(row.comment_deadline - today).days if row.comment_deadline else None,
        document_url=next(iter(row.document_links), None) or row.document_url,
        notification_url=row.document_url,
        unsubscribe_url=view.unsubscribe_url,
        preferences_url=view.preferences_url,
        comment_url=view.comment_link(row.id)
        if view.comment_link and row.id and row.comment_deadline
        else None,
        language_note=local.note if local else None,
    )


def _sector_line(
    sid: str,
    entry: SectorJSON | None,
    names: Mapping[str, tuple[str, str]],
    lang: Literal["zh", "en"],
    today: date,
    deadline: date | None,
) -> SectorLine:
    """One sector of a message; the risk as of ``today``, weighing the notification's deadline
    (the same day count the message shows)."""
    en, zh = names.get(sid, (sid, sid))
    risk = risk_from_json(entry["risk"] if entry else {}).at(today, deadline)
    return SectorLine(
        sector_id=sid,
        name=zh if lang == "zh" else en,
        tier=entry["tier"] if entry else "alert",
        reasons=tuple(explain(entry["reasons"] if entry else [], lang, names)),
        risk_level=risk.level,
        risk_reasons=tuple(explain(risk.reasons, lang, names)),
    )
