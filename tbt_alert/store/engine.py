"""Engine, sessions and schema migrations (Alembic, run from code: no alembic.ini needed)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, create_engine

from tbt_alert.errors import StorageError
from tbt_alert.store.dbapi import MIGRATIONS, head_revision, schema_problem

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Every command checks the schema is current; the revision ids are read from the migration
# files (store.dbapi), which keeps Alembic out of commands that do not migrate.


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling turns every SAVEPOINT into a commit with an fsync;
    # let SQLAlchemy emit BEGIN itself (the documented recipe) so savepoints stay cheap.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable across crashes of the process in WAL mode
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN")


SUPPORTED = "sqlite:///PATH or postgresql://USER@HOST/DB (a password in the URL or PGPASSWORD)"
# schemes people write for PostgreSQL; the driver tbt-alert installs is psycopg 3
POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}


def shown(url: str) -> str:
    """``url`` with its password masked: the only form of a database URL ever printed."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return re.sub(r"(://[^:/@\s]*:)[^@\s]+@", r"\1***@", url)


def make_engine(url: str) -> Engine:
    """Create an engine; SQLite gets WAL, foreign keys and a busy timeout, and its folder.
    ``postgres://`` is read as ``postgresql://``; another backend is refused by name."""
    try:
        parsed = make_url(url)
    except Exception as e:  # SQLAlchemy raises ArgumentError; message names the URL shape
        raise StorageError(f"database URL {shown(url)!r} is not valid: use {SUPPORTED}") from e
    scheme = parsed.drivername
    if parsed.get_backend_name() == "sqlite" and scheme in ("sqlite", "sqlite+pysqlite"):
        _sqlite_folder(parsed.database)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if scheme in POSTGRES_SCHEMES:
        return create_engine(parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True)
    raise StorageError(
        f"database URL scheme {scheme!r} is not supported ({shown(url)}): use {SUPPORTED}"
    )


def _sqlite_folder(database: str | None) -> None:
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StorageError(
            f"cannot create the data directory {folder}: {e.strerror or e}; set data_dir "
            "(TBT_ALERT_DATA_DIR) or [database] url to a place this user can write"
        ) from e


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to the newest revision; return it."""
    from alembic import command

    refuse_newer(engine)
    try:
        command.upgrade(alembic_config(engine), "head")
    except SQLAlchemyError as e:
        raise StorageError(f"cannot migrate the database: {describe_db_error(e)}") from e
    return head_revision()


def describe_db_error(e: BaseException) -> str:
    """The driver's own first line (SQLAlchemy keeps it in ``orig``), not just a class name."""
    orig = getattr(e, "orig", None)
    text = str(orig if orig is not None else e).strip().splitlines()
    return text[0] if text and text[0] else e.__class__.__name__


def refuse_newer(engine: Engine) -> None:
    """A schema written by a newer tbt-alert cannot be used, nor migrated down: say so."""
    problem = schema_problem(current_revision(engine), newer_only=True)
    if problem is not None:
        raise StorageError(problem)


def alembic_config_for_scripts() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError as e:
        raise StorageError(f"cannot reach the database: {describe_db_error(e)}") from e
    if len(found) > 1:
        raise StorageError(f"the database is at several schema revisions: {', '.join(found)}")
    return found[0] if found else None


def require_current(engine: Engine) -> None:
    """Refuse to work on a database whose schema is not at the newest revision."""
    problem = schema_problem(current_revision(engine))
    if problem is not None:
        raise StorageError(problem)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
