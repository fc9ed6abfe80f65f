"""Read-only questions analysts ask of the database."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, cast
from sqlmodel import Session, col, select

from tbt_alert.errors import SymbolError
from tbt_alert.store.measure import MeasureState, measure_state
from tbt_alert.store.shapes import tier_sectors
from tbt_alert.store.tables import Bulletin, CrawlRun, Delivery, Notification, SourceRecord
from tbt_alert.text.symbols import parse_symbol


def list_notifications(
    session: Session,
    *,
    sector: str | None = None,
    since: date | None = None,
    relevant_only: bool = False,
    limit: int = 50,
) -> list[Notification]:
    """Newest first. The sector and relevance filters narrow in SQL on the JSON text, then are
    checked exactly; rows are read in pages until ``limit`` is reached."""
    stmt = select(Notification).order_by(
        col(Notification.distribution_date).desc().nulls_last(), col(Notification.symbol)
    )
    if since is not None:
        stmt = stmt.where(col(Notification.distribution_date) >= since)
    if sector is not None:
        stmt = stmt.where(cast(Notification.classification, String).like(f'%"{sector}"%'))
    if relevant_only:
        stmt = stmt.where(cast(Notification.alert_sectors, String) != "[]")
    out: list[Notification] = []
    for row in session.exec(stmt.execution_options(yield_per=500)):
        if (
            sector is not None
            and sector not in row.alert_sectors
            and sector not in tier_sectors(row.classification, "possible")
        ):
            continue
        if relevant_only and not row.alert_sectors:
            continue
        out.append(row)
        if len(out) >= limit:
            break
    return out


def find_notification(session: Session, text: str) -> Notification | None:
    """By normalised symbol, or by any symbol of a joint notification."""
    try:
        symbol = parse_symbol(text).canonical
    except SymbolError:
        symbol = text.strip()
    row = session.exec(select(Notification).where(Notification.symbol == symbol)).first()
    if row is not None:
        return row
    needle = f'%"{symbol}"%'
    return session.exec(
        select(Notification).where(cast(Notification.joint_symbols, String).like(needle))
    ).first()


@dataclass(frozen=True)
class Detail:
    notification: Notification
    sources: list[SourceRecord]
    bulletins: list[Bulletin]
    deliveries: Counter[str]
    related: list[Notification]
    measure: MeasureState


def detail(session: Session, row: Notification) -> Detail:
    sources = list(
        session.exec(select(SourceRecord).where(SourceRecord.notification_id == row.id)).all()
    )
    bulletins = list(session.exec(select(Bulletin).where(Bulletin.notification_id == row.id)).all())
    counts: Counter[str] = Counter()
    for b in bulletins:
        for d in session.exec(select(Delivery).where(Delivery.bulletin_id == b.id)).all():
            counts[str(d.status)] += 1
    related = list(
        session.exec(
            select(Notification)
            .where(Notification.measure_key == row.measure_key, Notification.id != row.id)
            .order_by(col(Notification.symbol))
        ).all()
    )
    return Detail(row, sources, bulletins, counts, related, measure_state([row, *related]))


def recent_runs(session: Session, limit: int = 10) -> list[CrawlRun]:
    stmt = select(CrawlRun).order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
    return list(session.exec(stmt.limit(limit)).all())


HS_DIGITS = re.compile(r"\d+")


def hs_depth(codes: Iterable[str]) -> int:
    """The most digits any HS code of the notification gives (0 when none)."""
    best = 0
    for code in codes:
        digits = "".join(HS_DIGITS.findall(code.split("-")[0]))
        best = max(best, len(digits))
    return best


def code_coverage(session: Session) -> Counter[str]:
    """How precisely stored notifications are coded: the HS-filter baseline's blind spots."""
    counts: Counter[str] = Counter()
    for hs, ics in session.exec(select(Notification.hs_codes, Notification.ics_codes)).all():
        depth = hs_depth(hs or [])
        if depth >= 4:
            counts["hs_4plus"] += 1
        elif depth >= 2:
            counts["hs_chapter_only"] += 1
        elif ics:
            counts["ics_only"] += 1
        else:
            counts["none"] += 1
    return counts
