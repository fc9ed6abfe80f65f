"""Enrichment gaps: what a crawl could not add to records it did read (ePing's related
notifications or download links, a WTO document). Recorded after the crawl, resolved when a later
crawl of the same notification brings it, shown by ``run`` and ``status``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select

from tbt_alert.store.tables import EnrichmentGap

WHOLE_RUN = "*"  # the symbol of a gap that concerns a whole run (the WTO documents)


@dataclass(frozen=True, slots=True)
class Gap:
    symbol: str
    what: str
    error: str
    distribution_date: date | None = None

    def line(self) -> str:
        return f"{self.what} of {self.symbol}: {self.error}"


def gaps_from_stats(stats: Mapping[str, object], days: Mapping[str, date | None]) -> list[Gap]:
    """The gaps a spider recorded in its stats (``tbt/gaps``), with each record's date."""
    found = stats.get("tbt/gaps") or []
    out = []
    for entry in found if isinstance(found, list) else []:
        if isinstance(entry, dict) and entry.get("symbol") and entry.get("what"):
            symbol = str(entry["symbol"])
            out.append(Gap(symbol, str(entry["what"]), str(entry.get("error")), days.get(symbol)))
    return out


def record_gaps(
    session: Session,
    source: str,
    gaps: Iterable[Gap],
    *,
    crawled: Iterable[str],
    kinds: Iterable[str],
    now: datetime,
) -> None:
    """Open (or count another attempt of) each gap; resolve the open gaps of ``source`` among
    ``kinds`` for the ``crawled`` symbols that this crawl enriched without a gap."""
    gaps = list(gaps)
    failed = {(g.symbol, g.what) for g in gaps}
    for gap in gaps:
        row = session.exec(
            select(EnrichmentGap).where(
                EnrichmentGap.source == source,
                EnrichmentGap.symbol == gap.symbol,
                EnrichmentGap.what == gap.what,
            )
        ).first()
        if row is None:
            row = EnrichmentGap(
                source=source,
                symbol=gap.symbol,
                what=gap.what,
                error=gap.error,
                distribution_date=gap.distribution_date,
                first_seen_at=now,
                last_tried_at=now,
                attempts=0,
            )
        row.attempts = (row.attempts or 0) + 1 if row.resolved_at is None else 1
        row.error, row.last_tried_at, row.resolved_at = gap.error, now, None
        session.add(row)
    crawled, kinds = set(crawled), list(kinds)
    if not kinds:
        return
    open_rows = session.exec(
        select(EnrichmentGap).where(
            EnrichmentGap.source == source,
            col(EnrichmentGap.what).in_(kinds),
            col(EnrichmentGap.resolved_at).is_(None),
        )
    ).all()
    for row in open_rows:
        if (row.symbol in crawled or row.symbol == WHOLE_RUN) and (
            row.symbol,
            row.what,
        ) not in failed:
            row.resolved_at = now
            session.add(row)


def open_gaps(session: Session, limit: int = 100) -> list[EnrichmentGap]:
    return list(
        session.exec(
            select(EnrichmentGap)
            .where(col(EnrichmentGap.resolved_at).is_(None))
            .order_by(col(EnrichmentGap.first_seen_at), col(EnrichmentGap.id))
            .limit(limit)
        ).all()
    )


def oldest_gap_day(session: Session, source: str) -> date | None:
    """The earliest distribution date of an open gap of ``source``: the next crawl reaches it."""
    row = session.exec(
        select(EnrichmentGap)
        .where(
            EnrichmentGap.source == source,
            col(EnrichmentGap.resolved_at).is_(None),
            col(EnrichmentGap.distribution_date).is_not(None),
        )
        .order_by(col(EnrichmentGap.distribution_date))
    ).first()
    return row.distribution_date if row is not None else None
