"""Daily and weekly digests: periods, planning once per period with catch-up, and delivery."""

import io
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, func, select

from tbt_alert.alerts.digest import due_periods, last_closed, plan_digests
from tbt_alert.alerts.subscribers import add_subscriber
from tbt_alert.classify.annotate import annotate_pending
from tbt_alert.classify.classifier import load_classifier
from tbt_alert.config import Config, DatabaseConfig
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import deliver_digests, import_jsonl
from tbt_alert.status import Cadence
from tbt_alert.store.tables import Bulletin, Delivery

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("now", "tz", "cadence", "label", "hours"),
    [
        (
            datetime(2026, 11, 26, 0, 30, tzinfo=UTC),
            SHANGHAI,
            Cadence.DAILY,
            "2026-11-25",
            24,
        ),  # 08:30 local
        (
            datetime(2026, 11, 25, 15, 30, tzinfo=UTC),
            SHANGHAI,
            Cadence.DAILY,
            "2026-11-24",
            24,
        ),  # 23:30 local: the 25th is not over
        (
            datetime(2027, 3, 29, 6, 0, tzinfo=UTC),
            BERLIN,
            Cadence.DAILY,
            "2027-03-28",
            23,
        ),  # spring forward
        (
            datetime(2027, 11, 1, 6, 0, tzinfo=UTC),
            BERLIN,
            Cadence.DAILY,
            "2027-10-31",
            25,
        ),  # fall back
        (datetime(2026, 11, 26, 2, 0, tzinfo=UTC), SHANGHAI, Cadence.WEEKLY, "2026-W47", 168),
    ],
)
def test_last_closed_period(now, tz, cadence, label, hours):
    period = last_closed(cadence, now, tz)
    assert period.label == label
    assert period.end.astimezone(UTC) - period.start.astimezone(UTC) == timedelta(hours=hours)
    assert period.end <= now


RECORDS = [
    {
        "symbol": "G/TBT/N/ECU/386",
        "member": "Ecuador",
        "title": "Labelling of footwear (calzado)",
        "hs_codes": ["6403"],
        "distribution_date": "2026-11-20",
        "comment_deadline": "2027-01-19",
    },
    {
        "symbol": "G/TBT/N/KOR/692",
        "member": "Korea, Republic of",
        "title": "Safety requirements for low-voltage circuit breakers and socket-outlets",
        "hs_codes": ["8536"],
        "distribution_date": "2026-11-20",
        "comment_deadline": "2027-01-19",
    },
    {
        "symbol": "G/TBT/N/KEN/1419",
        "member": "Kenya",
        "title": "Edible coconut oil - Specification",
        "hs_codes": ["1513"],
        "distribution_date": "2026-11-20",
        "comment_deadline": "2027-01-19",
    },
]


def load(session, records, seen):
    text = "".join(json.dumps(r) + "\n" for r in records)
    import_jsonl(session, io.StringIO(text), source="import", now=seen)
    session.commit()


@pytest.fixture(scope="module")
def classifier():
    return load_classifier()


def test_digests_are_planned_once_per_period_with_catch_up(engine, classifier):
    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    with Session(engine) as session:
        known = classifier.sector_names()
        add_subscriber(
            session,
            "daily@x.example",
            sectors=["footwear_leather", "low_voltage_electrical"],
            known_sectors=known,
            cadence="daily",
            confirmed=True,
            now=now,
        )
        add_subscriber(
            session,
            "weekly@x.example",
            sectors=["footwear_leather"],
            known_sectors=known,
            cadence="weekly",
            confirmed=True,
            now=now,
        )
        add_subscriber(
            session,
            "instant@x.example",
            sectors=["footwear_leather"],
            known_sectors=known,
            cadence="immediate",
            confirmed=True,
            now=now,
        )
        # seen three and two days ago (local), nothing yesterday
        load(session, RECORDS[:1], seen=now - timedelta(days=3))
        load(session, RECORDS[1:], seen=now - timedelta(days=2))
        annotate_pending(session, classifier)
        daily = plan_digests(
            session, Cadence.DAILY, now=now, tz=SHANGHAI, window_days=45, domain="t.test"
        )
        session.commit()
        assert daily.bulletins == ["digest:daily:2026-11-23", "digest:daily:2026-11-24"]
        deliveries = session.exec(select(Delivery)).all()
        assert sorted(len(d.items) for d in deliveries) == [1, 1]  # coconut oil concerns nobody
        assert (
            plan_digests(
                session, Cadence.DAILY, now=now, tz=SHANGHAI, window_days=45, domain="t.test"
            ).bulletins
            == []
        )
        assert (
            due_periods(session, Cadence.DAILY, now, SHANGHAI) != []
        )  # the empty days stay due...
        weekly = plan_digests(
            session,
            Cadence.WEEKLY,
            now=now + timedelta(days=5),
            tz=SHANGHAI,
            window_days=45,
            domain="t.test",
        )
        session.commit()
        assert weekly.bulletins == ["digest:weekly:2026-W48"] and weekly.deliveries == 1
        assert session.exec(select(func.count()).select_from(Bulletin)).one() == 3


def test_a_digest_reaches_its_subscriber_once_listing_their_notifications(
    db_url, tmp_path, smtp_sink, classifier
):
    from tbt_alert.store.engine import make_engine, upgrade

    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        add_subscriber(
            session,
            "daily@x.example",
            sectors=["footwear_leather", "low_voltage_electrical"],
            known_sectors=classifier.sector_names(),
            cadence="daily",
            language="zh",
            confirmed=True,
            now=now,
        )
        load(session, RECORDS, seen=now - timedelta(hours=12))  # yesterday, local time
    config = Config(data_dir=tmp_path, database=DatabaseConfig(url=db_url))
    for _ in range(2):
        with SmtpMailer(smtp_sink.url, timeout=5, sender="a@t.test") as mailer:
            summary = deliver_digests(
                engine, config, classifier=classifier, mailer=mailer, now=now, cadence="daily"
            )
        assert summary.ok
    engine.dispose()
    [received] = smtp_sink.received
    msg = received.message
    body = msg.get_body(("plain",)).get_content()
    assert "2026-11-25" in msg["Subject"] or "2026-11-25" in body
    assert (
        "G/TBT/N/ECU/386" in body and "G/TBT/N/KOR/692" in body and "G/TBT/N/KEN/1419" not in body
    )


def test_a_digest_never_shows_two_day_counts_for_one_notification(
    db_url, tmp_path, smtp_sink, classifier
):
    """Classified a week before the digest is sent: the comment period's day count in the risk
    reasons is worked out on the day the message is made, so it agrees with the deadline line."""
    import re

    from tbt_alert.store.engine import make_engine, upgrade

    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        for lang in ("en", "zh"):
            add_subscriber(
                session,
                f"{lang}@x.example",
                sectors=["footwear_leather"],
                known_sectors=classifier.sector_names(),
                cadence="daily",
                language=lang,
                confirmed=True,
                now=now,
            )
        load(session, RECORDS[:1], seen=now - timedelta(hours=12))
        annotate_pending(session, classifier)  # classified once, long before it is sent
        session.commit()
    config = Config(data_dir=tmp_path, database=DatabaseConfig(url=db_url))
    with SmtpMailer(smtp_sink.url, timeout=5, sender="a@t.test") as mailer:
        assert deliver_digests(
            engine, config, classifier=classifier, mailer=mailer, now=now, cadence="daily"
        ).ok
    engine.dispose()
    left = (datetime(2027, 1, 19, tzinfo=UTC).date() - now.date()).days  # 54
    bodies = {
        str(r.message["To"]).split("@")[0]: r.message.get_body(("plain",)).get_content()
        for r in smtp_sink.received
    }
    assert set(bodies) == {"en", "zh"}
    en_counts = {int(n) for n in re.findall(r"(\d+) days?\b", bodies["en"])}
    zh_counts = {int(n) for n in re.findall(r"(\d+) ?天", bodies["zh"])}
    assert en_counts == {left} and zh_counts == {left}
    # the risk reason names the comment period (not only the deadline line does)
    assert "comment period open until 2027-01-19" in bodies["en"]


def test_sending_a_digest_does_not_plan_again(db_url, tmp_path, smtp_sink, classifier):
    """What a digest says of each notification is frozen when it is planned: a classification
    changed after planning does not leak into the message sent later."""
    from tbt_alert.store.engine import make_engine, upgrade
    from tbt_alert.store.tables import Notification

    now = datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    engine = make_engine(db_url)
    upgrade(engine)
    with Session(engine) as session:
        add_subscriber(
            session,
            "en@x.example",
            sectors=["footwear_leather"],
            known_sectors=classifier.sector_names(),
            cadence="daily",
            language="en",
            confirmed=True,
            now=now,
        )
        load(session, RECORDS[:1], seen=now - timedelta(hours=12))
        annotate_pending(session, classifier)
        plan = plan_digests(
            session, Cadence.DAILY, now=now, tz=SHANGHAI, window_days=45, domain="t.test"
        )
        assert plan.deliveries == 1
        bulletin = session.exec(select(Bulletin)).one()
        row = session.exec(select(Notification)).one()
        assert str(row.id) in bulletin.snapshot["items"]  # frozen with the bulletin
        changed = json.loads(json.dumps(row.classification))
        changed["sectors"][0]["reasons"] = ["CHANGED AFTER PLANNING"]
        row.classification = changed
        session.add(row)
        session.commit()
    config = Config(data_dir=tmp_path, database=DatabaseConfig(url=db_url))
    with SmtpMailer(smtp_sink.url, timeout=5, sender="a@t.test") as mailer:
        assert deliver_digests(
            engine, config, classifier=classifier, mailer=mailer, now=now, cadence="daily"
        ).ok
    engine.dispose()
    [received] = smtp_sink.received
    body = received.message.get_body(("plain",)).get_content()
    assert "G/TBT/N/ECU/386" in body and "HS code 6403" in body
    assert "CHANGED AFTER PLANNING" not in body
