"""The public archive: what each sent bulletin said, for everyone, without subscriber data.

A bulletin is archived once at least one of its deliveries was sent. Only warnings and updates
are listed: a digest repeats notifications already archived, chosen per reader."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from tbt_alert.status import BulletinKind, DeliveryStatus
from tbt_alert.store.tables import Bulletin, Delivery, Notification
from tbt_alert.text.members import normalise_member

SCAN_LIMIT = 2000  # newest bulletins looked at for one index or feed


@dataclass(frozen=True)
class ArchiveEntry:
    bulletin_id: int
    kind: str  # warning | update
    symbol: str
    symbols: tuple[str, ...]
    member_en: str
    member_zh: str
    title: str
    description: str
    sectors: tuple[str, ...]
    risk: dict[str, str]  # sector -> red | amber | green
    distribution_date: date | None
    comment_deadline: date | None
    document_url: str | None
    published_at: datetime  # when the bulletin was planned


def _entry(bulletin: Bulletin, row: Notification) -> ArchiveEntry:
    snap = bulletin.snapshot or {}
    member = normalise_member(row.member_name, row.member_code or None)
    sectors = tuple(snap.get("alert_sectors") or row.alert_sectors)
    risk = {
        str(s.get("sector")): str((s.get("risk") or {}).get("level", ""))
        for s in (snap.get("classification") or {}).get("sectors", [])
        if isinstance(s, dict)
    }
    return ArchiveEntry(
        bulletin_id=bulletin.id or 0,
        kind=str(bulletin.kind),
        symbol=row.symbol,
        symbols=tuple(snap.get("symbols") or [row.symbol]),
        member_en=member.name_en or row.member_name,
        member_zh=member.name_zh or member.name_en or row.member_name,
        title=row.title,
        description=row.description or "",
        sectors=sectors,
        risk={s: risk[s] for s in sectors if risk.get(s)},
        distribution_date=row.distribution_date,
        comment_deadline=row.comment_deadline,
        document_url=next(iter(row.document_links), None) or row.document_url,
        published_at=bulletin.created_at,
    )


def _sent() -> Any:
    return select(Delivery.bulletin_id).where(Delivery.status == DeliveryStatus.SENT).distinct()


def archived(
    session: Session, *, sector: str | None = None, limit: int = 100
) -> list[ArchiveEntry]:
    """Sent warnings and updates, newest first; only those concerning ``sector`` when given."""
    rows = session.exec(
        select(Bulletin, Notification)
        .join(Notification, col(Notification.id) == col(Bulletin.notification_id))
        .where(col(Bulletin.kind).in_([BulletinKind.WARNING.value, BulletinKind.UPDATE.value]))
        .where(col(Bulletin.id).in_(_sent()))
        .order_by(col(Bulletin.created_at).desc(), col(Bulletin.id).desc())
        .limit(SCAN_LIMIT)
    ).all()
    out = [_entry(b, n) for b, n in rows]
    if sector is not None:
        out = [e for e in out if sector in e.sectors]
    return out[:limit]


def archived_one(session: Session, bulletin_id: int) -> ArchiveEntry | None:
    """One sent warning or update; None when there is none by that id (or it was never sent)."""
    found = session.exec(
        select(Bulletin, Notification)
        .join(Notification, col(Notification.id) == col(Bulletin.notification_id))
        .where(Bulletin.id == bulletin_id)
        .where(col(Bulletin.id).in_(_sent()))
    ).first()
    return _entry(*found) if found else None
