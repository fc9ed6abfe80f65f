"""Notifications with their effective sectors and decisions, as CSV, JSON Lines or Excel."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from tbt_alert.errors import TbtAlertError
from tbt_alert.store.tables import Notification
from tbt_alert.triage.decisions import effective_map
from tbt_alert.triage.effective import NotificationRow
from tbt_alert.triage.filters import Filters
from tbt_alert.triage.queue import risk_of

COLUMNS = (
    "symbol",
    "member",
    "distribution_date",
    "comment_deadline",
    "title",
    "labels",
    "alert_sectors",
    "possible_sectors",
    "decision",
    "assignee",
    "risk",
    "document_url",
)
MAX_ROWS = 1_000_000  # an Excel sheet's limit, near enough


def export_rows(session: Session, filters: Filters, query: str | None = None) -> list[dict]:
    """The rows to export, newest first; ``query`` narrows as search does."""
    rows: Sequence[Notification | NotificationRow]
    if query:
        from tbt_alert.store.dbapi import Reader
        from tbt_alert.triage.search import search

        found = search(Reader.of_session(session), query, filters, limit=MAX_ROWS)
        rows = [h.notification for h in found]
    else:
        stmt = select(Notification).order_by(
            col(Notification.distribution_date).desc(), col(Notification.symbol)
        )
        for cond in filters.where():
            stmt = stmt.where(cond)
        like = filters.sector_like()
        rows = list(session.exec(stmt.where(like) if like is not None else stmt).all())
    states = effective_map(session, rows)
    out = []
    for row in rows:
        state = states[row.id or 0]
        if not filters.keep(state.labels):
            continue
        out.append(
            {
                "symbol": row.symbol,
                "member": row.member_code,
                "distribution_date": row.distribution_date.isoformat()
                if row.distribution_date
                else "",
                "comment_deadline": row.comment_deadline.isoformat()
                if row.comment_deadline
                else "",
                "title": row.title,
                "labels": sorted(state.labels),
                "alert_sectors": sorted(state.alert),
                "possible_sectors": sorted(state.possible),
                "decision": state.status or "",
                "assignee": state.assignee or "",
                "risk": risk_of(row, state) or "",
                "document_url": row.document_url or "",
            }
        )
    return out


def _flat(value: Any) -> Any:
    return ";".join(value) if isinstance(value, list) else value


def _cell(value: Any) -> Any:
    """Scraped text is hostile: a cell starting like a formula is kept as text."""
    value = _flat(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def write_export(rows: list[dict], fmt: str, path: Path) -> None:
    try:
        if fmt == "jsonl":
            with path.open("w", encoding="utf-8") as f:
                for r in rows:
                    f.write(json.dumps(r, ensure_ascii=False) + "\n")
        elif fmt == "csv":
            with path.open("w", encoding="utf-8-sig", newline="") as f:  # BOM: Excel reads UTF-8
                writer = csv.DictWriter(f, fieldnames=COLUMNS)
                writer.writeheader()
                writer.writerows({k: _cell(v) for k, v in r.items()} for r in rows)
        elif fmt == "xlsx":
            _xlsx(rows, path)
        else:
            raise TbtAlertError(f"unknown export format {fmt!r}: csv, jsonl or xlsx")
    except OSError as e:
        raise TbtAlertError(f"cannot write {path}: {e.strerror or e}") from e


def _xlsx(rows: list[dict], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("notifications")
    sheet.append(list(COLUMNS))
    for r in rows:
        sheet.append(
            [
                ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v
                for v in (_cell(r[c]) for c in COLUMNS)
            ]
        )
    book.save(path)
