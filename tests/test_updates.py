"""Changes, not repeats: an addendum, revision or corrigendum of a measure already warned about
yields an update that says what changed; parallel notifications of one measure alert once."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.classify.annotate import annotate_pending
from tbt_alert.classify.classifier import load_classifier
from tbt_alert.mail.deliver import DeliverySettings, send_due
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import import_jsonl
from tbt_alert.store.measure import measure_state
from tbt_alert.store.tables import Bulletin, Notification

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
SETTINGS = DeliverySettings(
    sender="alerts@tbt-alert.test", public_url="https://tbt.example/", domain="tbt-alert.test"
)
BASE = {
    "symbol": "G/TBT/N/KEN/1850",
    "member": "Kenya",
    "distribution_date": "2026-10-10",
    "title": "DKS 1573-4:2025 Textiles - Household textiles - Part 4: Curtains and garments labelling",
    "description": "This Draft Kenya Standard specifies labelling requirements for textile products "
    "and clothing, including fibre composition and care labelling.",
    "comment_deadline": "2026-12-09",
    "ics_codes": ["59.080.30"],
    "hs_codes": ["6303"],
}


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def load(session, *records, now=NOW):
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    import_jsonl(session, io.StringIO(text), source="import", now=now)
    session.commit()


def cycle(session, classifier, sink, now=NOW):
    annotate_pending(session, classifier)
    plan = plan_warnings(session, now=now, window_days=45, domain="tbt-alert.test")
    session.commit()
    with SmtpMailer(sink.url, timeout=5, sender=SETTINGS.sender) as mailer:
        send_due(session, mailer, SETTINGS, now=now, sector_names=classifier.sector_names())
    return plan


def test_an_addendum_is_an_update_that_says_what_changed(engine, smtp_sink, classifier):
    with Session(engine) as session:
        for email, lang in (("zh@apparel.example", "zh"), ("en@apparel.example", "en")):
            add_subscriber(
                session,
                email,
                sectors=["apparel_textiles"],
                known_sectors=classifier.sector_names(),
                language=lang,
                confirmed=True,
                now=NOW,
            )
        load(session, BASE)
        first = cycle(session, classifier, smtp_sink)
        assert first.bulletins == ["warning:G/TBT/N/KEN/1850"]
        later = NOW + timedelta(days=20)
        addendum = {
            "symbol": "G/TBT/N/KEN/1850/Add.1",
            "member": "Kenya",
            "distribution_date": "2026-12-01",
            "title": "DKS 1573-4:2025 Textiles - Household textiles - Part 4: Curtains",
            "description": "Kenya would like to inform WTO Members that the Draft Kenya Standard "
            "notified in G/TBT/N/KEN/1850 was adopted on 20th November 2026 "
            "via gazette notice No. 123.",
        }
        load(session, addendum, now=later)
        second = cycle(session, classifier, smtp_sink, now=later)
        assert second.bulletins == ["update:G/TBT/N/KEN/1850/Add.1"]
        rows = session.exec(
            select(Notification).where(Notification.measure_key == "G/TBT/N/KEN/1850")
        ).all()
        state = measure_state(rows)
        assert (state.stage, state.adopted_on) == ("adopted", date(2026, 11, 20))
        assert session.exec(select(Bulletin)).all()[1].snapshot["events"][0]["kind"] == "adopted"

    by_rcpt: dict[str, list] = {}
    for r in smtp_sink.received:
        by_rcpt.setdefault(r.rcpt_tos[0], []).append(r.message)
    assert [len(v) for v in by_rcpt.values()] == [
        2,
        2,
    ]  # one warning, one update each; no second "new"
    zh_update = by_rcpt["zh@apparel.example"][1]
    en_update = by_rcpt["en@apparel.example"][1]
    assert "G/TBT/N/KEN/1850/Add.1" in zh_update["Subject"]
    assert "已于2026-11-20通过" in zh_update.get_body(("plain",)).get_content()
    assert "adopted on 2026-11-20" in en_update.get_body(("plain",)).get_content()


def test_a_revision_with_a_new_deadline_updates_the_measure(engine, classifier):
    with Session(engine) as session:
        revision = dict(
            BASE,
            symbol="G/TBT/N/KEN/1850/Rev.1",
            distribution_date="2026-11-20",
            comment_deadline="2027-01-19",
        )
        load(session, BASE, revision)
        rows = session.exec(select(Notification)).all()
        state = measure_state(rows)
        assert state.comment_deadline == date(2027, 1, 19) and state.stage == "draft"
        assert any("G/TBT/N/KEN/1850/Rev.1" in h for h in state.history)


def test_parallel_notifications_of_one_measure_alert_once_with_every_symbol(
    engine, smtp_sink, classifier
):
    eac = [
        dict(BASE, symbol=f"G/TBT/N/{m}/{n}", member=name)
        for m, n, name in (("KEN", 1850, "Kenya"), ("UGA", 2001, "Uganda"), ("RWA", 1100, "Rwanda"))
    ]
    with Session(engine) as session:
        add_subscriber(
            session,
            "rw@apparel.example",
            sectors=["apparel_textiles"],
            markets=["RWA"],
            known_sectors=classifier.sector_names(),
            language="en",
            confirmed=True,
            now=NOW,
        )
        add_subscriber(
            session,
            "all@apparel.example",
            sectors=["apparel_textiles"],
            known_sectors=classifier.sector_names(),
            language="en",
            confirmed=True,
            now=NOW,
        )
        load(session, *eac)
        plan = cycle(session, classifier, smtp_sink)
        assert plan.bulletins == ["warning:G/TBT/N/KEN/1850"] and plan.deliveries == 2
    assert sorted(r.rcpt_tos[0] for r in smtp_sink.received) == [
        "all@apparel.example",
        "rw@apparel.example",
    ]
    body = smtp_sink.received[0].message.get_body(("plain",)).get_content()
    assert "G/TBT/N/RWA/1100" in body and "G/TBT/N/UGA/2001" in body
