"""Hostile text that reaches a header (title, member, products, in both languages) never changes
the headers: RFC 2047 encoded words and CR/LF are neutralised before a header is set, and a
message that still cannot be written fails its delivery alone, permanently, with a reason."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.mail.message import header_text
from tbt_alert.pipeline import import_jsonl
from tbt_alert.status import DeliveryStatus
from tbt_alert.store.tables import Delivery, Notification, Subscriber
from tests.test_deliver import NOW, SECTORS, plan, send

EVIL = "x\r\nBcc: evil@attacker.example\r\n\r\nHACKED BODY"
B_WORD = "=?utf-8?b?" + base64.b64encode(EVIL.encode()).decode() + "?="
Q_WORD = "=?utf-8?q?=0D=0ABcc:_evil2@attacker.example=0D=0A=0D=0AHACKED?="
PAYLOADS = [
    B_WORD,
    Q_WORD,
    f"a {B_WORD} {Q_WORD} b",
    "=?utf-8?b?DQpCY2M6IGV2aWxAYQ==?=\r\nBcc: x@y",
]


HEADERS = sorted(
    [
        "subject",
        "from",
        "to",
        "date",
        "message-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "auto-submitted",
        "mime-version",
        "content-type",
    ]
)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_header_text_leaves_no_encoded_word_and_no_line_break(payload):
    cleaned = header_text(payload)
    assert "=?" not in cleaned and "?=" not in cleaned
    assert "\r" not in cleaned and "\n" not in cleaned


def seed_hostile(session: Session, *, title: str, member: str, products: str) -> None:
    record = {
        "symbol": "G/TBT/N/EU/1097",
        "member": member,
        "title": title,
        "products_text": products,
        "description": f"Footwear labelling. {products}",
        "distribution_date": "2026-11-20",
        "comment_deadline": "2027-01-19",
        "hs_codes": ["6403"],
    }
    import_jsonl(session, io.StringIO(json.dumps(record) + "\n"), source="import", now=NOW)
    row = session.exec(select(Notification)).one()
    row.classification = {
        "sectors": [
            {"sector": "footwear_leather", "tier": "alert", "reasons": [], "risk": {"level": "red"}}
        ]
    }
    row.alert_sectors, row.classified_hash = ["footwear_leather"], "x"
    session.add(row)
    for email, lang in (("zh@example.com", "zh"), ("en@example.com", "en")):
        add_subscriber(
            session,
            email,
            sectors=["footwear_leather"],
            known_sectors=SECTORS,
            language=lang,
            confirmed=True,
            now=NOW,
        )
    session.commit()


@pytest.mark.parametrize("payload", [B_WORD, Q_WORD])
def test_encoded_words_in_title_member_and_products_never_change_the_headers(
    engine, smtp_sink, payload
):
    with Session(engine) as session:
        seed_hostile(
            session,
            title=f"Footwear labelling {payload}",
            member=f"European Union {payload}",
            products=f"Shoes {payload}",
        )
        plan(session)
        assert send(session, smtp_sink) == {"sent": 2}
    assert sorted(r.rcpt_tos for r in smtp_sink.received) == [
        ("en@example.com",),
        ("zh@example.com",),
    ]
    for received in smtp_sink.received:
        head = received.data.split(b"\r\n\r\n", 1)[0]
        assert not [line for line in head.split(b"\r\n") if line.lower().startswith(b"bcc")]
        msg = received.message
        assert sorted(k.lower() for k in msg) == HEADERS
        subject = str(msg["Subject"])
        assert "Footwear labelling" in subject and "\n" not in subject and "\r" not in subject
        assert "= ?utf-8?" in subject  # shown as the text it was, never decoded
        assert msg.is_multipart() and msg.get_content_type() == "multipart/alternative"
        text = msg.get_body(("plain",)).get_content()
        assert "G/TBT/N/EU/1097" in text  # the body is the body, not the payload


def test_a_message_that_cannot_be_written_fails_alone_and_permanently(engine, smtp_sink):
    with Session(engine) as session:
        seed_hostile(session, title="Footwear", member="European Union", products="Shoes")
        bad = session.exec(select(Subscriber).where(Subscriber.email == "zh@example.com")).one()
        bad.email = "zh@example.com, other@example.com"  # would need two recipients
        session.add(bad)
        session.commit()
        plan(session)
        assert send(session, smtp_sink) == {"sent": 1, "failed_perm": 1}
        rows = {d.subscriber_id: d for d in session.exec(select(Delivery)).all()}
        failed = rows[bad.id]
        assert failed.status == DeliveryStatus.FAILED_PERM
        assert failed.last_error and "cannot be written" in failed.last_error
        assert send(session, smtp_sink, datetime(2026, 11, 27, tzinfo=UTC)) == {}
    assert [r.rcpt_tos for r in smtp_sink.received] == [("en@example.com",)]
