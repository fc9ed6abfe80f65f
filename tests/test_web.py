"""The web app over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL, with confirmation
mail through a real SMTP server (aiosmtpd): every flow, every bad token, CSRF, the rate limits,
the honeypot, the purge, the archive and its Atom feeds, and the one-click unsubscribe of a real
bulletin."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
import requests
from click.testing import CliRunner
from sqlmodel import Session, select

from tbt_alert.alerts.signup import purge_unconfirmed
from tbt_alert.cli.context import loopback_warning
from tbt_alert.cli.main import main
from tbt_alert.config import build_config
from tbt_alert.links import signed_link
from tbt_alert.mail.deliver import DeliverySettings, send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.status import DeliveryStatus, SubscriberStatus, SubscriptionStatus
from tbt_alert.store.tables import Bulletin, Delivery, Signup, Subscriber, Subscription
from tbt_alert.tokens import Purpose, make_token
from tests.support_smtp import free_port
from tests.support_web import (
    SECRET,
    Clock,
    WebServer,
    csrf_of,
    links_in,
    mail_text,
    web_config,
)
from tests.test_deliver import NAMES, plan, seed

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
FORM = {
    "email": "buyer@example.com",
    "company": "温州鞋业有限公司",
    "sector": ["footwear_leather", "eyewear"],
    "market": ["EU", "USA"],
    "language": "zh",
    "cadence": "daily",
}


@pytest.fixture
def web(engine, smtp_sink, tmp_path, request):
    limits = getattr(request, "param", {})
    port = free_port()
    clock = Clock(NOW)
    server = WebServer(engine, web_config(tmp_path, port, smtp_sink.url, **limits), clock, port)
    server.start()
    server.engine, server.sink, server.clock = engine, smtp_sink, clock
    yield server
    server.stop()


def subscribe(web, form=FORM, client=None):
    client = client or requests.Session()
    page = client.get(f"{web.base}/subscribe")
    assert page.status_code == 200
    return client, client.post(f"{web.base}/subscribe", data=form | {"csrf": csrf_of(page.text)})


def subscriber(web, email="buyer@example.com"):
    with Session(web.engine) as s:
        row = s.exec(select(Subscriber).where(Subscriber.email == email)).first()
        if row is None:
            return None, []
        subs = s.exec(select(Subscription).where(Subscription.subscriber_id == row.id)).all()
        return row, sorted(
            (x.sector, tuple(x.markets), str(x.cadence), str(x.status)) for x in subs
        )


def confirm_link(web, index=-1):
    msg = web.sink.handler.messages()[index]
    links = [u for u in links_in(mail_text(msg)) if "/confirm/" in u]
    assert len(links) == 1
    return links[0]


def test_subscribe_confirm_by_post_only(web):
    client, answer = subscribe(web)
    assert answer.status_code == 200 and "请查收确认邮件" in answer.text
    row, subs = subscriber(web)
    assert row.status == SubscriberStatus.PENDING and subs == []  # nothing applies yet
    assert len(web.sink.received) == 1
    msg = web.sink.handler.messages()[0]
    assert msg["To"] == "buyer@example.com" and "确认" in msg["Subject"]
    assert "List-Unsubscribe" not in msg  # not a bulletin
    link = confirm_link(web)
    page = client.get(link)  # what a mail scanner does: changes nothing
    assert page.status_code == 200 and 'method="post"' in page.text
    assert "鞋革" in page.text and "EU、USA" in page.text and "每日汇总" in page.text
    assert subscriber(web)[0].status == SubscriberStatus.PENDING
    done = client.post(link, data={"csrf": csrf_of(page.text)})
    assert done.status_code == 200 and "订阅已确认" in done.text
    row, subs = subscriber(web)
    assert row.status == SubscriberStatus.ACTIVE and row.company == "温州鞋业有限公司"
    assert subs == [
        ("eyewear", ("EU", "USA"), "daily", "active"),
        ("footwear_leather", ("EU", "USA"), "daily", "active"),
    ]
    again = client.post(link, data={"csrf": csrf_of(page.text)})
    assert again.status_code == 400 and "已经使用过" in again.text
    prefs = re.search(r'href="(http://[^"]+/preferences/[^"]+)"', done.text)
    assert prefs and client.get(prefs.group(1)).status_code == 200


def test_existing_subscriber_changes_only_on_confirmation_and_the_answer_is_the_same(web):
    _, first = subscribe(web, FORM | {"email": "new@example.com"})
    client, answer = subscribe(web)
    client.post(confirm_link(web), data={"csrf": csrf_of(client.get(confirm_link(web)).text)})
    before = subscriber(web)[1]
    web.clock.advance(hours=2)
    _, known = subscribe(web, FORM | {"sector": ["eyewear"], "cadence": "weekly"})
    assert known.text == first.text == answer.text  # never says whether the address exists
    assert subscriber(web)[1] == before  # not changed before confirmation
    page = client.get(confirm_link(web))
    client.post(confirm_link(web), data={"csrf": csrf_of(page.text)})
    assert subscriber(web)[1] == [("eyewear", ("EU", "USA"), "weekly", "active")]


def test_one_confirmation_mail_per_address_per_hour(web):
    subscribe(web)
    subscribe(web)
    assert len(web.sink.received) == 1
    web.clock.advance(minutes=61)
    subscribe(web)
    assert len(web.sink.received) == 2


def test_honeypot_answers_the_same_and_does_nothing(web):
    _, answer = subscribe(web, FORM | {"website": "http://spam.example"})
    assert answer.status_code == 200 and "请查收确认邮件" in answer.text
    assert subscriber(web)[0] is None and web.sink.received == []


def test_a_post_without_our_csrf_token_stores_nothing_and_shows_the_form_again(web):
    answer = requests.post(f"{web.base}/subscribe", data=FORM)  # e.g. a form on another site
    assert answer.status_code == 200
    assert "请核对以下信息" in answer.text and 'value="buyer@example.com"' in answer.text
    assert 'value="footwear_leather" checked' in answer.text
    assert subscriber(web)[0] is None and web.sink.received == []
    forged = requests.post(
        f"{web.base}/subscribe", data=FORM | {"csrf": "0" * 32}, cookies={"tbt_csrf": "abc"}
    )
    assert "请核对以下信息" in forged.text and subscriber(web)[0] is None


def test_invalid_form_names_the_field(web):
    _, answer = subscribe(web, FORM | {"sector": ["no_such_sector"]})
    assert answer.status_code == 400 and "no_such_sector" in answer.text
    _, answer = subscribe(web, FORM | {"email": "not-an-address"})
    assert answer.status_code == 400 and "not a valid email address" in answer.text
    _, answer = subscribe(web, FORM | {"cadence": "hourly"})
    assert answer.status_code == 400 and "cadence" in answer.text
    assert subscriber(web)[0] is None


@pytest.mark.parametrize("web", [{"rate_limit_client": 3}], indirect=True)
def test_rate_limit_per_client(web):
    client = requests.Session()
    codes = [
        subscribe(web, FORM | {"email": f"a{i}@example.com"}, client)[1].status_code
        for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert len(web.sink.received) == 3


@pytest.mark.parametrize("web", [{"rate_limit_address": 2}], indirect=True)
def test_rate_limit_per_address(web):
    for _ in range(3):
        _, answer = subscribe(web)
        assert answer.status_code == 200 and "请查收确认邮件" in answer.text
        web.clock.advance(hours=2)  # past the one-mail-per-hour rule
    assert len(web.sink.received) == 2


def active_subscriber(web, email="buyer@example.com"):
    client, _ = subscribe(web, FORM | {"email": email})
    link = confirm_link(web)
    client.post(link, data={"csrf": csrf_of(client.get(link).text)})
    row, _subs = subscriber(web, email)
    assert row.status == SubscriberStatus.ACTIVE
    return client, row


def test_preferences_change_and_pause(web):
    client, row = active_subscriber(web)
    url = signed_link(web.base, SECRET, "preferences", row.id, now=NOW)
    page = client.get(url)
    assert page.status_code == 200 and "buyer@example.com" in page.text
    assert 'value="eyewear" checked' in page.text  # current settings shown
    assert client.get(url + "?lang=en").text.count("Your subscription") >= 1
    form = {
        "csrf": csrf_of(page.text),
        "sector": ["lighters"],
        "market": ["CHN"],
        "language": "en",
        "cadence": "immediate",
        "company": "Wenzhou Lighters",
        "paused": "1",
    }
    saved = client.post(url, data=form)
    assert saved.status_code == 200 and "Saved." in saved.text  # now in English
    row, subs = subscriber(web)
    assert row.language == "en" and row.company == "Wenzhou Lighters"
    assert subs == [("lighters", ("CHN",), "immediate", "paused")]
    unpaused = client.post(url, data={k: v for k, v in form.items() if k != "paused"})
    assert unpaused.status_code == 200
    assert subscriber(web)[1] == [("lighters", ("CHN",), "immediate", "active")]
    no_csrf = client.post(url, data={k: v for k, v in form.items() if k != "csrf"})
    assert no_csrf.status_code == 400 and subscriber(web)[1][0][3] == "active"


def test_unsubscribe_get_changes_nothing_and_post_needs_no_cookie(web):
    _, row = active_subscriber(web)
    url = signed_link(web.base, SECRET, "unsubscribe", row.id, now=NOW)
    page = requests.get(url)
    assert page.status_code == 200 and "List-Unsubscribe" in page.text
    assert subscriber(web)[0].status == SubscriberStatus.ACTIVE
    done = requests.post(url, data={"List-Unsubscribe": "One-Click"})  # no cookies at all
    assert done.status_code == 200 and "已退订" in done.text
    assert subscriber(web)[0].status == SubscriberStatus.UNSUBSCRIBED
    prefs = requests.get(signed_link(web.base, SECRET, "preferences", row.id, now=NOW))
    assert "您已退订" in prefs.text


def bad_tokens(subscriber_id: int, purpose: Purpose) -> dict[str, str]:
    other = Purpose.PREFERENCES if purpose != Purpose.PREFERENCES else Purpose.UNSUBSCRIBE
    good = make_token(SECRET, purpose, subscriber_id, now=NOW, ref_id=1)
    return {
        "forged": make_token("another-secret-key-000000", purpose, subscriber_id, now=NOW),
        "expired": make_token(SECRET, purpose, subscriber_id, now=NOW - timedelta(days=800)),
        "wrong_purpose": make_token(SECRET, other, subscriber_id, now=NOW),
        "malformed": good[:-3],
        "altered": good[:20] + ("a" if good[20] != "a" else "b") + good[21:],
    }


REASONS = {
    "forged": "不是由本服务签发",
    "altered": "不是由本服务签发",
    "expired": "已过期",
    "wrong_purpose": "不是用于这个页面",
    "malformed": "不完整或已损坏",
}


def test_every_bad_token_gets_a_clear_400_and_changes_nothing(web):
    client, row = active_subscriber(web)
    client, _ = subscribe(web, FORM | {"email": "pending@example.com"})
    before = (subscriber(web), subscriber(web, "pending@example.com"))
    csrf = csrf_of(client.get(f"{web.base}/subscribe").text)
    cases = 0
    for page, purpose in (
        ("confirm", Purpose.CONFIRM),
        ("preferences", Purpose.PREFERENCES),
        ("unsubscribe", Purpose.UNSUBSCRIBE),
    ):
        for kind, token in bad_tokens(row.id, purpose).items():
            for method in ("GET", "POST"):
                answer = client.request(
                    method,
                    f"{web.base}/{page}/{token}",
                    data={"csrf": csrf, "List-Unsubscribe": "One-Click", "sector": ["eyewear"]},
                )
                assert answer.status_code == 400, (page, kind, method)
                assert "链接无效" in answer.text and REASONS[kind] in answer.text, (page, kind)
                cases += 1
    assert cases == 30
    assert (subscriber(web), subscriber(web, "pending@example.com")) == before
    en = requests.get(f"{web.base}/unsubscribe/{'a' * 42}?lang=en")
    assert en.status_code == 400 and "not issued by this service" in en.text


def test_security_headers_and_language_switch(web):
    for path in ("/subscribe", "/subscribe?lang=en", "/archive", "/static/site.css", "/nowhere"):
        answer = requests.get(web.base + path)
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert answer.headers["Referrer-Policy"] == "no-referrer"
    zh = requests.get(f"{web.base}/subscribe")
    en = requests.get(f"{web.base}/subscribe?lang=en")
    assert '<html lang="zh-CN">' in zh.text and "订阅技术性贸易措施预警" in zh.text
    assert '<html lang="en">' in en.text and "Subscribe to TBT warnings" in en.text
    assert 'href="/subscribe?lang=en"' in zh.text  # the switch
    assert re.search(r'(src|href)="(https?:)?//', zh.text) is None  # nothing from elsewhere
    # core sectors first
    sectors = re.findall(r'name="sector" value="([a-z_]+)"', zh.text)
    core = re.findall(r'name="sector" value="([a-z_]+)"[^>]*>[^<]*<small class="tag">', zh.text)
    assert core and sectors[: len(core)] == core
    assert 'name="market"' in zh.text and 'value="CHN"' in zh.text
    markets = re.findall(r'<option value="([A-Z]+)"', zh.text)
    assert markets[:3] == ["EU", "USA", "JPN"] and len(markets) > 100


def test_purge_removes_stale_unconfirmed_subscriptions(web):
    subscribe(web)
    _, _active = active_subscriber(web, "kept@example.com")
    with Session(web.engine) as s:
        assert purge_unconfirmed(s, now=NOW + timedelta(days=6), days=7) == 0
        s.commit()
    link = confirm_link(web, 0)
    with Session(web.engine) as s:
        assert purge_unconfirmed(s, now=NOW + timedelta(days=8), days=7) == 1
        s.commit()
        assert s.exec(select(Signup)).all() == []
    assert subscriber(web)[0] is None
    assert subscriber(web, "kept@example.com")[0].status == SubscriberStatus.ACTIVE
    client = requests.Session()
    page = client.get(f"{web.base}/subscribe")
    gone = client.post(link, data={"csrf": csrf_of(page.text)})
    assert gone.status_code == 400 and "已经使用过" in gone.text


def test_a_bulletin_unsubscribes_in_one_click_and_is_archived_without_subscriber_data(web):
    with Session(web.engine) as s:
        seed(s, "exporter@example.com")
        plan(s)
    settings = DeliverySettings(
        sender="alerts@tbt-alert.test",
        public_url=web.base + "/",
        domain="tbt-alert.test",
        secret_key=SECRET,
    )
    with (
        Session(web.engine, expire_on_commit=False) as s,
        SmtpMailer(web.sink.url, sender="alerts@tbt-alert.test", timeout=10) as mailer,
    ):
        assert send_due(s, mailer, settings, now=NOW, sector_names=NAMES)["sent"] == 1
    msg = web.sink.handler.messages()[-1]
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = re.findall(r"<([^>]+)>", msg["List-Unsubscribe"])
    assert https.startswith(web.base + "/unsubscribe/") and "exporter" not in https
    assert mailto.startswith("mailto:alerts@tbt-alert.test?subject=unsubscribe")
    token = https.rsplit("/", 1)[1]
    assert token in unquote(mailto)
    body_links = links_in(mail_text(msg))
    prefs = [u for u in body_links if "/preferences/" in u]
    assert prefs and requests.get(prefs[0]).status_code == 200
    # RFC 8058: the mail provider POSTs exactly this, with no cookie
    done = requests.post(
        https,
        data="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert done.status_code == 200
    assert subscriber(web, "exporter@example.com")[0].status == SubscriberStatus.UNSUBSCRIBED
    with Session(web.engine) as s:
        bulletin = s.exec(select(Bulletin)).one()
        assert s.exec(select(Delivery)).one().status == DeliveryStatus.SENT
    page = requests.get(f"{web.base}/archive/bulletin/{bulletin.id}")
    assert page.status_code == 200 and "G/TBT/N/EU/1097" in page.text
    assert "labelling of footwear" in page.text and "欧盟" in page.text
    assert "exporter@example.com" not in page.text and "/unsubscribe/" not in page.text
    index = requests.get(f"{web.base}/archive/sector/footwear_leather")
    assert f"/archive/bulletin/{bulletin.id}" in index.text
    assert "G/TBT/N/EU/1097" not in requests.get(f"{web.base}/archive/sector/eyewear").text
    feed = requests.get(f"{web.base}/archive/sector/footwear_leather.atom?lang=en")
    assert feed.headers["Content-Type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10" and len(parsed.entries) == 1
    entry = parsed.entries[0]
    assert entry.title.startswith("G/TBT/N/EU/1097") and "exporter" not in feed.text
    assert requests.get(entry.link).status_code == 200
    assert urlsplit(entry.link).path == f"/archive/bulletin/{bulletin.id}"
    empty = feedparser.parse(requests.get(f"{web.base}/archive/sector/eyewear.atom").content)
    assert not empty.bozo and empty.entries == []
    assert requests.get(f"{web.base}/archive/bulletin/99999").status_code == 404
    assert requests.get(f"{web.base}/archive/sector/nope.atom").status_code == 404


def test_unsent_bulletins_are_not_archived(web):
    with Session(web.engine) as s:
        seed(s, "exporter@example.com")
        plan(s)
        bulletin = s.exec(select(Bulletin)).one()
    assert requests.get(f"{web.base}/archive/bulletin/{bulletin.id}").status_code == 404
    feed = feedparser.parse(
        requests.get(f"{web.base}/archive/sector/footwear_leather.atom").content
    )
    assert feed.entries == []


def test_web_refuses_the_default_secret_key(tmp_path, monkeypatch):
    monkeypatch.delenv("TBT_ALERT_SECRET_KEY", raising=False)
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(main, ["web", "--port", str(free_port())])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "error: [web] secret_key is the default or shorter than 16 characters: "
        "set TBT_ALERT_SECRET_KEY to a long random secret"
    ]


def test_run_warns_when_real_mail_would_carry_a_loopback_url():
    real = {"mail": {"smtp_url": "smtp://mail.example:25"}}
    assert "loopback" in (loopback_warning(build_config(real)) or "")
    public = real | {"web": {"public_url": "https://tbt.example/"}}
    assert loopback_warning(build_config(public)) is None
    assert loopback_warning(build_config({})) is None  # the outbox: nobody real receives it
    assert loopback_warning(build_config(real | {"web": {"public_url": "http://localhost/"}}))


def test_paused_subscriptions_get_nothing(web):
    with Session(web.engine) as s:
        seed(s, "exporter@example.com")
        row = s.exec(select(Subscriber)).one()
        for sub in s.exec(select(Subscription)).all():
            sub.status = SubscriptionStatus.PAUSED
            s.add(sub)
        s.commit()
        assert row.id and plan(s).deliveries == 0


class NoClassifier:
    version = "none"

    def classify_many(self, records, parents=None, now=None):
        return [None for _ in records]

    def sector_names(self):
        return {}


def test_the_cycle_purges_unconfirmed_signups(web, tmp_path):
    from tbt_alert.mail.outbox import OutboxMailer
    from tbt_alert.pipeline import CycleSummary, deliver_pending

    subscribe(web)
    config = web_config(tmp_path, web.port, web.sink.url, unconfirmed_days=3)
    later = NOW + timedelta(days=4)
    summary = CycleSummary(since=later.date(), until=later.date())
    deliver_pending(
        web.engine,
        config,
        classifier=NoClassifier(),
        mailer=OutboxMailer(tmp_path / "outbox"),
        now=later,
        summary=summary,
    )
    assert subscriber(web)[0] is None


def test_digest_command_prints_the_loopback_warning(tmp_path, monkeypatch, smtp_sink):
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("TBT_ALERT_SMTP_URL", smtp_sink.url)
    monkeypatch.delenv("TBT_ALERT_PUBLIC_URL", raising=False)
    result = CliRunner().invoke(main, ["digest", "--cadence", "daily"])
    assert result.exit_code == 0, result.output
    assert "warning: [web] public_url http://127.0.0.1:8080/ is a loopback address" in result.stderr
    monkeypatch.setenv("TBT_ALERT_PUBLIC_URL", "https://tbt.example/")
    result = CliRunner().invoke(main, ["digest", "--cadence", "daily"])
    assert result.exit_code == 0 and "loopback" not in result.stderr


HOSTILE = [
    "<script>alert(1)</script>@example.com",
    "a" * 5000,
    "buyer@example.com\r\nBcc: victim@example.com",
    "\u202eevil\u202c@example.com",
    "\x00\x01",
]


def test_hostile_form_values_get_a_clear_answer_and_are_escaped(web):
    client = requests.Session()
    csrf = csrf_of(client.get(f"{web.base}/subscribe").text)
    for value in HOSTILE:
        for field in ("email", "company", "sector", "market", "language", "cadence"):
            answer = client.post(f"{web.base}/subscribe", data=FORM | {field: value, "csrf": csrf})
            assert answer.status_code in (200, 400), (field, value[:20])
            assert "<script>alert" not in answer.text
    assert web.sink.handler.messages() == [] or all(
        "victim" not in str(m) for m in web.sink.handler.messages()
    )
    big = client.post(f"{web.base}/subscribe", data={"email": "x" * 70_000, "csrf": csrf})
    assert big.status_code == 413


def test_removing_a_subscriber_with_a_signup_waiting(web):
    from tbt_alert.alerts.subscribers import remove_subscriber

    subscribe(web)
    with Session(web.engine) as s:
        assert remove_subscriber(s, "buyer@example.com")
        s.commit()
        assert s.exec(select(Signup)).all() == []
    assert subscriber(web)[0] is None
