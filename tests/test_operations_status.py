"""Operations (issue 13): newest first puts undated notifications last on both backends; an
address matches in any letter case and old case duplicates are reported, never merged; an unknown
--sector is an error listing the valid ids; ``status [--json]`` tells an operator what happened."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from tbt_alert.alerts.subscribers import add_subscriber, case_duplicates
from tbt_alert.daemon.leader import acquire_leadership
from tbt_alert.store.engine import make_engine
from tbt_alert.store.queries import list_notifications
from tests.test_operations import cli, one_error_line
from tests.test_operations_lock import db_env  # noqa: F401

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def record(n: int, day: str | None) -> str:
    data = {"symbol": f"G/TBT/N/EU/{n}", "member": "EU", "title": f"Toys {n}"}
    if day:
        data["distribution_date"] = day
    return json.dumps(data)


def test_newest_first_puts_undated_last(db_env, db_url, tmp_path):  # noqa: F811
    path = tmp_path / "in.jsonl"
    path.write_text(
        "\n".join([record(1, "2024-01-02"), record(2, None), record(3, "2025-05-05")]) + "\n"
    )
    assert cli(db_env, "import", str(path), "--no-classify").returncode == 0
    engine = make_engine(db_url)
    with Session(engine) as session:
        rows = list_notifications(session, limit=10)
    engine.dispose()
    assert [r.symbol for r in rows] == ["G/TBT/N/EU/3", "G/TBT/N/EU/1", "G/TBT/N/EU/2"]


def test_an_address_matches_in_any_case_and_old_duplicates_are_reported(
    db_env,  # noqa: F811
    db_url,
):
    assert cli(db_env, "init").returncode == 0
    add = ["--sector", "footwear_leather", "--lang", "en", "--cadence", "immediate"]
    assert cli(db_env, "subscribers", "add", "Buyer@Example.COM", *add).returncode == 0
    again = cli(db_env, "subscribers", "add", "buyer@example.com", *add, "--confirmed")
    assert again.returncode == 0, again.stderr
    listed = cli(db_env, "subscribers", "list").stdout.decode().splitlines()
    assert len(listed) == 1 and listed[0].startswith("Buyer@example.com\tactive")
    # two rows stored by an older version that compared addresses exactly
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO subscriber (email, language, status, token, created_at) VALUES "
                "('BUYER@example.com', 'en', 'active', 'tok-2', :now)"
            ),
            {"now": NOW},
        )
    with Session(engine) as session:
        assert case_duplicates(session) == [["Buyer@example.com", "BUYER@example.com"]]
    engine.dispose()
    report = cli(db_env, "subscribers", "duplicates")
    assert report.returncode == 1 and b"Buyer@example.com  BUYER@example.com" in report.stdout
    ambiguous = one_error_line(cli(db_env, "subscribers", "add", "buyer@EXAMPLE.com", *add))
    assert "differ from 'buyer@example.com' only in letter case" in ambiguous
    assert len(cli(db_env, "subscribers", "list").stdout.decode().splitlines()) == 2


def test_an_unknown_sector_lists_the_valid_ids(db_env):  # noqa: F811
    assert cli(db_env, "init").returncode == 0
    line = one_error_line(cli(db_env, "list", "--sector", "shoes"))
    assert "unknown sector 'shoes'" in line and "footwear_leather" in line


def test_status_shows_sources_gaps_deliveries_and_the_lock_holder(
    db_env,  # noqa: F811
    db_url,
):
    assert cli(db_env, "init").returncode == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:
        for status, error in (("success", None), ("failed", "crawl of eping failed: HTTP 503")):
            conn.execute(
                text(
                    "INSERT INTO crawl_run (source, status, since, until, started_at, "
                    "finished_at, items, invalid, new, updated, error) VALUES ('eping', :s, "
                    ":d, :d, :t, :t, 5, 0, 5, 0, :e)"
                ),
                {"s": status, "d": NOW.date(), "t": NOW, "e": error},
            )
        conn.execute(
            text(
                "INSERT INTO enrichment_gap (source, symbol, what, error, attempts, "
                "first_seen_at, last_tried_at) VALUES ('eping', 'G/TBT/N/EU/1', 'related', "
                "'HTTP 500', 2, :t, :t)"
            ),
            {"t": NOW},
        )
    with Session(engine) as session:
        add_subscriber(
            session,
            "a@example.com",
            sectors=["toys_playground"],
            known_sectors=["toys_playground"],
            confirmed=True,
            now=NOW,
        )
        session.commit()
    shown = cli(db_env, "status")
    out = shown.stdout.decode()
    assert shown.returncode == 0, shown.stderr
    assert "lock        free" in out and "schema      0011 (newest 0011)" in out
    assert "eping    last failed" in out and "failures in a row 1" in out
    assert "error: crawl of eping failed: HTTP 503" in out
    assert "gaps        1 open" in out and "related of G/TBT/N/EU/1" in out
    with acquire_leadership(engine):  # a daemon or a run holds the lock: status still reads
        data = json.loads(cli(db_env, "status", "--json").stdout)
    engine.dispose()
    assert data["lock_holder"] and data["gaps"]["open"] == 1
    assert data["sources"][0]["last_run"]["status"] == "failed"
    assert data["deliveries"]["due"] == 0 and data["runs_abandoned"] == 0
