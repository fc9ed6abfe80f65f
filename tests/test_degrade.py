"""Enrichment is best-effort (issue 13): a real crawl of an ePing-shaped server whose detail
endpoints answer 404 or 500 still stores the listing and sends the warnings; each missing detail
is a recorded gap, reported in the summary and retried (and resolved) by a later cycle. A listing
that fails still fails the run."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from tbt_alert.config import Config, DatabaseConfig, EpingConfig, FetchConfig
from tbt_alert.demo.eping_server import DOWNLOADS_PATH, RELATED_PATH, FakeEping, items_from_records
from tbt_alert.mail.mailer import SmtpMailer
from tbt_alert.pipeline import retry_since, run_cycle
from tbt_alert.store.engine import make_engine, upgrade
from tbt_alert.store.tables import EnrichmentGap
from tests.test_e2e import NOW, classifier, served_records, subscribe  # noqa: F401

SINCE = NOW.date() - timedelta(days=10)


def cycle(engine, config, smtp_sink, classifier):  # noqa: F811
    with SmtpMailer(smtp_sink.url, timeout=10, sender="alerts@tbt-alert.test") as mailer:
        return run_cycle(
            engine,
            config,
            classifier=classifier,
            mailer=mailer,
            now=NOW,
            since=SINCE,
            until=NOW.date(),
        )


def config_for(server: FakeEping, tmp_path, db_url) -> Config:
    return Config(
        data_dir=tmp_path,
        database=DatabaseConfig(url=db_url),
        eping=EpingConfig(base_url=server.base_url, download_delay_s=0, page_size=5),
        fetch=FetchConfig(allowed_hosts=()),
    )


def gaps(engine) -> list[EnrichmentGap]:
    with Session(engine) as session:
        return list(session.exec(select(EnrichmentGap)).all())


def test_failing_detail_endpoints_leave_gaps_not_silence(
    db_url,
    tmp_path,
    smtp_sink,
    classifier,  # noqa: F811
):
    engine = make_engine(db_url)
    upgrade(engine)
    subscribe(engine, classifier)
    items = items_from_records([r for r, _ in served_records()], as_of=NOW.date())
    broken = {RELATED_PATH: 500, DOWNLOADS_PATH: 404}
    with FakeEping(items, failing=broken) as server:
        summary = cycle(engine, config_for(server, tmp_path, db_url), smtp_sink, classifier)
        asked = {r.path for r in server.requests}
    assert RELATED_PATH in asked  # the details were asked for, and refused
    assert summary.ok, summary.lines()
    assert summary.crawled == len(items) and summary.new == len(items)
    assert len(smtp_sink.received) == 7  # every warning went out
    assert summary.gaps and all("HTTP 500" in g or "HTTP 404" in g for g in summary.gaps)
    shown = "\n".join(summary.lines())
    assert f"gaps        {len(summary.gaps)}" in shown and "related of G/TBT/N/" in shown
    open_gaps = [g for g in gaps(engine) if g.resolved_at is None]
    assert {g.what for g in open_gaps} >= {"related"} and len(open_gaps) == len(summary.gaps)
    # the next cycle starts early enough to reach the oldest gap
    with Session(engine) as session:
        assert retry_since(session, NOW.date(), 30) <= min(
            g.distribution_date for g in open_gaps if g.distribution_date
        )

    with FakeEping(items) as healthy:  # the endpoints are back: the gaps close, nothing resent
        again = cycle(engine, config_for(healthy, tmp_path, db_url), smtp_sink, classifier)
    assert again.ok and not again.gaps, again.lines()
    assert all(g.resolved_at is not None for g in gaps(engine))
    assert len(smtp_sink.received) == 7
    engine.dispose()


def test_a_failed_listing_still_fails_the_run(db_url, tmp_path, smtp_sink, classifier):  # noqa: F811
    engine = make_engine(db_url)
    upgrade(engine)
    items = items_from_records([r for r, _ in served_records()], as_of=NOW.date())
    with FakeEping(items, failing={"/api/v1/azureSearch/getAll": 500}) as server:
        summary = cycle(engine, config_for(server, tmp_path, db_url), smtp_sink, classifier)
    assert not summary.ok and summary.failures[0].startswith("crawl eping failed")
    assert summary.crawled == 0 and not smtp_sink.received
    engine.dispose()


def test_unreachable_wto_documents_are_a_gap_retried_next_cycle(
    engine,
    tmp_path,
    classifier,  # noqa: F811
):
    from dataclasses import replace

    from tbt_alert.crawl.runner import CrawlOutput
    from tbt_alert.errors import CrawlError
    from tbt_alert.mail.mailer import OutboxMailer

    records = [
        replace(r, description=None, document_url="https://docs.wto.org/dol2fe/x.doc")
        for r, _ in served_records()[:3]
    ]
    docs_up = {"value": False}
    calls: list[str] = []

    def crawler(source, *, workdir, **_kw):
        calls.append(source)
        out = CrawlOutput(records, 0, workdir / "i.jsonl", workdir / "l.log", {})
        if source == "eping":
            return out
        if not docs_up["value"]:
            raise CrawlError("crawl of wtodoc failed: DNS lookup failed: docs.wto.org")
        return CrawlOutput(records[:1], 0, workdir / "i.jsonl", workdir / "l.log", {})

    config = Config(data_dir=tmp_path)

    def one_cycle(now):
        return run_cycle(
            engine,
            config,
            classifier=classifier,
            mailer=OutboxMailer(tmp_path / "outbox"),
            now=now,
            since=SINCE,
            until=NOW.date(),
            crawler=crawler,
        )

    summary = one_cycle(NOW)
    assert calls == ["eping", "wtodoc"]
    assert summary.ok and summary.new == 3, summary.lines()
    assert summary.gaps == [
        "wtodoc documents: crawl of wtodoc failed: DNS lookup failed: docs.wto.org "
        "(retried next cycle)"
    ]
    assert [(g.what, g.resolved_at) for g in gaps(engine)] == [("documents", None)]
    docs_up["value"] = True
    again = one_cycle(NOW + timedelta(minutes=30))
    assert calls[2:] == ["eping", "wtodoc"] and again.ok and not again.gaps, again.lines()
    assert all(g.resolved_at is not None for g in gaps(engine))
