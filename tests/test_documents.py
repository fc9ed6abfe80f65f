"""The cycle fetches the WTO document of a notification whose record leaves something out, and
the events it states reach the update alert."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from tbt_alert.config import DEFAULT_ALLOWED_HOSTS, Config, DatabaseConfig, EpingConfig, FetchConfig
from tbt_alert.crawl.documents import DOL_PDF, document_url, needs_document
from tbt_alert.demo.eping_server import FakeEping, items_from_records
from tbt_alert.mail.mailer import OutboxMailer
from tbt_alert.pipeline import run_cycle
from tbt_alert.record import parse_record
from tbt_alert.status import NotificationKind
from tbt_alert.store.tables import Notification
from tests.support_http import Reply, fixture_reply, serve

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_which_notifications_need_their_document():
    addendum = Notification(
        symbol="G/TBT/N/MEX/178/Add.9",
        measure_key="G/TBT/N/MEX/178",
        title="t",
        kind=NotificationKind.ADDENDUM,
        content_hash="",
        first_seen_at=NOW,
        updated_at=NOW,
    )
    assert needs_document(addendum)
    assert not needs_document(replace_events(addendum))
    full = Notification(
        symbol="G/TBT/N/EU/1",
        measure_key="G/TBT/N/EU/1",
        title="t",
        description="d",
        hs_codes=["6403"],
        comment_deadline=date(2027, 1, 1),
        content_hash="",
        first_seen_at=NOW,
        updated_at=NOW,
    )
    assert not needs_document(full)
    full.comment_deadline = None
    assert needs_document(full)


def replace_events(row: Notification) -> Notification:
    row = row.model_copy()
    row.events = [{"kind": "adopted", "date": None, "text": "adopted"}]
    return row


@pytest.mark.parametrize(
    ("payloads", "url"),
    [
        (
            [
                {
                    "document_url": "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx"
                }
            ],
            "https://docs.wto.org/imrd/directdoc.asp?DDFDocuments/T/G/TBTN26/ARE703.docx",
        ),
        (
            [{"document_url": "javascript:alert(1)", "dol_link": "G\\TBTN11\\MYS27R1"}],
            DOL_PDF.format(name="G/TBTN11/MYS27R1"),
        ),
        (
            [
                {
                    "document_links": [
                        "https://members.wto.org/crnattachments/2026/TBT/ARE/26_02883_00_e.pdf"
                    ]
                }
            ],
            None,
        ),
    ],
)
def test_the_form_not_the_draft_is_fetched(payloads, url):
    assert document_url(payloads) == url


def test_a_cycle_reads_the_addendum_document_for_its_events(db_url, tmp_path: Path):
    from tbt_alert.classify.classifier import load_classifier
    from tbt_alert.store.engine import make_engine, upgrade

    def route(path: str, query: dict) -> Reply:
        if path.endswith("/mex178_add9.docx"):
            return fixture_reply("wtodoc", "mex178_add9.docx")
        return Reply(b"not found", 404, {"Content-Type": "text/plain"})

    engine = make_engine(db_url)
    upgrade(engine)
    with serve(route) as (doc_base, seen):
        root = doc_base.split("/api/")[0]
        record = parse_record(
            {
                "symbol": "G/TBT/N/MEX/178/Add.9",
                "member": "Mexico",
                "title": "NOM-051 labelling",
                "distribution_date": (NOW - timedelta(days=1)).date().isoformat(),
                "document_url": f"{root}/dol/mex178_add9.docx",
            }
        )
        with FakeEping(items_from_records([record])) as eping:
            config = Config(
                data_dir=tmp_path,
                database=DatabaseConfig(url=db_url),
                eping=EpingConfig(base_url=eping.base_url, download_delay_s=0),
                fetch=FetchConfig(allowed_hosts=(*DEFAULT_ALLOWED_HOSTS, root.split("//")[1])),
            )
            with OutboxMailer(tmp_path / "outbox") as mailer:
                summary = run_cycle(
                    engine,
                    config,
                    classifier=load_classifier(),
                    mailer=mailer,
                    now=NOW,
                    since=NOW.date() - timedelta(days=5),
                    until=NOW.date(),
                )
    assert summary.ok, summary.lines()
    assert any(p.endswith("mex178_add9.docx") for p in seen)
    with Session(engine) as session:
        row = session.exec(select(Notification)).one()
        assert [e["kind"] for e in row.events] == ["final_text_available"]
        assert json.dumps(row.events).count("dof.gob.mx") == 1
    engine.dispose()
