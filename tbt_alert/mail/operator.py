"""The operator is told by email when a source failed ``[operations] alert_after_failures`` runs
in a row, once per incident, and once more when it recovers. An incident is stored only after
the mail server accepted the alert (and closed only after it accepted the recovery notice), so a
refused message is tried again at the next cycle, and never twice once accepted."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from tbt_alert.config import Config
from tbt_alert.mail.message import build_notice
from tbt_alert.mail.transport import Mailer, SendStatus
from tbt_alert.store.health import source_health
from tbt_alert.store.tables import CrawlRun, SourceIncident


def _message_id(key: str, domain: str) -> str:
    return f"<tbt-ops.{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _open_incident(session: Session, source: str) -> SourceIncident | None:
    return session.exec(
        select(SourceIncident)
        .where(SourceIncident.source == source, col(SourceIncident.recovered_at).is_(None))
        .order_by(col(SourceIncident.id).desc())
    ).first()


def _send(mailer: Mailer, config: Config, key: str, subject: str, text: str, now: datetime) -> str:
    """Send one notice to the operator; return "" when the server accepted it, else why not."""
    msg = build_notice(
        subject=subject,
        text=text,
        sender=config.mail.sender,
        recipient=config.operations.alert_email,
        message_id=_message_id(key, config.mail.message_id_domain),
        date=now,
    )
    outcome = mailer.send(msg)
    return "" if outcome.status == SendStatus.SENT else f"{outcome.status}: {outcome.detail}"


def watch_sources(
    engine: Engine, config: Config, mailer: Mailer, now: datetime
) -> tuple[list[str], list[str]]:
    """Alert on sources failing K runs in a row and on their recovery.

    Returns (what was sent, what could not be sent); does nothing when ``alert_email`` is empty."""
    ops = config.operations
    sent: list[str] = []
    failed: list[str] = []
    if not ops.alert_email:
        return sent, failed
    with Session(engine) as session:
        sources = session.exec(select(CrawlRun.source).distinct().order_by(CrawlRun.source)).all()
        for source in sources:
            health = source_health(session, source)
            in_a_row = health["failures_in_a_row"]
            incident = _open_incident(session, source)
            stamp = now.isoformat(timespec="seconds")
            if incident is None and in_a_row >= ops.alert_after_failures:
                last = health["last_run"]
                why = _send(
                    mailer,
                    config,
                    f"failing:{source}:{stamp}",
                    f"tbt-alert: source {source} failed {in_a_row} runs in a row",
                    f"The crawl of {source} failed {in_a_row} times in a row; the last run "
                    f"started at {last['started_at']}.\n\nLast error: {last['error'] or '-'}\n"
                    f"Last success: {health['last_success_at'] or 'never'}\n\n"
                    "Warnings from this source wait until it recovers; run 'tbt-alert status' "
                    "for details. You will be told once it recovers.\n",
                    now,
                )
                if why:
                    failed.append(f"operator alert for {source} not sent ({why})")
                    continue
                session.add(
                    SourceIncident(source=source, opened_at=now, failures=in_a_row, alerted_at=now)
                )
                session.commit()
                sent.append(f"operator alerted: {source} failed {in_a_row} runs in a row")
            elif incident is not None and in_a_row == 0:
                why = _send(
                    mailer,
                    config,
                    f"recovered:{source}:{incident.id}",
                    f"tbt-alert: source {source} recovered",
                    f"The crawl of {source} succeeded again (last success "
                    f"{health['last_success_at']}), after the failures reported at "
                    f"{incident.opened_at.isoformat(timespec='seconds')}.\n",
                    now,
                )
                if why:
                    failed.append(f"operator recovery notice for {source} not sent ({why})")
                    continue
                incident.recovered_at = incident.recovery_sent_at = now
                session.add(incident)
                session.commit()
                sent.append(f"operator told: {source} recovered")
    return sent, failed
