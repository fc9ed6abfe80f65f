"""The whole path, for real: a Scrapy crawl of an ePing-shaped loopback server, ingest,
classification, and SMTP delivery to a real aiosmtpd server, on SQLite and PostgreSQL."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session

from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.classify.classifier import load_classifier
from tbt_alert.config import Config, DatabaseConfig, EpingConfig, FetchConfig
from tbt_alert.demo.eping_server import FakeEping, items_from_records
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import run_cycle
from tbt_alert.record import parse_record

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LABELLED = (
    Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
)
SERVED = [
    # footwear (English, Chinese and Spanish titles)
    "G/TBT/N/ECU/386",
    "G/TBT/N/BRA/1591",
    "G/TBT/N/ZAF/61",
    # low-voltage electrical
    "G/TBT/N/KOR/692",
    "G/TBT/N/ISR/441",
    "G/TBT/N/THA/731",
    # toys
    "G/TBT/N/CHE/261",
    # no Wenzhou sector: food, medicines, cosmetics, vehicles as a whole, fuels
    "G/TBT/N/KEN/1419",
    "G/TBT/N/BRA/1254",
    "G/TBT/N/EU/797",
    "G/TBT/N/SAU/1304",
    "G/TBT/N/THA/183",
]


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def served_records():
    rows = {r["symbol"]: r for r in map(json.loads, LABELLED.read_text("utf-8").splitlines())}
    out = []
    for i, symbol in enumerate(SERVED):
        record = parse_record(rows[symbol])
        out.append(
            (
                replace(
                    record,
                    distribution_date=(NOW - timedelta(days=1 + i % 5)).date().isoformat(),
                    comment_deadline=(NOW + timedelta(days=50)).date().isoformat(),
                ),
                rows[symbol]["gold_sectors"],
            )
        )
    return out


def subscribe(engine, classifier):
    known = classifier.sector_names()
    with Session(engine) as session:
        add_subscriber(
            session,
            "xie@shoes.example",
            sectors=["footwear_leather"],
            known_sectors=known,
            language="zh",
            confirmed=True,
            now=NOW,
        )
        add_subscriber(
            session,
            "wang@switches.example",
            sectors=["low_voltage_electrical"],
            known_sectors=known,
            language="en",
            confirmed=True,
            now=NOW,
        )
        add_subscriber(
            session,
            "korea-only@switches.example",
            sectors=["low_voltage_electrical"],
            markets=["KOR"],
            known_sectors=known,
            language="zh",
            confirmed=True,
            now=NOW,
        )
        add_subscriber(
            session,
            "lunettes@eyewear.example",
            sectors=["eyewear"],
            known_sectors=known,
            language="en",
            confirmed=True,
            now=NOW,
        )
        add_subscriber(
            session,
            "pending@shoes.example",
            sectors=["footwear_leather"],
            known_sectors=known,
            language="zh",
            now=NOW,
        )
        session.commit()


SYMBOL = re.compile(r"G/TBT/N/[A-Z]{2,4}/\d+(?:/(?:Add|Rev|Corr|Suppl)\.\d+)*")


def symbols_in(messages):
    return {SYMBOL.search(m["Subject"]).group(0) for m in messages}


def test_a_notification_travels_from_eping_to_the_right_inboxes(
    db_url, tmp_path, smtp_sink, classifier
):
    from tbt_alert.store.engine import make_engine, upgrade

    served = served_records()
    expected = {
        sector: {r.symbol for r, gold in served if sector in gold}
        for sector in ("footwear_leather", "low_voltage_electrical")
    }
    assert len(expected["footwear_leather"]) == 3 and len(expected["low_voltage_electrical"]) == 3

    engine = make_engine(db_url)
    upgrade(engine)
    subscribe(engine, classifier)
    with FakeEping(items_from_records([r for r, _ in served], as_of=NOW.date())) as server:
        config = Config(
            data_dir=tmp_path,
            database=DatabaseConfig(url=db_url),
            eping=EpingConfig(base_url=server.base_url, download_delay_s=0, page_size=5),
            fetch=FetchConfig(allowed_hosts=()),
        )  # loopback only
        for _ in range(2):  # the second run must send nothing again
            with SmtpMailer(smtp_sink.url, timeout=10, sender="alerts@tbt-alert.test") as mailer:
                summary = run_cycle(
                    engine,
                    config,
                    classifier=classifier,
                    mailer=mailer,
                    now=NOW,
                    since=NOW.date() - timedelta(days=10),
                    until=NOW.date(),
                )
            assert summary.ok, summary.lines()
            assert summary.crawled == len(SERVED)
        assert len(server.requests) >= 3  # robots.txt + paged getAll (page size 5)
    engine.dispose()

    inbox: dict[str, list] = {}
    for received in smtp_sink.received:
        assert len(received.rcpt_tos) == 1
        msg = received.message
        assert msg["To"] == received.rcpt_tos[0]
        inbox.setdefault(received.rcpt_tos[0], []).append(msg)

    assert set(inbox) == {
        "xie@shoes.example",
        "wang@switches.example",
        "korea-only@switches.example",
    }
    assert symbols_in(inbox["xie@shoes.example"]) == expected["footwear_leather"]
    assert symbols_in(inbox["wang@switches.example"]) == expected["low_voltage_electrical"]
    assert symbols_in(inbox["korea-only@switches.example"]) == {"G/TBT/N/KOR/692"}
    # no duplicates across the two runs
    ids = [m["Message-ID"] for msgs in inbox.values() for m in msgs]
    assert len(ids) == len(set(ids)) == 7
    # language and sectors as the subscriber chose
    for msg in inbox["xie@shoes.example"]:
        body = msg.get_body(("plain",)).get_content()
        assert (
            msg["Subject"].startswith("[预警][鞋革]") and "评议截止日期" in body and "鞋革" in body
        )
        assert "2027年1月15日" in body  # the comment deadline, in Chinese
        assert msg.get_body(("html",)) is not None
    for msg in inbox["wang@switches.example"]:
        body = msg.get_body(("plain",)).get_content()
        assert msg["Subject"].startswith("[TBT alert][Low-voltage electrical")
        assert "Comments due:      15 January 2027" in body and "Low-voltage electrical" in body


def test_a_garbage_answer_changes_nothing_yet_what_was_due_is_sent(
    db_url, tmp_path, smtp_sink, classifier
):
    """A maintenance page with status 200 instead of JSON: the run fails loudly and nothing is
    stored; deliveries planned earlier and due again are still sent (a failed crawl never holds
    back retries), and the run still says it failed."""
    from sqlalchemy import func, select

    from tbt_alert.store.engine import make_engine, upgrade
    from tbt_alert.store.tables import CrawlRun, Delivery, Notification
    from tests.support_http import Reply, serve

    engine = make_engine(db_url)
    upgrade(engine)
    subscribe(engine, classifier)
    good = [r for r, _ in served_records()][:3]
    with FakeEping(items_from_records(good, as_of=NOW.date())) as server:
        config = Config(
            data_dir=tmp_path,
            database=DatabaseConfig(url=db_url),
            eping=EpingConfig(base_url=server.base_url, download_delay_s=0),
        )
        smtp_sink.stop()  # the first run plans its deliveries but cannot send them
        with SmtpMailer(smtp_sink.url, timeout=3, sender="alerts@tbt-alert.test") as mailer:
            first = run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=NOW,
                since=NOW.date() - timedelta(days=10),
                until=NOW.date(),
            )
        smtp_sink.start()
    assert first.deliveries_planned > 0 and not first.ok

    def counts():
        with Session(engine) as session:
            return [
                session.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (Notification, Delivery)
            ]

    before = counts()
    maintenance = b"<html><body><h1>Site under maintenance</h1></body></html>"
    with serve(lambda path, query: Reply(maintenance, 200, {"Content-Type": "text/html"})) as (
        base,
        _,
    ):
        config = Config(
            data_dir=tmp_path,
            database=DatabaseConfig(url=db_url),
            eping=EpingConfig(base_url=base, download_delay_s=0),
        )
        with SmtpMailer(smtp_sink.url, timeout=3, sender="alerts@tbt-alert.test") as mailer:
            bad = run_cycle(
                engine,
                config,
                classifier=classifier,
                mailer=mailer,
                now=NOW + timedelta(minutes=10),
                since=NOW.date() - timedelta(days=10),
                until=NOW.date(),
            )
    assert not bad.ok and "schema_drift" in bad.failures[0]
    assert counts() == before
    assert len(smtp_sink.received) == first.deliveries_planned == bad.sent["sent"]
    with Session(engine) as session:
        runs = session.execute(select(CrawlRun.status).order_by(CrawlRun.id)).scalars().all()
    assert runs == ["success", "failed"]
    engine.dispose()
