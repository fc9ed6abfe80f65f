"""The reader's language: versions the sources gave, the original with a line saying so, and the
optional machine translation against a loopback stand-in LibreTranslate (real HTTP), cached so
each text is translated once; a warning sent over SMTP to a Chinese and an English reader."""

from __future__ import annotations

import io
import json
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from email.utils import parseaddr
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlmodel import Session, select

from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.config import TranslateConfig, build_config
from tbt_alert.mail.deliver import send_due
from tbt_alert.mail.language import LibreTranslate, localise, translator_from
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.store.tables import Notification
from tbt_alert.store.versions import (
    Version,
    language_code,
    stored_versions,
    title_language,
    versions_of,
)
from tests.support_comments import NAMES, NOW, SECTORS, SYMBOL, seed_notification, settings
from tests.support_web import mail_text

TITLE = "Draft regulation on the labelling of footwear"


class StandIn:
    """A LibreTranslate stand-in: ``POST /translate`` answers ``[zh] <text>``; ``mode`` may be
    ``ok``, ``error`` (HTTP 500) or ``slow`` (answers after the client gave up)."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.mode = "ok"
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stand_in.calls.append(body | {"path": self.path})
                if stand_in.mode == "slow":
                    time.sleep(1.5)
                status = 500 if stand_in.mode == "error" else 200
                data = (
                    {"error": "boom"}
                    if status == 500
                    else {"translatedText": f"[{body['target']}] {body['q']}"}
                )
                raw = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                with suppress(OSError):  # the slow case: the client is gone
                    self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"


@contextmanager
def stand_in() -> Iterator[StandIn]:
    s = StandIn()
    thread = threading.Thread(target=s.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()


def test_language_codes_from_codes_names_and_text():
    assert language_code("zh-CN") == "zh" and language_code("English") == "en"
    assert language_code("FR") == "fr" and language_code(None, "关于鞋类标签") == "zh"
    assert language_code(None, "plain words") is None and language_code("??") is None
    assert title_language("zh", TITLE) == "en"  # a merged record: language from another source
    assert title_language(None, "鞋类标签") == "zh" and title_language("fr", "Projet") == "fr"


def test_versions_from_sources_and_given_translations():
    payloads = [
        {"title": TITLE, "description": "About labels", "language": "en"},
        {"title": "Projet de règlement", "language": "fr", "extra": {}},
        {"title": "关于鞋类标签的法规草案", "description": "鞋类标签", "language": None},
        {
            "title": "Another English title",
            "language": "en",
            "extra": {"translations": {"es": {"title": "Proyecto", "description": ""}}},
        },
    ]
    found = versions_of(payloads)
    assert found["en"] == Version(TITLE, "About labels")  # the first source's wins
    assert (
        found["zh"].title == "关于鞋类标签的法规草案" and found["fr"].title == "Projet de règlement"
    )
    assert found["es"].title == "Proyecto"


def test_localise_prefers_the_readers_language_then_says_it_is_the_original():
    versions = {"zh": Version("关于鞋类标签的法规草案", "鞋类标签说明")}
    zh = localise(
        title=TITLE, description="About labels", language="en", versions=versions, lang="zh"
    )
    assert (zh.title, zh.description, zh.note) == ("关于鞋类标签的法规草案", "鞋类标签说明", None)
    en = localise(title=TITLE, description="x", language="en", versions={}, lang="en")
    assert en.title == TITLE and en.note is None
    none = localise(title=TITLE, description="About labels", language="en", versions={}, lang="zh")
    assert none.title == TITLE and none.note == "标题和摘要为英文原文，暂无中文译文。"
    from_zh = localise(title="鞋类标签", description="", language="zh", versions={}, lang="en")
    assert (
        from_zh.note == "Title and summary in the original Chinese; no English translation exists."
    )


def test_machine_translation_once_per_text_across_instances(tmp_path):
    cache = tmp_path / "translations.jsonl"
    with stand_in() as server:
        one = LibreTranslate(server.url, timeout=2, cache_path=cache, api_key="k")
        got = localise(
            title=TITLE,
            description="About labels",
            language="en",
            versions={},
            lang="zh",
            translator=one,
        )
        assert got.title == f"[zh] {TITLE}" and got.description == "[zh] About labels"
        assert got.note == "标题和摘要由英文原文机器翻译，仅供参考。"
        assert [c["q"] for c in server.calls] == [TITLE, "About labels"]
        assert server.calls[0] | {"q": ""} == {
            "q": "",
            "source": "en",
            "target": "zh",
            "format": "text",
            "api_key": "k",
            "path": "/translate",
        }
        assert one.translate(TITLE, "en", "zh") == f"[zh] {TITLE}" and len(server.calls) == 2
        two = LibreTranslate(server.url, timeout=2, cache_path=cache)  # a later run
        assert two.translate("About labels", "en", "zh") == "[zh] About labels"
        assert len(server.calls) == 2 and two.requests == 0
        # a human version beats the machine: no call at all
        localise(
            title=TITLE,
            description="",
            language="en",
            versions={"zh": Version("人", "")},
            lang="zh",
            translator=two,
        )
        assert len(server.calls) == 2


@pytest.mark.parametrize("mode", ["error", "slow"])
def test_a_failing_service_gives_the_original_with_its_line_and_is_left_alone(tmp_path, mode):
    with stand_in() as server:
        server.mode = mode
        translator = LibreTranslate(server.url, timeout=0.5, cache_path=tmp_path / "c.jsonl")
        got = localise(
            title=TITLE,
            description="About",
            language="en",
            versions={},
            lang="zh",
            translator=translator,
        )
        # "slow" answers a translation after 1.5 s: the original title shows the 0.5 s timeout held.
        assert got.title == TITLE and got.note == "标题和摘要为英文原文，暂无中文译文。"
        again = localise(
            title="Other",
            description="",
            language="en",
            versions={},
            lang="zh",
            translator=translator,
        )
        assert again.title == "Other" and len(server.calls) == 1  # paused after the failure
        assert not (tmp_path / "c.jsonl").exists()  # failures are not cached


def test_translation_is_off_by_default(tmp_path):
    assert translator_from(build_config({}).translate, tmp_path / "c") is None
    on = translator_from(TranslateConfig(url="http://127.0.0.1:5000/"), tmp_path / "c")
    assert isinstance(on, LibreTranslate)


def _readers(session: Session) -> None:
    for email, language in (("chen@example.com", "zh"), ("smith@example.com", "en")):
        add_subscriber(
            session,
            email,
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            confirmed=True,
            now=NOW,
            language=language,
        )
    session.commit()


def _send(session: Session, sink_url: str, translator=None) -> dict:
    plan_warnings(session, now=NOW, window_days=45, domain="tbt-alert.test")
    session.commit()
    with SmtpMailer(sink_url, timeout=5, sender="alerts@tbt-alert.test") as mailer:
        send_due(
            session,
            mailer,
            settings(),
            now=NOW,
            sector_names=NAMES,
            rng=random.Random(1),
            translator=translator,
        )
    session.commit()


def _mails(sink) -> dict[str, str]:
    return {parseaddr(m["To"])[1]: mail_text(m) for m in sink.handler.messages()}


def test_a_warning_takes_the_chinese_version_a_source_gave(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        record = {
            "symbol": SYMBOL,
            "member": "European Union",
            "title": "欧盟鞋类标签法规草案",
            "description": "要求鞋类标注原产地",
            "source_id": "cn-platform-1",
        }
        import_jsonl(
            session,
            io.StringIO(json.dumps(record, ensure_ascii=False) + "\n"),
            source="feeds",
            now=NOW,
        )
        session.commit()
        row = session.exec(select(Notification).where(Notification.symbol == SYMBOL)).one()
        assert stored_versions(session, row.id)["zh"].title == "欧盟鞋类标签法规草案"
        assert row.title == TITLE  # the record itself keeps the first source's title
        _readers(session)
        _send(session, smtp_sink.url)
    mails = _mails(smtp_sink)
    assert "标题：欧盟鞋类标签法规草案" in mails["chen@example.com"]
    assert "语言：" not in mails["chen@example.com"]
    assert f"Title:             {TITLE}" in mails["smith@example.com"]
    assert "Language:" not in mails["smith@example.com"]


def test_a_warning_without_a_version_says_so_or_is_machine_translated(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        _readers(session)
        with stand_in() as server:
            _send(session, smtp_sink.url, LibreTranslate(server.url, timeout=2))
            assert [c["q"] for c in server.calls] == [TITLE]  # the English reader needs none
    mails = _mails(smtp_sink)
    assert f"标题：[zh] {TITLE}" in mails["chen@example.com"]
    assert "语言：标题和摘要由英文原文机器翻译，仅供参考。" in mails["chen@example.com"]
    assert "Language:" not in mails["smith@example.com"]


def test_without_a_backend_the_original_is_shown_with_a_line(engine, smtp_sink):
    with Session(engine) as session:
        seed_notification(session)
        _readers(session)
        _send(session, smtp_sink.url)
    chen = _mails(smtp_sink)["chen@example.com"]
    assert f"标题：{TITLE}" in chen and "语言：标题和摘要为英文原文，暂无中文译文。" in chen
