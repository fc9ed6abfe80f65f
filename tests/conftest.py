"""Shared test fixtures. Module-specific fixtures live in their test modules or tests/support_*.py."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite files under tests/golden/ from the current output instead of comparing",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


# --- databases: every test that takes ``engine`` runs on SQLite and on PostgreSQL ---------------

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

PG_URL = os.environ.get("TBT_ALERT_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_engine(schema: str) -> Engine:
    from sqlmodel import create_engine

    url = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    return create_engine(url, connect_args={"options": f"-csearch_path={schema}"})


def _pg_available() -> bool:
    from sqlmodel import create_engine

    try:
        eng = create_engine(
            PG_URL.replace("postgresql://", "postgresql+psycopg://", 1),
            connect_args={"connect_timeout": 3},
        )
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL with an empty database: a fresh SQLite file, or a fresh PostgreSQL schema.

    PostgreSQL is required; set TBT_ALERT_TEST_SKIP_PG=1 to skip those cases on a machine without it.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    if os.environ.get("TBT_ALERT_TEST_SKIP_PG") == "1":
        pytest.skip("TBT_ALERT_TEST_SKIP_PG=1")
    if not _pg_available():
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_URL} (set TBT_ALERT_TEST_SKIP_PG=1 to skip)"
        )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = _pg_engine("public")
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """A migrated engine on each backend."""
    from tbt_alert.store.engine import make_engine, upgrade

    eng = make_engine(db_url)
    upgrade(eng)
    yield eng
    eng.dispose()


# the real SMTP sink fixture, for every test module
from tests.support_smtp import smtp_sink  # noqa: E402, F401
