"""One active daemon per database (a second one started against it waits, it never runs jobs
too), and one process that crawls or sends: ``run``, ``crawl``, ``digest`` and ``backfill`` take
the same lock.

APScheduler 3.x cannot share a job store between processes, so the daemon takes a lock that lives
exactly as long as its process:

* PostgreSQL: a session-level advisory lock, ``pg_try_advisory_lock(LOCK_CLASS, <schema key>)``,
  on a dedicated autocommit connection held for the daemon's life. The first key is fixed for
  tbt-alert; the second is derived from the schema (``current_schema()``), so two installations in
  two schemas of one database do not exclude each other. The server drops the lock when the
  session ends, including when the process is killed with SIGKILL.
* SQLite: an exclusive, non-blocking ``fcntl.flock`` on ``<database file>.daemon.lock``, which the
  kernel drops when the process dies. The file holds the holder's pid; it is never deleted
  (deleting a lock file races with a newcomer opening it).

A second daemon does not wait as a standby: :func:`acquire_leadership` raises
:class:`AlreadyRunning` and the command exits non-zero. Run it under a supervisor (systemd
``Restart=on-failure``) if a takeover after the leader dies is wanted.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from tbt_alert.errors import StorageError, TbtAlertError
from tbt_alert.store.engine import describe_db_error

LOCK_CLASS = 0x7B7A_0001  # "tbt-alert daemon": the first key of the PostgreSQL advisory lock
_KEYS = "CAST(:a AS integer), CAST(:b AS integer)"
TRY_LOCK = text(f"SELECT pg_try_advisory_lock({_KEYS})")
UNLOCK = text(f"SELECT pg_advisory_unlock({_KEYS})")
HOLDER = text(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
    " AND classid = CAST(:a AS oid) AND objid = CAST(:b AS oid)"
)


class AlreadyRunning(TbtAlertError):
    """Another tbt-alert daemon holds the lock for this database."""


class LeadershipLost(TbtAlertError):
    """The lock was lost while the daemon ran (e.g. its PostgreSQL session was terminated)."""


class Leadership:
    """A held lock; release it with :meth:`release` or by leaving the ``with`` block."""

    description: str

    def check(self) -> None:
        """Raise :class:`LeadershipLost` when the lock is no longer held."""

    def release(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class FileLeadership(Leadership):
    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path, self._handle = path, handle
        self.description = f"file lock {path}"

    def release(self) -> None:
        if self._handle.closed:
            return
        fcntl.flock(self._handle, fcntl.LOCK_UN)
        self._handle.close()


class AdvisoryLeadership(Leadership):
    def __init__(self, conn: Connection, key: tuple[int, int], schema: str) -> None:
        self._conn, self.key = conn, key
        self.description = f"PostgreSQL advisory lock ({key[0]}, {key[1]}) for schema {schema}"

    def check(self) -> None:
        try:
            own = self._conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
            held = _holder_pid(self._conn, self.key) == own
        except SQLAlchemyError as e:
            raise LeadershipLost(
                f"lost the database session holding the {self.description}: {e.__class__.__name__}"
            ) from e
        if not held:
            raise LeadershipLost(f"the {self.description} is no longer held")

    def release(self) -> None:
        if self._conn.closed:
            return
        try:
            self._conn.execute(UNLOCK, {"a": self.key[0], "b": self.key[1]})
        except SQLAlchemyError:
            pass  # the session is gone, and the lock with it
        finally:
            self._conn.invalidate()  # never hand a session that held the lock back to the pool
            self._conn.close()


def acquire_leadership(engine: Engine) -> Leadership:
    """Take the single-daemon lock for the database of ``engine``; AlreadyRunning if taken."""
    backend = engine.url.get_backend_name()
    if backend == "sqlite":
        return _file_lock(engine)
    if backend == "postgresql":
        return _advisory_lock(engine)
    raise StorageError(f"the daemon supports SQLite and PostgreSQL, not {backend}")


def lock_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise StorageError("the daemon needs a SQLite database file, not an in-memory database")
    return Path(f"{database}.daemon.lock")


def _file_lock(engine: Engine) -> FileLeadership:
    path = lock_path(engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown"
        handle.close()
        raise AlreadyRunning(
            f"another tbt-alert process (pid {holder}: the daemon, or a run, crawl, digest or "
            f"backfill) is already running for this database: {path} is locked; wait for it "
            "or stop it"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return FileLeadership(path, handle)


def schema_key(schema: str) -> int:
    """The second advisory-lock key: a stable positive 31-bit hash of the schema name."""
    return zlib.crc32(schema.encode("utf-8")) & 0x7FFF_FFFF


def _advisory_lock(engine: Engine) -> AdvisoryLeadership:
    try:
        conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    except SQLAlchemyError as e:
        raise StorageError(f"cannot reach the database: {describe_db_error(e)}") from e
    try:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        key = (LOCK_CLASS, schema_key(schema))
        got = conn.execute(TRY_LOCK, {"a": key[0], "b": key[1]}).scalar_one()
        holder = None if got else _holder_pid(conn, key)
    except BaseException:
        conn.invalidate()
        conn.close()
        raise
    if not got:
        conn.close()
        raise AlreadyRunning(
            f"another tbt-alert process (the daemon, or a run, crawl, digest or backfill) is "
            f"already running for this database (schema {schema}): PostgreSQL advisory lock "
            f"({key[0]}, {key[1]}) is held by server process {holder}; wait for it or stop it"
        )
    return AdvisoryLeadership(conn, key, schema)


def _holder_pid(conn: Connection, key: tuple[int, int]) -> int | None:
    return conn.execute(HOLDER, {"a": key[0], "b": key[1]}).scalar()


def lock_holder(engine: Engine) -> str | None:
    """Who holds the lock now (for ``status``), or None when it is free. On SQLite the probe
    takes the file lock for an instant when it is free."""
    backend = engine.url.get_backend_name()
    if backend == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            pid = _holder_pid(conn, (LOCK_CLASS, schema_key(schema)))
        return f"PostgreSQL server process {pid}" if pid is not None else None
    path = lock_path(engine)
    if not path.exists():
        return None
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return f"pid {handle.read().strip() or 'unknown'} ({path})"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None
