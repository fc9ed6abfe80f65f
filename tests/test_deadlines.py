"""Deadlines: a server that stalls or trickles is cut off per message; a run ends within its
deadline with the rest left due; timeouts count for the breaker."""

from __future__ import annotations

import contextlib
import random
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

from sqlmodel import Session, select

from tbt_alert.mail.deliver import send_due
from tbt_alert.mail.mailer import SendStatus, SmtpMailer
from tbt_alert.status import DeliveryStatus
from tbt_alert.store.tables import Delivery
from tests.test_deliver import NAMES, NOW, SETTINGS, plan, seed
from tests.test_mailer import SENDER, make_msg


@contextlib.contextmanager
def trickling_server() -> Iterator[str]:
    """Accepts connections and sends an endless multi-line greeting, one byte every 50 ms:
    no single read ever waits long enough for a per-operation timeout."""
    stop = threading.Event()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)

    def trickle(conn: socket.socket) -> None:
        with conn:
            while not stop.is_set():
                for byte in b"220-still here\r\n":
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:
                        return
                    time.sleep(0.05)

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"smtp://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()


def test_a_trickling_server_is_cut_off_at_the_message_deadline():
    with trickling_server() as url:
        mailer = SmtpMailer(url, sender=SENDER, timeout=0.5, message_timeout=1.0)
        started = time.monotonic()
        outcome = mailer.send(make_msg("a@example.com"))
        elapsed = time.monotonic() - started
    assert outcome.status == SendStatus.FAILED_TEMP and "deadline" in outcome.detail
    # The trickle never ends: only the deadline can end the send. How fast: bench/deadlines.
    assert elapsed < 10 * 1.0  # catches a hang only
    assert mailer.consecutive_failures == 1


def test_a_stall_after_the_data_is_unknown_at_the_deadline(smtp_sink):
    smtp_sink.handler.stall_at_data("slow@example.com", 5.0)
    with SmtpMailer(smtp_sink.url, sender=SENDER, timeout=30, message_timeout=1.0) as mailer:
        outcome = mailer.send(make_msg("slow@example.com"))
    # UNKNOWN, not SENT: the deadline fired before the 5 s stall ended (the server may have
    # the message). How fast: bench/deadlines.
    assert outcome.status == SendStatus.UNKNOWN


def statuses(session: Session) -> dict[str, int]:
    rows = session.exec(select(Delivery)).all()
    return {s: sum(1 for d in rows if d.status == s) for s in {d.status for d in rows}}


def test_timeouts_open_the_breaker_and_the_run_ends_with_the_rest_due(engine):
    settings = replace(SETTINGS, message_timeout_s=0.6)
    with Session(engine) as session, trickling_server() as url:
        seed(session, *(f"u{i}@example.com" for i in range(5)))
        plan(session)
        started = time.monotonic()
        with SmtpMailer(url, sender=SENDER, timeout=30) as mailer:
            counts = send_due(
                session, mailer, settings, now=NOW, sector_names=NAMES, rng=random.Random(1)
            )
        elapsed = time.monotonic() - started
        assert counts == {"failed_temp": 3, "paused": 2}
        assert elapsed < 10 * 3 * 0.6  # the trickle never ends: catches a hang only
        assert statuses(session) == {DeliveryStatus.FAILED_TEMP: 3, DeliveryStatus.PLANNED: 2}


def test_a_stalling_server_ends_the_run_at_its_deadline(engine, smtp_sink):
    emails = [f"u{i}@example.com" for i in range(5)]
    for email in emails:
        smtp_sink.handler.stall_at_data(email, 10.0)
    settings = replace(SETTINGS, message_timeout_s=0.8, run_timeout_s=2.0, breaker_threshold=10)
    with Session(engine) as session:
        seed(session, *emails)
        plan(session)
        started = time.monotonic()
        with SmtpMailer(smtp_sink.url, sender=SENDER, timeout=30) as mailer:
            counts = send_due(session, mailer, settings, now=NOW, sector_names=NAMES)
        elapsed = time.monotonic() - started
        # Each stalled send takes at least its 0.8 s deadline, so at most three fit the 2 s run
        # (fewer under load); the rest stay due. A try whose content had left is unknown; the
        # last may have so little time left that it is cut before (failed_temp, nothing
        # delivered). How fast: bench/deadlines.
        sent_into_stall, cut_short = counts["unknown"], counts["failed_temp"]
        tried = sent_into_stall + cut_short
        assert sent_into_stall >= 1 and cut_short <= 1 and tried <= 3
        assert counts["deadline"] == 5 - tried and set(counts) <= {
            "unknown",
            "failed_temp",
            "deadline",
        }
        assert elapsed < 10.0  # less than one stall: no send outlived its own deadline
        expected = {
            DeliveryStatus.UNKNOWN: sent_into_stall,
            DeliveryStatus.FAILED_TEMP: cut_short,
            DeliveryStatus.PLANNED: 5 - tried,
        }
        assert statuses(session) == {k: v for k, v in expected.items() if v}
