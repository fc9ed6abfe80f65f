"""An exporter's whole journey in a real browser (headless Chromium, Debian's chromium and
chromium-driver, driven by Selenium), on a phone-sized window, in Chinese and in English:
subscribe, read the confirmation mail from the SMTP server (aiosmtpd), confirm, change
preferences, unsubscribe; and a comment sent through the form a warning links to. A screenshot
of every page is saved; the folder is printed (set TBT_ALERT_ARTEFACTS to choose it).
TBT_ALERT_TEST_SKIP_BROWSER=1 skips it on a machine without Chromium; scripts/test.sh installs
it."""

from __future__ import annotations

import base64
import os
from datetime import UTC, datetime
from email.utils import parseaddr
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlmodel import Session, select

from tbt_alert.config import build_config
from tbt_alert.status import DraftChannel, SubscriberStatus
from tbt_alert.store.engine import make_engine, upgrade
from tbt_alert.store.tables import CommentAttachment, CommentDraft, Subscriber, Subscription
from tests.support_comments import SECRET, SYMBOL, add_people, seed_notification, warn
from tests.support_smtp import free_port
from tests.support_web import Clock, WebServer, links_in, mail_text, web_config

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
def browser():
    if os.environ.get("TBT_ALERT_TEST_SKIP_BROWSER") == "1":
        pytest.skip("TBT_ALERT_TEST_SKIP_BROWSER=1")
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.fail("headless Chromium is missing: apt-get install -y chromium chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=412,915",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture
def artefacts(tmp_path_factory):
    chosen = os.environ.get("TBT_ALERT_ARTEFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {folder}")
    return folder


def shoot(driver, folder: Path, name: str) -> Path:
    """A full-page screenshot at a phone's width (Chromium's DevTools protocol)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    height = max(915, min(int(size["height"]) + 1, 8000))
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"mobile": True, "width": 412, "height": height, "deviceScaleFactor": 1},
    )
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}
    )
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    path = folder / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    assert path.stat().st_size > 5000
    return path


def submit(driver, element_id: str, expected: str) -> None:
    """Press a button and wait for the next page, which must say ``expected``."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 30).until(lambda d: old != d.find_element(By.TAG_NAME, "html"))
    main = driver.find_element(By.TAG_NAME, "main").text
    assert expected in main, main[:300]


def state(engine, email):
    with Session(engine) as s:
        row = s.exec(select(Subscriber).where(Subscriber.email == email)).one()
        subs = s.exec(select(Subscription).where(Subscription.subscriber_id == row.id)).all()
        return row.status, sorted((x.sector, str(x.cadence), str(x.status)) for x in subs)


TEXT = {
    "zh": {
        "thanks": "请查收确认邮件",
        "confirmed": "订阅已确认",
        "saved": "已保存",
        "left": "已退订",
    },
    "en": {
        "thanks": "Check your mail",
        "confirmed": "Subscription confirmed",
        "saved": "Saved",
        "left": "Unsubscribed",
    },
}


def test_an_exporter_subscribes_confirms_changes_and_leaves(
    browser, smtp_sink, tmp_path, artefacts
):
    engine = make_engine(f"sqlite:///{tmp_path / 'web.sqlite3'}")
    upgrade(engine)
    port = free_port()
    server = WebServer(engine, web_config(tmp_path, port, smtp_sink.url), Clock(NOW), port)
    server.start()
    try:
        for lang in ("zh", "en"):
            journey(browser, server, smtp_sink, engine, artefacts, lang)
    finally:
        server.stop()
        engine.dispose()


def journey(driver, server, sink, engine, folder, lang):
    email, text = f"exporter-{lang}@example.com", TEXT[lang]
    driver.get(f"{server.base}/subscribe")
    if lang == "en":
        driver.get(driver.find_element(By.CSS_SELECTOR, "a.switch").get_attribute("href"))
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == (
        "zh-CN" if lang == "zh" else "en"
    )
    shoot(driver, folder, f"1-subscribe-{lang}")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "company").send_keys(
        "温州打火机厂" if lang == "zh" else "Wenzhou Lighters"
    )
    for sector in ("footwear_leather", "lighters"):
        driver.find_element(By.CSS_SELECTOR, f"input[name=sector][value={sector}]").click()
    Select(driver.find_element(By.ID, "market")).select_by_value("EU")
    driver.find_element(By.CSS_SELECTOR, f"input[name=language][value={lang}]").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=cadence][value=daily]").click()
    submit(driver, "go", text["thanks"])
    shoot(driver, folder, f"2-check-mail-{lang}")
    assert state(engine, email) == (SubscriberStatus.PENDING, [])

    mail = next(m for m in reversed(sink.handler.messages()) if m["To"] == email)
    link = next(u for u in links_in(mail_text(mail)) if "/confirm/" in u)
    driver.get(link)
    shoot(driver, folder, f"3-confirm-{lang}")
    assert state(engine, email)[0] == SubscriberStatus.PENDING  # opening the link is not enough
    submit(driver, "go", text["confirmed"])
    shoot(driver, folder, f"4-confirmed-{lang}")
    assert state(engine, email) == (
        SubscriberStatus.ACTIVE,
        [("footwear_leather", "daily", "active"), ("lighters", "daily", "active")],
    )

    driver.get(driver.find_element(By.CSS_SELECTOR, "main a").get_attribute("href"))  # preferences
    shoot(driver, folder, f"5-preferences-{lang}")
    driver.find_element(By.CSS_SELECTOR, "input[name=sector][value=footwear_leather]").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=cadence][value=weekly]").click()
    driver.find_element(By.ID, "paused").click()
    submit(driver, "go", text["saved"])
    shoot(driver, folder, f"6-saved-{lang}")
    assert state(engine, email) == (SubscriberStatus.ACTIVE, [("lighters", "weekly", "paused")])

    submit(driver, "leave", text["left"])
    shoot(driver, folder, f"7-unsubscribed-{lang}")
    assert state(engine, email)[0] == SubscriberStatus.UNSUBSCRIBED


def test_an_exporter_comments_from_the_warning_link(browser, smtp_sink, tmp_path, artefacts):
    """The link in a warning sent over SMTP (both at NOW, the time tests.support_comments uses), opened in the browser: the notification shown, a
    comment typed and a file attached through the file input, stored as one web draft."""
    engine = make_engine(f"sqlite:///{tmp_path / 'comment.sqlite3'}")
    upgrade(engine)
    with Session(engine) as session:
        seed_notification(session)
        add_people(session, "chen@example.com")
        warn(session, smtp_sink.url)
    mail = next(
        m for m in smtp_sink.handler.messages() if parseaddr(m["To"])[1] == "chen@example.com"
    )
    port = free_port()
    config = build_config(
        {
            "data_dir": str(tmp_path / "data"),
            "web": {"public_url": f"http://127.0.0.1:{port}/", "secret_key": SECRET},
        }
    )
    server = WebServer(engine, config, Clock(NOW), port)
    server.start()
    notes = tmp_path / "notes.txt"
    notes.write_text("第3条：过渡期太短，建议延长至12个月。\n", encoding="utf-8")
    try:
        link = next(u for u in links_in(mail_text(mail)) if "/comment/" in u)
        browser.get(link.replace("https://tbt.example/", server.base + "/"))
        assert SYMBOL in browser.find_element(By.ID, "symbol").text
        assert "2027年1月9日" in browser.find_element(By.ID, "internal-deadline").text
        shoot(browser, artefacts, "8-comment-form-zh")
        browser.find_element(By.ID, "text").send_keys("标签要求会迫使我们重新贴标。")
        browser.find_element(By.ID, "attachment").send_keys(str(notes))
        submit(browser, "go", "已收到您的意见")
        shoot(browser, artefacts, "9-comment-received-zh")
    finally:
        server.stop()
    with Session(engine) as s:
        [draft] = s.exec(select(CommentDraft)).all()
        [attachment] = s.exec(select(CommentAttachment)).all()
    engine.dispose()
    assert draft.channel == DraftChannel.WEB and draft.text == "标签要求会迫使我们重新贴标。"
    assert (attachment.name, attachment.content_type) == ("notes.txt", "text/plain")
