"""Daily and weekly digests in the public archive, over real HTTP (uvicorn on loopback), on
SQLite and PostgreSQL: a digest sent over SMTP is listed and has a page with every notification
it listed and no subscriber data; an unsent digest is not archived."""

from __future__ import annotations

import io
import json
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlmodel import Session, select

from tbt_alert.alerts.digest import plan_digests
from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.config import build_config
from tbt_alert.mail.deliver import send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.status import BulletinKind, Cadence
from tbt_alert.store.tables import Bulletin
from tests.support_comments import (
    NAMES,
    NOW,
    SECRET,
    SECTORS,
    SYMBOL,
    add_people,
    seed_notification,
    settings,
    warn,
)
from tests.support_smtp import free_port
from tests.support_web import Clock, WebServer

LATER = NOW + timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def site(engine, tmp_path):
    port = free_port()
    config = build_config(
        {
            "data_dir": str(tmp_path / "data"),
            "web": {"public_url": f"http://127.0.0.1:{port}/", "secret_key": SECRET},
        }
    )
    server = WebServer(engine, config, Clock(LATER), port)
    server.start()
    server.engine = engine
    yield server
    server.stop()


def plan(engine) -> int:
    with Session(engine) as session:
        seed_notification(session)
        add_subscriber(
            session,
            "daily@example.com",
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            cadence="daily",
            confirmed=True,
            now=NOW,
        )
        session.commit()
        report = plan_digests(
            session, Cadence.DAILY, now=LATER, tz=SHANGHAI, window_days=45, domain="t.test"
        )
        session.commit()
        assert report.bulletins == ["digest:daily:2026-11-26"]
        bulletin = session.exec(select(Bulletin).where(Bulletin.kind == BulletinKind.DIGEST)).one()
        return bulletin.id


def send(engine, sink_url: str) -> None:
    with Session(engine) as session, SmtpMailer(sink_url, timeout=5, sender="a@t.test") as mailer:
        counts = send_due(
            session, mailer, settings(), now=LATER, sector_names=NAMES, rng=random.Random(1)
        )
        session.commit()
    assert counts["sent"] == 1


def test_a_sent_digest_is_listed_and_shows_its_notifications(site, smtp_sink):
    digest_id = plan(site.engine)
    assert "/archive/digest/" not in requests.get(f"{site.base}/archive/digests").text
    assert requests.get(f"{site.base}/archive/digest/{digest_id}").status_code == 404  # unsent
    send(site.engine, smtp_sink.url)
    index = requests.get(f"{site.base}/archive")
    assert "/archive/digests" in index.text and "汇总存档" in index.text
    listing = requests.get(f"{site.base}/archive/digests")
    assert listing.status_code == 200
    assert f"/archive/digest/{digest_id}" in listing.text
    assert "每日汇总 · 2026-11-26" in listing.text and "1 项通报" in listing.text
    page = requests.get(f"{site.base}/archive/digest/{digest_id}")
    assert page.status_code == 200 and SYMBOL in page.text
    assert "Draft regulation on the labelling of footwear" in page.text
    assert "2027年1月19日" in page.text and "鞋革" in page.text and "高风险" in page.text
    assert "daily@example.com" not in page.text  # no subscriber data
    assert "标题和摘要为英文原文，暂无中文译文。" in page.text  # no Chinese version yet
    en = requests.get(f"{site.base}/archive/digest/{digest_id}?lang=en")
    assert "Draft regulation on the labelling of footwear" in en.text and "原文" not in en.text
    assert "Daily digest · 2026-11-26" in en.text and "19 January 2027" in en.text
    assert "high risk" in en.text
    for bad in ("99999", "abc", "-1", "1" * 30):
        assert requests.get(f"{site.base}/archive/digest/{bad}").status_code == 404
    with Session(site.engine) as session:
        warning_ids = session.exec(
            select(Bulletin.id).where(Bulletin.kind != BulletinKind.DIGEST)
        ).all()
    for other in warning_ids:  # a digest page shows digests only
        assert requests.get(f"{site.base}/archive/digest/{other}").status_code == 404


def test_archive_pages_show_the_chinese_version_a_source_gave(site, smtp_sink):
    digest_id = plan(site.engine)
    send(site.engine, smtp_sink.url)
    with Session(site.engine) as session:  # and a warning to an immediate reader
        add_people(session, "now@example.com")
        warn(session, smtp_sink.url, now=LATER)
    record = {
        "symbol": SYMBOL,
        "member": "European Union",
        "title": "欧盟鞋类标签法规草案",
        "language": "zh",
        "source_id": "cn-1",
    }
    with Session(site.engine) as session:
        import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="feeds", now=LATER)
        session.commit()
        warning = session.exec(select(Bulletin).where(Bulletin.kind != BulletinKind.DIGEST)).one()
    zh = requests.get(f"{site.base}/archive/digest/{digest_id}").text
    assert "欧盟鞋类标签法规草案" in zh and "暂无中文译文" not in zh
    en = requests.get(f"{site.base}/archive/digest/{digest_id}?lang=en").text
    assert "Draft regulation on the labelling of footwear" in en and "欧盟鞋类" not in en
    page = requests.get(f"{site.base}/archive/bulletin/{warning.id}").text
    assert "欧盟鞋类标签法规草案" in page and "暂无中文译文" not in page
    en_page = requests.get(f"{site.base}/archive/bulletin/{warning.id}?lang=en").text
    assert "Draft regulation on the labelling of footwear" in en_page
