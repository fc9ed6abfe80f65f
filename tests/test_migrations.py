"""Schema migrations on both backends: one head, no drift from the models, down and up again,
and rows that exist before an upgrade survive it."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import SQLModel

from tbt_alert.store.engine import (
    alembic_config,
    alembic_config_for_scripts,
    current_revision,
    make_engine,
    upgrade,
)
from tbt_alert.store.tables import include_object


def test_one_head_and_a_linear_history():
    script = ScriptDirectory.from_config(alembic_config_for_scripts())
    assert len(script.get_heads()) == 1
    revisions = list(script.walk_revisions())
    assert [r.revision for r in reversed(revisions)] == [
        "0001",
        "0002",
        "0003",
        "0004",
        "0005",
        "0006",
        "0007",
        "0008",
        "0009",
        "0010",
        "0011",
    ]


def test_the_models_match_the_migrated_schema_and_it_goes_down_and_up(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert (
            compare_metadata(
                MigrationContext.configure(conn, opts={"include_object": include_object}),
                SQLModel.metadata,
            )
            == []
        )
    command.downgrade(alembic_config(engine), "base")
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == "0011"
    engine.dispose()


def test_rows_stored_before_an_upgrade_survive_it(db_url):
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notification (symbol, measure_key, kind, member_code, member_name, markets, "
                "joint_symbols, title, hs_codes, ics_codes, document_links, content_hash, first_seen_at, "
                "updated_at, alert_sectors, horizontal, classified_hash) VALUES ('G/TBT/N/EU/1', "
                "'G/TBT/N/EU/1', 'regular', 'EU', 'European Union', '[\"EU\"]', '[]', 'Toys', '[\"9503\"]', "
                "'[]', '[]', 'abc', '2026-11-01 00:00:00', '2026-11-01 00:00:00', '[\"toys_playground\"]', "
                "false, 'old-stamp')"
            )
        )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT symbol, title, events, parallel_key, classified_hash FROM notification")
        ).one()
    assert row.symbol == "G/TBT/N/EU/1" and row.title == "Toys"
    assert (
        row.events in ([], "[]") and row.parallel_key is None and row.classified_hash == "old-stamp"
    )
    engine.dispose()


def test_the_entry_into_force_of_rows_stored_before_is_read_from_their_sources(db_url):
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0007")
    payload = '{"symbol": "G/TBT/N/EU/1", "proposed_entry_into_force": "1 March 2027"}'
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO notification (id, symbol, measure_key, kind, member_code, member_name, "
                "markets, joint_symbols, title, hs_codes, ics_codes, document_links, content_hash, "
                "first_seen_at, updated_at, alert_sectors, horizontal, classified_hash, events) "
                "VALUES (1, 'G/TBT/N/EU/1', 'G/TBT/N/EU/1', 'regular', 'EU', 'European Union', "
                "'[\"EU\"]', '[]', 'Toys', '[]', '[]', '[]', 'abc', '2026-11-01 00:00:00', "
                "'2026-11-01 00:00:00', '[]', false, 'old-stamp', '[]')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO source_record (source, source_key, notification_id, payload, "
                "content_hash, first_seen_at, fetched_at) VALUES ('eping', '1', 1, :payload, "
                "'abc', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
            ),
            {"payload": payload},
        )
    upgrade(engine)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT proposed_entry_into_force, classified_hash FROM notification")
        ).one()
    assert str(row.proposed_entry_into_force) == "2027-03-01"
    assert row.classified_hash is None  # classified again, so risk weighs the date
    engine.dispose()
