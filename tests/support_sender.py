"""One sender process for the concurrency and crash tests:
``python -m tests.support_sender DB SMTP [GO|-] [MINUTES]``.

Waits until the file GO exists (so several senders start together), sends what is due at
NOW + MINUTES (default 1) with a small batch (so claims interleave), prints the counts as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tbt_alert.mail.deliver import DeliverySettings, deliver_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.store.engine import make_engine

SETTINGS = DeliverySettings(
    sender="alerts@tbt-alert.test",
    public_url="https://tbt.example/",
    domain="tbt-alert.test",
    batch=3,
)
NAMES = {"footwear_leather": ("Footwear and leather", "鞋革")}


def main(db_url: str, smtp_url: str, go: str = "-", minutes: str = "1") -> None:
    engine = make_engine(db_url)
    with engine.connect():  # connected and imported before the start signal
        pass
    if go != "-":
        Path(go + f".{os.getpid()}").touch()
        deadline = time.monotonic() + 60
        while not Path(go).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    now = datetime(2026, 11, 26, 8, 0, tzinfo=UTC) + timedelta(minutes=float(minutes))
    with SmtpMailer(smtp_url, timeout=10, sender=SETTINGS.sender) as mailer:
        counts = deliver_due(engine, mailer, SETTINGS, now=now, sector_names=NAMES)
    engine.dispose()
    print(json.dumps(dict(counts)))


if __name__ == "__main__":
    main(*sys.argv[1:])
