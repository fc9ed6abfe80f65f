"""Reading the database through its DB-API driver alone (stdlib sqlite3, or psycopg for
PostgreSQL): analysts' read-only commands run a few SQL queries and so need neither SQLAlchemy
nor SQLModel, which take longer to import than the queries take to run.

A ``Reader`` opens its own connection from the database URL (``open_reader``) or reads through
the connection of a SQLAlchemy session, inside its transaction (``Reader.of_session``), so the
same queries serve the one-shot commands and the interactive ones. SQL is written with ``?``
placeholders; the PostgreSQL reader turns them into psycopg's ``%s``."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tbt_alert.errors import StorageError

if TYPE_CHECKING:
    from sqlmodel import Session

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Every command checks the schema is current; reading the revision ids from the migration files
# keeps Alembic (and Mako, Pygments) out of commands that do not migrate: they start faster.
_REVISION = re.compile(r"^revision(?::[^=]*)? = [\"'](\w+)[\"']\s*$", re.M)
_DOWN_REVISION = re.compile(r"^down_revision(?::[^=]*)? = [\"'](\w+)[\"']\s*$", re.M)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]+@")
_SQLITE = re.compile(r"^sqlite(?:\+pysqlite)?://(?:/(?P<path>[^?]*))?(?:\?(?P<query>.*))?$")
# what a SQLite URL may say after "?" (as the engine takes it): the rest is refused by name
_SQLITE_OPTIONS = frozenset({"timeout", "uri", "check_same_thread", "cached_statements"})
_POSTGRES = re.compile(r"^(?:postgres|postgresql|postgresql\+psycopg)://(?P<rest>.*)$", re.S)


@cache
def migration_revisions() -> tuple[frozenset[str], frozenset[str]]:
    """Every revision the installed migration files define, and every one they revise."""
    revisions: set[str] = set()
    downs: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(_REVISION.findall(source))
        downs.update(_DOWN_REVISION.findall(source))
    return frozenset(revisions), frozenset(downs)


def linear_head() -> str | None:
    """The newest revision when the history is one line (else None: ask Alembic)."""
    revisions, downs = migration_revisions()
    heads = revisions - downs
    return next(iter(heads)) if len(heads) == 1 else None


@cache
def head_revision() -> str:
    """The newest revision: read from the migration files (one linear history), else asked of
    Alembic (branches, merges)."""
    return linear_head() or _alembic_head()


def _alembic_head() -> str:
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    if head is None:
        raise StorageError("no migration revisions are installed")
    return head


@dataclass
class Reader:
    """A DB-API connection and its dialect ("sqlite" or "postgresql")."""

    connection: Any
    dialect: str

    @property
    def sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if not self.sqlite:
            sql = sql.replace("?", "%s")
        try:
            cursor = self.connection.cursor()
            try:
                cursor.execute(sql, tuple(params))
                return list(cursor.fetchall())
            finally:
                cursor.close()
        except Exception as e:
            if _driver_error(e):
                raise StorageError(f"database error: {_first_line(e)}") from e
            raise

    def execute(self, sql: str) -> None:
        self.rows(sql)

    @classmethod
    def of_session(cls, session: Session) -> Reader:
        """Read through the session's own connection, in its transaction."""
        dialect = session.get_bind().dialect.name
        return cls(session.connection().connection.driver_connection, dialect)


def _driver_error(e: Exception) -> bool:
    import sqlite3
    import sys

    if isinstance(e, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(e, psycopg.Error)


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return lines[0] if lines else e.__class__.__name__


def shown(url: str) -> str:
    """``url`` with its password masked."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def _sqlite_options(query: str) -> tuple[float, bool, str]:
    """The busy timeout (seconds), URI mode and URI parameters a SQLite URL's query string asks
    for, read as the engine reads them (with uri=true, other parameters belong to the URI)."""
    from urllib.parse import parse_qsl, urlencode

    timeout, uri, rest = 30.0, False, []
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "timeout":
            try:
                timeout = float(value)
            except ValueError:
                raise StorageError(f"SQLite URL option timeout={value!r} is not a number") from None
        elif key == "uri":
            uri = value.lower() in ("1", "true", "yes")
        elif key not in _SQLITE_OPTIONS:
            rest.append((key, value))
    if rest and not uri:
        raise StorageError(
            f"SQLite URL option {rest[0][0]!r} is not one analysts' commands know: use "
            + ", ".join(sorted(_SQLITE_OPTIONS))
            + " (or uri=true with a file: URI)"
        )
    return timeout, uri, urlencode(rest)


def _connect(url: str) -> Reader:
    sqlite = _SQLITE.match(url)
    if sqlite:
        import sqlite3

        path = sqlite.group("path") or ":memory:"
        timeout, uri, params = _sqlite_options(sqlite.group("query") or "")
        plain = path.removeprefix("file:")
        if params:
            path = f"{path}?{params}"
        if path != ":memory:" and not Path(plain).exists():
            raise StorageError(f"no database at {plain}: run 'tbt-alert init' to create it")
        try:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, uri=uri)
            conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as e:
            raise StorageError(f"cannot reach the database: {_first_line(e)}") from e
        return Reader(conn, "sqlite")
    postgres = _POSTGRES.match(url)
    if postgres:
        import psycopg

        try:
            pg = psycopg.connect("postgresql://" + postgres.group("rest"))
        except psycopg.Error as e:
            raise StorageError(f"cannot reach the database: {_first_line(e)}") from e
        return Reader(pg, "postgresql")
    raise StorageError(
        f"database URL {shown(unquote(url))!r} is not one analysts' commands read: use "
        "sqlite:///PATH or postgresql://USER@HOST/DB"
    )


def current_revision(reader: Reader) -> str | None:
    if reader.sqlite:
        exists = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
    else:
        exists = "SELECT to_regclass('alembic_version') IS NOT NULL"
    found = reader.rows(exists)
    if not found or not found[0][0]:
        return None
    versions = [str(r[0]) for r in reader.rows("SELECT version_num FROM alembic_version")]
    if len(versions) > 1:
        raise StorageError(f"the database is at several schema revisions: {', '.join(versions)}")
    return versions[0] if versions else None


def schema_problem(current: str | None, *, newer_only: bool = False) -> str | None:
    """What is wrong with a database at schema revision ``current``, in one line, or None: a
    revision these migration files do not know (written by a newer tbt-alert) or, unless
    ``newer_only``, any revision but the newest."""
    head = head_revision()
    if current is not None and current not in migration_revisions()[0]:
        return (
            f"database schema {current} was written by a newer version of tbt-alert "
            f"(this version knows up to {head}): install the newer tbt-alert, "
            "or restore a backup made before the upgrade"
        )
    if current != head and not newer_only:
        found = current or "no schema"
        return f"database schema is at {found}, this version needs {head}: run 'tbt-alert init'"
    return None


def require_current(reader: Reader) -> None:
    """Refuse a database whose schema is not at the newest revision (as the engine's check)."""
    problem = schema_problem(current_revision(reader))
    if problem is not None:
        raise StorageError(problem)


@contextmanager
def open_reader(url: str) -> Iterator[Reader]:
    """A connection for reading, to a database whose schema is current; closed after."""
    reader = _connect(url)
    try:
        if reader.sqlite:  # one snapshot for every query (PostgreSQL: the driver's transaction)
            reader.execute("BEGIN")
        require_current(reader)
        yield reader
    finally:
        reader.connection.close()
