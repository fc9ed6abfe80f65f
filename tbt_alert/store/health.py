"""What an operator needs to read at a glance (``tbt-alert status``): per source the last run,
the last success and the failures since; open enrichment gaps; deliveries due and waiting;
abandoned runs. Plain data, so ``--json`` and the text view say the same."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, func, select

from tbt_alert.status import DeliveryStatus, RunStatus
from tbt_alert.store.gaps import open_gaps
from tbt_alert.store.tables import CrawlRun, Delivery, EnrichmentGap, SourceIncident

RETRIED = (DeliveryStatus.PLANNED, DeliveryStatus.FAILED_TEMP, DeliveryStatus.UNKNOWN)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def source_health(session: Session, source: str) -> dict[str, Any]:
    runs: Sequence[CrawlRun] = session.exec(
        select(CrawlRun)
        .where(CrawlRun.source == source)
        .order_by(col(CrawlRun.started_at).desc(), col(CrawlRun.id).desc())
        .limit(50)
    ).all()
    last = runs[0]
    failed_since = 0
    for run in runs:
        if run.status == RunStatus.SUCCESS:
            break
        if run.status in (RunStatus.FAILED, RunStatus.ABANDONED):
            failed_since += 1
    success = next((r for r in runs if r.status == RunStatus.SUCCESS), None)
    error = (last.error or "").strip().splitlines()
    return {
        "source": source,
        "last_run": {
            "status": str(last.status),
            "started_at": _iso(last.started_at),
            "finished_at": _iso(last.finished_at),
            "window": f"{last.since}..{last.until}",
            "items": last.items,
            "new": last.new,
            "error": error[0][:300] if error else None,
        },
        "last_success_at": _iso(success.finished_at or success.started_at) if success else None,
        "failures_in_a_row": failed_since,
    }


def deliveries(session: Session, now: datetime) -> dict[str, Any]:
    pending = col(Delivery.status).in_([str(s) for s in RETRIED])
    due_clause = col(Delivery.next_attempt_at).is_(None) | (col(Delivery.next_attempt_at) <= now)
    due, oldest_due = session.exec(
        select(func.count(), func.min(Delivery.created_at)).where(pending, due_clause)
    ).one()
    waiting, next_try = session.exec(
        select(func.count(), func.min(Delivery.next_attempt_at)).where(
            pending, col(Delivery.next_attempt_at) > now
        )
    ).one()
    return {
        "due": due,
        "oldest_due_since": _iso(oldest_due),
        "waiting": waiting,
        "next_attempt_at": _iso(next_try),
    }


def health_report(session: Session, now: datetime) -> dict[str, Any]:
    sources = session.exec(select(CrawlRun.source).distinct().order_by(CrawlRun.source)).all()
    gaps = open_gaps(session, limit=20)
    gap_count = session.exec(
        select(func.count()).where(col(EnrichmentGap.resolved_at).is_(None))
    ).one()
    abandoned = session.exec(
        select(func.count()).where(CrawlRun.status == RunStatus.ABANDONED)
    ).one()
    running = session.exec(select(func.count()).where(CrawlRun.status == RunStatus.RUNNING)).one()
    return {
        "now": _iso(now),
        "sources": [source_health(session, s) for s in sources],
        "gaps": {
            "open": gap_count,
            "oldest": [
                {
                    "source": g.source,
                    "symbol": g.symbol,
                    "what": g.what,
                    "attempts": g.attempts,
                    "since": _iso(g.first_seen_at),
                    "error": g.error[:200],
                }
                for g in gaps
            ],
        },
        "deliveries": deliveries(session, now),
        "operator_alerts": [
            {"source": i.source, "failures": i.failures, "alerted_at": _iso(i.alerted_at)}
            for i in session.exec(
                select(SourceIncident)
                .where(col(SourceIncident.recovered_at).is_(None))
                .order_by(col(SourceIncident.id))
            ).all()
        ],
        "runs_running": running,
        "runs_abandoned": abandoned,
    }
