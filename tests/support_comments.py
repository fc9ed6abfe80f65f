"""A notification warned about over real SMTP, for the comment tests: seed, plan, send, open."""

from __future__ import annotations

import io
import json
import random
from datetime import UTC, datetime

from sqlmodel import Session, select

from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.comments.calls import open_calls
from tbt_alert.mail.deliver import DeliverySettings, send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.store.tables import Notification

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SYMBOL = "G/TBT/N/EU/1097"
SECRET = "a-test-secret-of-sufficient-length"
SECTORS = ["footwear_leather", "eyewear"]
NAMES = {"footwear_leather": ("Footwear and leather", "鞋革"), "eyewear": ("Eyewear", "眼镜")}


def settings(reply_domain: str = "") -> DeliverySettings:
    return DeliverySettings(
        sender="alerts@tbt-alert.test",
        public_url="https://tbt.example/",
        domain="tbt-alert.test",
        reply_domain=reply_domain,
        secret_key=SECRET,
    )


def ingest(session: Session, record: dict, now: datetime = NOW) -> None:
    import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="import", now=now)
    session.commit()


def seed_notification(session: Session) -> Notification:
    ingest(
        session,
        {
            "symbol": SYMBOL,
            "member": "European Union",
            "title": "Draft regulation on the labelling of footwear",
            "distribution_date": "2026-11-20",
            "comment_deadline": "2027-01-19",
            "hs_codes": ["6403"],
        },
    )
    row = session.exec(select(Notification).where(Notification.symbol == SYMBOL)).one()
    row.classification = {
        "symbol": row.symbol,
        "horizontal": False,
        "sectors": [
            {
                "sector": "footwear_leather",
                "tier": "alert",
                "score": 0.97,
                "reasons": ["HS 6403 (strong match for footwear_leather)"],
                "risk": {"level": "red", "reasons": ["EU: main footwear market"]},
            }
        ],
    }
    row.alert_sectors, row.classified_hash = ["footwear_leather"], "x"
    session.add(row)
    session.commit()
    return row


def add_people(session: Session, *emails: str, sector: str = "footwear_leather") -> None:
    for email in emails:
        add_subscriber(
            session, email, sectors=[sector], known_sectors=SECTORS, confirmed=True, now=NOW
        )
    session.commit()


def warn(session: Session, sink_url: str, *, reply_domain: str = "", now: datetime = NOW):
    """Plan and send the warnings over SMTP, then open the calls, as the cycle does."""
    plan_warnings(session, now=now, window_days=45, domain="tbt-alert.test")
    session.commit()
    with SmtpMailer(sink_url, timeout=5, sender="alerts@tbt-alert.test") as mailer:
        send_due(
            session,
            mailer,
            settings(reply_domain),
            now=now,
            sector_names=NAMES,
            rng=random.Random(1),
        )
    session.commit()
    report = open_calls(session, now=now, lead_days=10)
    session.commit()
    return report
