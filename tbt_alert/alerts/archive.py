"""The public archive: what each sent bulletin said, for everyone, without subscriber data.

A bulletin is archived once at least one of its deliveries was sent. Warnings and updates are
listed by sector; daily and weekly digests have their own list, each showing every notification
the digest listed for anyone (what planning froze of each), never who received which."""

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
    notification_id: int = 0
    language: str | None = None  # of title and description
    note: str | None = None  # set when shown: the title is the original, not the reader's language


@dataclass(frozen=True)
class ArchivedDigest:
    bulletin_id: int
    cadence: str  # daily | weekly
    period: str  # 2026-11-25 or 2026-W48
    published_at: datetime
    size: int  # notifications listed
    entries: tuple[ArchiveEntry, ...] = ()  # filled by archived_digest only


ARCHIVED_KINDS = (BulletinKind.WARNING, BulletinKind.UPDATE, BulletinKind.CORRECTION)


def _entry(bulletin: Bulletin, row: Notification, snap: Any = None) -> ArchiveEntry:
    snap = (bulletin.snapshot if snap is None else snap) or {}
    member = normalise_member(row.member_name, row.member_code or None)
    sectors = tuple(snap.get("sectors") or snap.get("alert_sectors") or row.alert_sectors)
    risk = {
        str(s.get("sector")): str((s.get("risk") or {}).get("level", ""))
        for s in (snap.get("classification") or {}).get("sectors", [])
        if isinstance(s, dict)
    }
    return ArchiveEntry(
        bulletin_id=bulletin.id or 0,
        kind=str(snap.get("kind") or bulletin.kind),
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
        notification_id=row.id or 0,
        language=row.language,
    )


def _sent() -> Any:
    return select(Delivery.bulletin_id).where(Delivery.status == DeliveryStatus.SENT).distinct()


def archived(
    session: Session, *, sector: str | None = None, limit: int = 100
) -> list[ArchiveEntry]:
    """Sent warnings, updates and corrections, newest first; only those concerning ``sector`` when given."""
    rows = session.exec(
        select(Bulletin, Notification)
        .join(Notification, col(Notification.id) == col(Bulletin.notification_id))
        .where(col(Bulletin.kind).in_([k.value for k in ARCHIVED_KINDS]))
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


def _digest(bulletin: Bulletin) -> ArchivedDigest:
    snap = bulletin.snapshot or {}
    items = snap.get("items")
    return ArchivedDigest(
        bulletin_id=bulletin.id or 0,
        cadence=str(snap.get("cadence") or ""),
        period=str(snap.get("period") or ""),
        published_at=bulletin.created_at,
        size=len(items) if isinstance(items, dict) else 0,
    )


def archived_digests(session: Session, *, limit: int = 100) -> list[ArchivedDigest]:
    """Sent daily and weekly digests, newest first (without their entries)."""
    rows = session.exec(
        select(Bulletin)
        .where(Bulletin.kind == BulletinKind.DIGEST.value)
        .where(col(Bulletin.id).in_(_sent()))
        .order_by(col(Bulletin.created_at).desc(), col(Bulletin.id).desc())
        .limit(limit)
    ).all()
    return [_digest(b) for b in rows]


def archived_digest(session: Session, bulletin_id: int) -> ArchivedDigest | None:
    """One sent digest with every notification it listed, in the digest's order."""
    bulletin = session.exec(
        select(Bulletin)
        .where(Bulletin.id == bulletin_id)
        .where(Bulletin.kind == BulletinKind.DIGEST.value)
        .where(col(Bulletin.id).in_(_sent()))
    ).first()
    if bulletin is None:
        return None
    items = (bulletin.snapshot or {}).get("items")
    said = {int(k): v for k, v in items.items() if k.isdigit()} if isinstance(items, dict) else {}
    rows = (
        session.exec(select(Notification).where(col(Notification.id).in_(said))).all()
        if said
        else []
    )
    ordered = sorted(rows, key=lambda r: (r.distribution_date or date.min, r.symbol))
    entries = tuple(_entry(bulletin, r, said[r.id or 0]) for r in ordered)
    digest = _digest(bulletin)
    return ArchivedDigest(
        digest.bulletin_id,
        digest.cadence,
        digest.period,
        digest.published_at,
        len(entries),
        entries,
    )
