"""``tbt-alert demo``: the main job, offline, on bundled real notifications.

The bundled items are reconstructed ePing records of real notifications (see
data/eping_demo_items.meta.json). Their distribution dates were moved into a recent window
relative to an anchor date; the demo moves them again so the newest falls on today, so that the
cycle's default "last 30 days" finds them whatever day the demo runs. Their real dates are kept
in each item.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.config import Config, DatabaseConfig, EpingConfig, FetchConfig, MailConfig
from tbt_alert.demo.eping_server import FakeEping
from tbt_alert.mail.mailer import OutboxMailer
from tbt_alert.pipeline import run_cycle
from tbt_alert.store.engine import make_engine, session_scope, upgrade

DATA = Path(__file__).resolve().parent / "data"
DATE_FIELDS = ("distributionDate", "commentDeadlineDate")

DEMO_SUBSCRIBERS: tuple[dict[str, Any], ...] = (
    {
        "email": "footwear-exporter@example.com",
        "sectors": ["footwear_leather", "apparel_textiles"],
        "language": "zh",
    },
    {
        "email": "electrical-exporter@example.com",
        "sectors": ["low_voltage_electrical", "pumps_valves"],
        "language": "en",
    },
    {
        "email": "parts-exporter@example.com",
        "sectors": ["auto_moto_parts", "toys_playground"],
        "language": "zh",
    },
)


def load_demo_items(today: date) -> list[dict[str, Any]]:
    """The bundled items, re-dated so that the newest is distributed today."""
    items = json.loads((DATA / "eping_demo_items.json").read_text(encoding="utf-8"))
    meta = json.loads((DATA / "eping_demo_items.meta.json").read_text(encoding="utf-8"))
    anchor = date.fromisoformat(meta["anchor_date"])
    return [shift_item(item, today - anchor) for item in items]


def shift_item(item: dict[str, Any], offset: timedelta) -> dict[str, Any]:
    shifted = dict(item)
    for key in DATE_FIELDS:
        value = item.get(key)
        if isinstance(value, str) and value:
            moved = datetime.fromisoformat(value) + offset
            shifted[key] = moved.isoformat()
    return shifted


def demo_config(directory: Path, base_url: str) -> Config:
    """Offline: the only host a crawl may reach is the loopback server (no WTO documents are
    fetched from the internet for the bundled notifications that link to them)."""
    return Config(
        data_dir=directory,
        database=DatabaseConfig(url=f"sqlite:///{directory / 'tbt-alert.sqlite3'}"),
        mail=MailConfig(smtp_url=""),
        eping=EpingConfig(base_url=base_url, download_delay_s=0.0, timeout_s=300.0),
        fetch=FetchConfig(allowed_hosts=()),
    )


def run_demo(directory: Path, *, fresh: bool, now: datetime) -> tuple[bool, list[str]]:
    """Run one cycle against the bundled notifications; return (succeeded, the lines to print)."""
    from tbt_alert.classify.classifier import load_classifier

    directory = directory.resolve()
    if fresh and directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    classifier = load_classifier()
    with FakeEping(load_demo_items(now.date())) as server:
        config = demo_config(directory, server.base_url)
        engine = make_engine(config.database_url)
        upgrade(engine)
        with session_scope(engine) as session:
            for spec in DEMO_SUBSCRIBERS:
                add_subscriber(
                    session,
                    spec["email"],
                    sectors=spec["sectors"],
                    known_sectors=classifier.sector_names(),
                    language=spec["language"],
                    confirmed=True,
                    now=now,
                )
        with OutboxMailer(config.outbox_dir) as mailer:
            summary = run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=now,
                since=now.date() - timedelta(days=30),
            )
        engine.dispose()
    return summary.ok, [*summary.lines(), "", *outbox_lines(config.outbox_dir)]


def outbox_lines(outbox: Path) -> list[str]:
    files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    lines = [f"outbox: {outbox} ({len(files)} message(s))"]
    parser = BytesParser(policy=policy.default)
    for path in files:
        with path.open("rb") as fh:
            msg = parser.parse(fh)
        lines.append(f"  {msg['To']}: {msg['Subject']}")
    return lines
