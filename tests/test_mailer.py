"""SMTP outcomes against a real aiosmtpd server on loopback; the outbox mailer on disk."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from email import policy
from email.parser import BytesParser
from pathlib import Path

import pytest

from tbt_alert.alerts.ids import make_message_id
from tbt_alert.errors import ConfigError, DeliveryError
from tbt_alert.mail.mailer import (
    OutboxMailer,
    SendStatus,
    SmtpMailer,
    mailer_from_url,
    outbox_name,
)
from tbt_alert.mail.message import build_message
from tbt_alert.mail.render import RenderedMessage
from tests.support_smtp import SmtpSink, free_port, smtp_sink, stalled_listener

__all__ = ["smtp_sink"]

SENDER = "tbt-alert <alerts@tbt.example.org>"


def make_msg(recipient: str, key: str = "b1"):
    rendered = RenderedMessage(
        "[预警][鞋革] 测试 & test", "正文 & text\n.\n..dots\n", "<p>正文</p>\n", "t"
    )
    return build_message(
        rendered,
        sender=SENDER,
        recipient=recipient,
        message_id=make_message_id(key, recipient, "tbt.example.org"),
        list_id="warnings.tbt.example.org",
        unsubscribe_url="https://tbt.example.org/u/x",
        unsubscribe_mailto=None,
        date=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
    )


def smtp_mailer(sink: SmtpSink, timeout: float = 5) -> SmtpMailer:
    return SmtpMailer(sink.url, sender=SENDER, timeout=timeout)


def test_accepted_message_is_sent_and_arrives_intact(smtp_sink):
    msg = make_msg("buyer@example.com")
    with smtp_mailer(smtp_sink) as mailer:
        outcome = mailer.send(msg)
    assert outcome.status == SendStatus.SENT and outcome.code == 250
    [got] = smtp_sink.received
    assert got.mail_from == "alerts@tbt.example.org"
    assert got.rcpt_tos == ("buyer@example.com",)
    parsed = got.message
    assert parsed["Message-ID"] == msg["Message-ID"]
    body = parsed.get_body(("plain",))
    assert body is not None
    assert body.get_content() == "正文 & text\n.\n..dots\n"  # dot-stuffing undone


def test_one_connection_serves_many_sends(smtp_sink):
    with smtp_mailer(smtp_sink) as mailer:
        outcomes = [mailer.send(make_msg(f"r{i}@example.com")) for i in range(5)]
    assert {o.status for o in outcomes} == {SendStatus.SENT}
    assert len(smtp_sink.received) == 5
    assert smtp_sink.handler.sessions == 1


def test_reconnects_when_the_server_dropped_an_idle_connection(smtp_sink):
    with smtp_mailer(smtp_sink) as mailer:
        assert mailer.send(make_msg("a@example.com")).status == SendStatus.SENT
        smtp_sink.stop()
        smtp_sink.start()  # the old connection is dead now
        assert mailer.send(make_msg("b@example.com")).status == SendStatus.SENT
    assert [r.rcpt_tos for r in smtp_sink.received] == [("a@example.com",), ("b@example.com",)]


def test_452_at_rcpt_is_failed_temp_and_nothing_is_delivered(smtp_sink):
    smtp_sink.handler.at_rcpt("full@example.com", "452 4.2.2 Mailbox full")
    with smtp_mailer(smtp_sink) as mailer:
        outcome = mailer.send(make_msg("full@example.com"))
        after = mailer.send(make_msg("ok@example.com"))  # the connection was reset, still usable
    assert (outcome.status, outcome.code) == (SendStatus.FAILED_TEMP, 452)
    assert "Mailbox full" in outcome.detail
    assert after.status == SendStatus.SENT
    assert [r.rcpt_tos for r in smtp_sink.received] == [("ok@example.com",)]


def test_451_at_data_is_failed_temp(smtp_sink):
    smtp_sink.handler.at_data("grey@example.com", "451 4.7.1 Greylisted, try later")
    with smtp_mailer(smtp_sink) as mailer:
        outcome = mailer.send(make_msg("grey@example.com"))
    assert (outcome.status, outcome.code) == (SendStatus.FAILED_TEMP, 451)
    assert smtp_sink.received == []


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_550_unknown_user_is_failed_perm(smtp_sink, stage):
    handler = smtp_sink.handler
    (handler.at_rcpt if stage == "rcpt" else handler.at_data)(
        "gone@example.com", "550 5.1.1 <gone@example.com>: user unknown"
    )
    with smtp_mailer(smtp_sink) as mailer:
        outcome = mailer.send(make_msg("gone@example.com"))
    assert (outcome.status, outcome.code) == (SendStatus.FAILED_PERM, 550)
    assert "5.1.1" in outcome.detail


def test_connection_closed_after_data_is_unknown_and_the_retry_carries_the_same_id(smtp_sink):
    smtp_sink.handler.drop_after_data("flaky@example.com")
    msg = make_msg("flaky@example.com")
    with smtp_mailer(smtp_sink) as mailer:
        first = mailer.send(msg)
        smtp_sink.handler.behave_normally("flaky@example.com")
        second = mailer.send(msg)
    assert first.status == SendStatus.UNKNOWN
    assert second.status == SendStatus.SENT
    ids = [r.message["Message-ID"] for r in smtp_sink.received]
    assert ids == [msg["Message-ID"]] * 2  # the server did get the first copy


def test_server_down_is_failed_temp_quickly_and_counts_for_the_breaker():
    mailer = SmtpMailer(f"smtp://127.0.0.1:{free_port()}", sender=SENDER, timeout=30)
    started = time.monotonic()
    outcomes = [mailer.send(make_msg("a@example.com")) for _ in range(3)]
    assert time.monotonic() - started < 30  # refused at once: no send waited out its timeout
    assert {o.status for o in outcomes} == {SendStatus.FAILED_TEMP}
    assert "cannot connect" in outcomes[0].detail
    assert mailer.consecutive_connect_failures == 3


def test_breaker_count_resets_when_the_server_is_back():
    sink = SmtpSink()
    mailer = SmtpMailer(sink.url, sender=SENDER, timeout=5)
    assert mailer.send(make_msg("a@example.com")).status == SendStatus.FAILED_TEMP
    assert mailer.consecutive_connect_failures == 1
    sink.start()
    try:
        assert mailer.send(make_msg("a@example.com")).status == SendStatus.SENT
        assert mailer.consecutive_connect_failures == 0
    finally:
        mailer.close()
        sink.stop()


def test_silent_server_ends_within_the_timeout():
    with stalled_listener() as port:
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", sender=SENDER, timeout=0.5)
        started = time.monotonic()
        outcome = mailer.send(make_msg("a@example.com"))
        elapsed = time.monotonic() - started
    assert outcome.status == SendStatus.FAILED_TEMP
    assert 0.4 < elapsed < 10 * 0.5  # the silence never ends: the upper bound catches a hang only
    assert mailer.consecutive_connect_failures == 1


def test_stall_waiting_for_the_final_reply_is_unknown_within_the_timeout(smtp_sink):
    smtp_sink.handler.stall_at_data("slow@example.com", 5.0)
    with smtp_mailer(smtp_sink, timeout=0.5) as mailer:
        outcome = mailer.send(make_msg("slow@example.com"))
    # UNKNOWN, not SENT: the timeout fired before the 5 s stall ended. How fast: bench/deadlines.
    assert outcome.status == SendStatus.UNKNOWN


def test_message_with_two_recipients_is_refused_before_any_network_use(smtp_sink):
    msg = make_msg("a@example.com")
    msg["Cc"] = "b@example.com"
    with smtp_mailer(smtp_sink) as mailer, pytest.raises(DeliveryError):
        mailer.send(msg)
    assert smtp_sink.received == []


def test_auth_failure_never_shows_the_password(caplog):
    secret = "S3cret-sentinel-4711"
    sink = SmtpSink(auth=True)
    sink.start()
    caplog.set_level(logging.DEBUG)
    try:
        plain = {"sender": SENDER, "timeout": 5, "allow_plaintext_auth": True}
        mailer = SmtpMailer(sink.url, username="user", password=secret, **plain)
        outcome = mailer.send(make_msg("a@example.com"))
        good = SmtpMailer(sink.url, username="user", password="right", **plain)
        with good:
            assert good.send(make_msg("a@example.com")).status == SendStatus.SENT
    finally:
        sink.stop()
    assert outcome.status == SendStatus.FAILED_TEMP
    assert outcome.code == 535
    assert mailer.consecutive_connect_failures == 1
    for text in (outcome.detail, repr(mailer), caplog.text):
        assert secret not in text
    assert "535" in caplog.text  # the failure itself was logged


def test_outbox_writes_a_parseable_eml_and_is_idempotent(tmp_path: Path):
    msg = make_msg("buyer@example.com")
    with OutboxMailer(tmp_path / "outbox") as mailer:
        first = mailer.send(msg)
        second = mailer.send(msg)
        other = mailer.send(make_msg("buyer@example.com", key="b2"))
    assert {first.status, second.status, other.status} == {SendStatus.SENT}
    files = sorted((tmp_path / "outbox").iterdir())
    assert len(files) == 2 and all(f.suffix == ".eml" for f in files)
    name = outbox_name(str(msg["Message-ID"]))
    parsed = BytesParser(policy=policy.default).parsebytes(
        (tmp_path / "outbox" / name).read_bytes()
    )
    assert parsed["Message-ID"] == msg["Message-ID"]
    html = parsed.get_body(("html",))
    assert html is not None and html.get_content() == "<p>正文</p>\n"


def test_outbox_names_are_safe():
    name = outbox_name("<../../etc/passwd@x/y>")
    assert "/" not in name and not name.startswith(".") and name.endswith(".eml")


def test_outbox_write_failure_is_failed_temp(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    outcome = OutboxMailer(blocker / "outbox").send(make_msg("a@example.com"))
    assert outcome.status == SendStatus.FAILED_TEMP


def test_mailer_from_url(tmp_path: Path):
    assert isinstance(mailer_from_url(None, tmp_path, SENDER, 5), OutboxMailer)
    smtp = mailer_from_url("smtp://u:p%40ss@127.0.0.1:2525?starttls=true", tmp_path, SENDER, 5)
    assert isinstance(smtp, SmtpMailer)
    assert "p@ss" not in repr(smtp) and "2525" in repr(smtp)
    with pytest.raises(ConfigError):
        mailer_from_url("http://127.0.0.1:25", tmp_path, SENDER, 5)


def test_credentials_are_refused_without_tls_unless_plaintext_is_allowed():
    with pytest.raises(ConfigError, match="without TLS"):
        SmtpMailer("smtp://127.0.0.1:2525", sender=SENDER, username="user", password="right")
    SmtpMailer("smtps://127.0.0.1:2525", sender=SENDER, username="user", password="right")
    SmtpMailer(
        "smtp://127.0.0.1:2525", sender=SENDER, username="user", password="right", starttls=True
    )


def test_starttls_missing_at_the_server_never_means_logging_in_in_clear():
    sink = SmtpSink(auth=True)  # accepts user/right over plain SMTP, offers no STARTTLS
    sink.start()
    try:
        mailer = SmtpMailer(
            sink.url, sender=SENDER, timeout=5, username="user", password="right", starttls=True
        )
        with mailer:
            outcome = mailer.send(make_msg("a@example.com"))
    finally:
        sink.stop()
    assert outcome.status == SendStatus.FAILED_TEMP and "STARTTLS" in outcome.detail
    assert sink.received == []


def test_ready_runs_before_any_content_leaves_and_when_it_fails_nothing_leaves(smtp_sink):
    smtp_sink.handler.at_rcpt("full@example.com", "452 4.2.2 Mailbox full")
    calls: list[int] = []

    def failing() -> None:
        calls.append(len(smtp_sink.received))
        raise RuntimeError("the previous outcome could not be written")

    with smtp_mailer(smtp_sink) as mailer:
        with pytest.raises(RuntimeError):
            mailer.send(make_msg("first@example.com"), ready=failing)
        # ready runs as the transaction begins, before the server's answers are known
        refused = mailer.send(make_msg("full@example.com"), ready=lambda: calls.append(-2))
        assert refused.status == SendStatus.FAILED_TEMP
        ok = mailer.send(make_msg("second@example.com"), ready=lambda: calls.append(-1))
    assert ok.status == SendStatus.SENT
    assert calls == [0, -2, -1]  # the first content never left; once for each later send
    assert [r.rcpt_tos for r in smtp_sink.received] == [("second@example.com",)]


def test_outbox_ready_failing_writes_nothing(tmp_path):
    def failing() -> None:
        raise RuntimeError("the previous outcome could not be written")

    with pytest.raises(RuntimeError):
        OutboxMailer(tmp_path).send(make_msg("a@example.com"), ready=failing)
    assert list(tmp_path.iterdir()) == []


def test_meanwhile_runs_after_the_content_left_and_before_the_final_reply(smtp_sink):
    smtp_sink.handler.stall_at_data("slow@example.com", 0.5)
    smtp_sink.handler.at_rcpt("full@example.com", "452 4.2.2 Mailbox full")
    seen: list[tuple[int, float]] = []

    def meanwhile() -> None:  # the server has the whole message but has not answered yet
        deadline = time.monotonic() + 2
        while not smtp_sink.received and time.monotonic() < deadline:
            time.sleep(0.01)
        seen.append((len(smtp_sink.received), time.monotonic()))

    with smtp_mailer(smtp_sink) as mailer:
        refused = mailer.send(make_msg("full@example.com"), meanwhile=meanwhile)
        assert refused.status == SendStatus.FAILED_TEMP and seen == []  # no content left
        slow = mailer.send(make_msg("slow@example.com"), meanwhile=meanwhile)
        answered = time.monotonic()
    assert slow.status == SendStatus.SENT
    assert [count for count, _ in seen] == [1]
    assert answered - seen[0][1] >= 0.3  # the reply came after the stall, well after meanwhile


def test_meanwhile_failing_drops_the_connection_and_the_next_send_reconnects(smtp_sink):
    def failing() -> None:
        raise RuntimeError("the next message could not be prepared")

    with smtp_mailer(smtp_sink) as mailer:
        with pytest.raises(RuntimeError):
            mailer.send(make_msg("first@example.com"), meanwhile=failing)
        ok = mailer.send(make_msg("second@example.com"))
    assert ok.status == SendStatus.SENT
    assert [r.rcpt_tos for r in smtp_sink.received][-1] == ("second@example.com",)


def test_outbox_calls_meanwhile_once_the_file_is_written(tmp_path):
    written: list[int] = []
    outcome = OutboxMailer(tmp_path).send(
        make_msg("a@example.com"), meanwhile=lambda: written.append(len(list(tmp_path.iterdir())))
    )
    assert outcome.status == SendStatus.SENT and written == [1]


class SlowLookup(SmtpMailer):
    """A mailer whose connection takes a while before any socket exists, as a slow name
    lookup does: the deadline's watchdog has nothing to cut then."""

    def _open(self):  # type: ignore[no-untyped-def]
        time.sleep(0.3)
        return super()._open()


def test_a_deadline_passing_before_the_socket_exists_still_ends_the_send(smtp_sink):
    smtp_sink.handler.stall_at_data("slow@example.com", 10.0)
    with SlowLookup(smtp_sink.url, sender=SENDER, timeout=30) as mailer:
        started = time.monotonic()
        outcome = mailer.send(make_msg("slow@example.com"), timeout=0.1)
        elapsed = time.monotonic() - started
    assert outcome.status == SendStatus.FAILED_TEMP and "deadline" in outcome.detail
    assert elapsed < 5  # not the server's 10 s stall
    assert smtp_sink.received == []  # nothing was sent after the deadline
