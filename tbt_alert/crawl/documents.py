"""Fetch the WTO document of notifications whose record leaves something out.

ePing gives addenda no typed events and older notifications few fields; the notification form
itself (Word, PDF or HTML on Documents Online) has them. Which document: ePing's
``linkToNotification`` (the Word file), else the PDF named by ``dolLink`` — never a name built
from the symbol, and never ``notifiedDocumentLink`` (that is the draft regulation, not the form).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlmodel import Session, col, select

from tbt_alert.crawl.fetchguard import AllowList, FetchRefused
from tbt_alert.status import NotificationKind
from tbt_alert.store.shapes import PayloadJSON, read_payload
from tbt_alert.store.tables import Notification, SourceRecord

DOL_PDF = "https://docs.wto.org/dol2fe/Pages/SS/directdoc.aspx?filename=q:/{name}.pdf&Open=True"
RECENT = timedelta(days=2)  # a document is tried for the notifications first seen this recently
MAX_TARGETS = 200


def needs_document(row: Notification) -> bool:
    """An addendum without typed events, or a notification missing what a reader needs."""
    if row.kind != NotificationKind.REGULAR:
        return not row.events
    return (
        not row.description
        or not (row.hs_codes or row.ics_codes or row.products_text)
        or row.comment_deadline is None
    )


def document_url(payloads: list[PayloadJSON]) -> str | None:
    for payload in payloads:
        link = payload.get("document_url")
        if isinstance(link, str) and link.startswith(("http://", "https://")):
            return link
    for payload in payloads:
        dol = payload.get("dol_link")
        if isinstance(dol, str) and dol.strip():
            return DOL_PDF.format(name=dol.strip().replace("\\", "/"))
    return None


def document_targets(session: Session, now: datetime, allowed: AllowList) -> list[dict[str, str]]:
    """Documents worth fetching now: for recent notifications that need one and have none yet.
    URLs outside the allow-list are left out here rather than failing the whole crawl."""
    fetched = set(
        session.exec(
            select(SourceRecord.notification_id).where(SourceRecord.source == "wtodoc")
        ).all()
    )
    rows = session.exec(
        select(Notification)
        .where(col(Notification.first_seen_at) >= now - RECENT)
        .order_by(col(Notification.id))
    ).all()
    wanted = [r for r in rows if r.id not in fetched and needs_document(r)]
    payloads: dict[int, list[PayloadJSON]] = {}
    for src in session.exec(
        select(SourceRecord).where(col(SourceRecord.notification_id).in_([r.id for r in wanted]))
    ).all():
        payloads.setdefault(src.notification_id, []).append(read_payload(src.payload))
    targets = []
    for row in wanted:
        url = document_url(payloads.get(row.id or 0, []))
        if url is None or not _allowed(allowed, url):
            continue
        targets.append({"symbol": row.symbol, "url": url})
        if len(targets) >= MAX_TARGETS:
            break
    return targets


def _allowed(allowed: AllowList, url: str) -> bool:
    try:
        allowed.check(url)
    except FetchRefused:
        return False
    return True


def write_targets(targets: list[dict[str, str]], workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "wtodoc-targets.json"  # the caller gives each run its own folder
    path.write_text(json.dumps(targets, ensure_ascii=False), encoding="utf-8")
    return path
