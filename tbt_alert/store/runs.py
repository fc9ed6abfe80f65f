"""Crawl runs left ``running`` by a process that died (SIGKILL, power loss): whoever next holds
the database's crawl lock knows no one else is crawling, and closes them as ``abandoned``."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from tbt_alert.status import RunStatus
from tbt_alert.store.tables import CrawlRun

ABANDONED_NOTE = "abandoned: its process ended before the run finished (found at {now})"


def abandon_running(session: Session, now: datetime) -> list[int]:
    """Close every run still marked running; call only while holding the crawl lock."""
    rows = session.exec(
        select(CrawlRun).where(CrawlRun.status == RunStatus.RUNNING).order_by(col(CrawlRun.id))
    ).all()
    for row in rows:
        row.status, row.finished_at = RunStatus.ABANDONED, now
        row.error = ABANDONED_NOTE.format(now=now.isoformat(timespec="seconds"))
        session.add(row)
    return [row.id for row in rows if row.id is not None]
