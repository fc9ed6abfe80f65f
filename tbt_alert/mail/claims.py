"""Claims: a delivery is taken by exactly one sender before it is sent.

A claim is one conditional UPDATE that moves due deliveries to ``sending`` with the sender's id
and a lease. On PostgreSQL the candidates are picked with ``FOR UPDATE SKIP LOCKED``, so
concurrent senders take disjoint batches without waiting; on SQLite the UPDATE holds the write
lock and its WHERE clause re-checks that each row is still due. A sender records an outcome with
one UPDATE keyed on its own claim: when the lease ran out and another sender took the delivery,
the late record changes nothing. An expired lease (a sender killed mid-send) makes the delivery
due again; it is retried with the same Message-ID, so a copy it may have sent is recognisable.

Every transaction here is one statement long: no read stays open while another sender writes.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import custom_op

from tbt_alert.status import DeliveryStatus
from tbt_alert.store.tables import Delivery, Subscriber

RETRYABLE = (DeliveryStatus.PLANNED, DeliveryStatus.FAILED_TEMP, DeliveryStatus.UNKNOWN)
WAITING = (*RETRYABLE, DeliveryStatus.SENDING)
_T = Delivery.__table__  # type: ignore[attr-defined]
_ANALYZED = (_T.name, Subscriber.__table__.name)  # type: ignore[attr-defined]
log = logging.getLogger(__name__)


def worker_id(index: int = 0) -> str:
    """``host:pid:index:random``: unique among concurrent senders, readable in the table."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{index}:{secrets.token_hex(4)}"


def due_clause(now: datetime, status: Any = None) -> Any:
    """Due now: waiting and its time has come, or claimed by a sender whose lease ran out.
    ``status``: the expression to read the status through (default: the column)."""
    status = _T.c.status if status is None else status
    waiting = and_(
        status.in_([s.value for s in RETRYABLE]),
        or_(_T.c.next_attempt_at.is_(None), _T.c.next_attempt_at <= now),
    )
    expired = and_(
        status == DeliveryStatus.SENDING.value,
        or_(_T.c.lease_until.is_(None), _T.c.lease_until <= now),
    )
    return or_(waiting, expired)


# SQLite's planner reads a claim's status terms through the status index: every waiting row,
# then a sort, on every claim of a run (quadratic in the deliveries of a run). Its documented
# unary + keeps a term off the index, so the claim reads the primary key from ``after`` on.
_STATUS_UNINDEXED = UnaryExpression(_T.c.status, operator=custom_op("+"), type_=_T.c.status.type)


def claim(
    engine: Engine,
    worker: str,
    *,
    now: datetime,
    lease: timedelta,
    limit: int,
    after: int = 0,
) -> list[int]:
    """Claim up to ``limit`` due deliveries with ids above ``after`` (lowest first) for
    ``worker``; their ids. A sender passes the last id it claimed, so each claim reads on from
    there instead of passing again over every delivery already sent; when nothing is left above
    it, it asks once more from 0 for retries and expired leases."""
    if limit <= 0:
        return []
    # from the start (the first claim of a run, the last), the status index is the short way
    unindexed = engine.dialect.name == "sqlite" and after > 0
    due = due_clause(now, _STATUS_UNINDEXED if unindexed else None)
    candidates = select(_T.c.id).where(_T.c.id > after, due).order_by(_T.c.id).limit(limit)
    claimed = {
        "status": DeliveryStatus.SENDING.value,
        "claimed_by": worker,
        "lease_until": now + lease,
    }
    if engine.dialect.name == "postgresql":
        # a CTE runs once: an IN (subquery) may be rescanned, and each SKIP LOCKED rescan
        # would add rows beyond the limit
        picked = candidates.with_for_update(skip_locked=True).cte("picked")
        stmt = update(_T).where(_T.c.id == picked.c.id, due).values(claimed).returning(_T.c.id)
    else:  # one writer at a time: the UPDATE re-checks, under the write lock, that rows are due
        stmt = (
            update(_T)
            .where(_T.c.id.in_(candidates.scalar_subquery()), due)
            .values(claimed)
            .returning(_T.c.id)
        )
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":  # as for records: see record_connection
            conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        return sorted(int(row[0]) for row in conn.execute(stmt))


# Built once: a statement made per record costs more than the database's work.
_RECORD = (
    update(_T)
    .where(
        _T.c.id == bindparam("delivery_id"),
        _T.c.claimed_by == bindparam("worker"),
        _T.c.status == DeliveryStatus.SENDING.value,
    )
    .values(
        status=bindparam("new_status"),
        attempts=bindparam("new_attempts"),
        last_error=bindparam("new_error"),
        sent_at=bindparam("new_sent_at", type_=_T.c.sent_at.type),
        next_attempt_at=bindparam("new_next", type_=_T.c.next_attempt_at.type),
        claimed_by=None,
        lease_until=None,
    )
)


@dataclass(frozen=True)
class Outcome:
    """What to write for a delivery when its claim ends."""

    status: DeliveryStatus
    attempts: int
    last_error: str | None = None
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None


_OUTCOME_PARAMS = ("new_status", "new_attempts", "new_error", "new_sent_at", "new_next")


def _outcome_values(outcome: Outcome) -> tuple[Any, ...]:
    """The values of an outcome, in the order of ``_OUTCOME_PARAMS``."""
    error = outcome.last_error[:500] if outcome.last_error else None
    return (outcome.status.value, outcome.attempts, error, outcome.sent_at, outcome.next_attempt_at)


def record(engine: Engine, delivery_id: int, worker: str, outcome: Outcome) -> bool:
    """Write an outcome and end the claim, only while ``worker`` still holds it; False otherwise.
    One statement, its own transaction (a sender with many records keeps a
    :class:`RecordWriter`)."""
    params = {"delivery_id": delivery_id, "worker": worker}
    params.update(zip(_OUTCOME_PARAMS, _outcome_values(outcome), strict=True))
    with engine.begin() as conn:
        return bool(conn.execute(_RECORD, params).rowcount == 1)


def record_connection(engine: Engine) -> Connection:
    """A connection for records. On PostgreSQL each record is one autocommitted statement (one
    round trip) that does not wait for the WAL flush (``synchronous_commit`` off for this
    session; claims do the same): a sender killed after it loses nothing, since the server
    has the commit; only a crash of the database server itself within a fraction of a second
    could lose it, and then the delivery is sent again after its lease with the same
    Message-ID, as at-least-once allows. On SQLite (no round trips; WAL with
    synchronous=NORMAL) a plain connection."""
    conn = engine.connect()
    if engine.dialect.name == "postgresql":
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.exec_driver_sql("SET synchronous_commit TO OFF")
    return conn


class RecordWriter:
    """:func:`record` for one sender's many outcomes, on a :func:`record_connection`: the same
    UPDATE and values, each its own transaction, but compiled once for the database and run on
    the DB-API connection underneath. SQLAlchemy's work per execution was about 0.13 ms of
    Python per record, held while the sending thread waited to read the mail server's reply;
    here it is about a tenth of that. Make and use it on one thread (SQLite's rule)."""

    def __init__(self, engine: Engine) -> None:
        self._conn = record_connection(engine)
        try:
            dialect = engine.dialect
            compiled = _RECORD.compile(dialect=dialect)
            names = ("delivery_id", "worker", *_OUTCOME_PARAMS)
            fixed = compiled.construct_params(dict.fromkeys(names))
            # each value goes through its column type's conversion for this database, as
            # SQLAlchemy would do (SQLite's DATETIME text, say)
            self._convert = {
                name: compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect)
                for name in fixed
            }
            self._fixed = {
                name: self._process(name, value)
                for name, value in fixed.items()
                if name not in names
            }
            self._sql = compiled.string
            self._order = tuple(compiled.positiontup or ()) if compiled.positional else None
            raw = self._conn.connection.driver_connection
            if raw is None:
                raise RuntimeError("no DB-API connection under the record connection")
            self._raw, self._dialect = raw, dialect
            self._errors = dialect.loaded_dbapi.Error
            # PostgreSQL's record connection is in autocommit (record_connection), SQLite's
            # connections are made in autocommit mode (store.engine); otherwise each record is
            # committed here
            if dialect.name == "postgresql":
                self._autocommit = getattr(raw, "autocommit", None) is True
            else:
                self._autocommit = getattr(raw, "isolation_level", "") is None
            self._cursor = raw.cursor()
        except BaseException:
            self._conn.close()
            raise

    def _process(self, name: str, value: Any) -> Any:
        convert = self._convert[name]
        return value if convert is None or value is None else convert(value)

    def write(self, delivery_id: int, worker: str, outcome: Outcome) -> bool:
        """:func:`record`: True when this sender still held the claim and the outcome is written."""
        values = dict(self._fixed)
        values["delivery_id"], values["worker"] = delivery_id, worker
        for name, value in zip(_OUTCOME_PARAMS, _outcome_values(outcome), strict=True):
            values[name] = self._process(name, value)
        params = values if self._order is None else tuple(values[n] for n in self._order)
        try:
            self._cursor.execute(self._sql, params)
            written = self._cursor.rowcount == 1
            if not self._autocommit:
                self._raw.commit()
        except self._errors as e:  # as SQLAlchemy reports it, so callers' handling applies
            lost = self._dialect.is_disconnect(e, self._raw, self._cursor)
            if lost:
                self._conn.invalidate(e)
            elif not self._autocommit:
                self._raw.rollback()
            raise DBAPIError.instance(
                self._sql,
                params,
                e,
                self._errors,
                connection_invalidated=lost,
                dialect=self._dialect,
            ) from e
        return bool(written)

    def close(self) -> None:
        try:
            self._cursor.close()
        finally:
            self._conn.close()


STATISTICS_AFTER = 1000  # deliveries waiting, below which no plan of ours can go far wrong


def refresh_statistics(engine: Engine) -> bool:
    """On PostgreSQL, ANALYZE the delivery and subscriber tables when the planner's statistics
    put the deliveries waiting at less than half their real number (a plan has just added them
    and autovacuum has not caught up): with such estimates every claim reads and sorts all
    waiting rows. True when it asked; a failure (another ANALYZE holding the table for more
    than two seconds, a role that may not) is logged and sending goes on."""
    if engine.dialect.name != "postgresql":
        return False
    waiting = [s.value for s in WAITING]
    try:
        with engine.connect() as conn:
            count = int(
                conn.execute(select(func.count()).where(_T.c.status.in_(waiting))).scalar() or 0
            )
            if count < STATISTICS_AFTER:
                return False
            believed = conn.execute(_BELIEVED, {"table": _T.name, "waiting": waiting}).scalar()
        if float(believed or 0) >= count / 2:
            return False
        names = ", ".join(engine.dialect.identifier_preparer.quote(t) for t in _ANALYZED)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            conn.exec_driver_sql(f"ANALYZE {names}")
    except SQLAlchemyError as e:
        log.warning("could not refresh the planner's statistics: %s", e)
        return False
    log.info("asked for fresh planner statistics: %d deliveries waiting", count)
    return True


# The planner's estimate of the waiting deliveries: the table's row estimate times the share
# its statistics give the waiting statuses (0 when the table was never analysed).
_BELIEVED = text(
    """
    SELECT greatest(c.reltuples, 0) * coalesce((
        SELECT sum(f.freq)
        FROM pg_stats s,
             unnest(s.most_common_vals::text::text[], s.most_common_freqs) AS f(val, freq)
        WHERE s.schemaname = n.nspname AND s.tablename = c.relname AND s.attname = 'status'
          AND f.val = ANY(:waiting)
    ), 0)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = CAST(:table AS regclass)
    """
)


def release(engine: Engine, worker: str, ids: list[int]) -> int:
    """Give back claimed deliveries that were not tried (run deadline, breaker): due again now."""
    if not ids:
        return 0
    stmt = (
        update(_T)
        .where(
            _T.c.id.in_(ids),
            _T.c.claimed_by == worker,
            _T.c.status == DeliveryStatus.SENDING.value,
        )
        .values(
            status=case(
                (_T.c.attempts == 0, DeliveryStatus.PLANNED.value),
                else_=DeliveryStatus.FAILED_TEMP.value,
            ),
            claimed_by=None,
            lease_until=None,
        )
    )
    with engine.begin() as conn:
        return int(conn.execute(stmt).rowcount)


@dataclass(frozen=True)
class Backlog:
    """What is still waiting to be sent after a run."""

    due_now: int = 0
    due_later: int = 0
    failed_temp: int = 0  # of the waiting: a temporary failure or an unknown outcome before
    in_flight: int = 0  # claimed by a sender right now
    oldest: datetime | None = None  # when the oldest waiting delivery was planned
    next_at: datetime | None = None  # the next retry time

    @property
    def total(self) -> int:
        return self.due_now + self.due_later + self.in_flight

    def line(self) -> str:
        if not self.total:
            return "nothing"
        parts = [f"{self.due_now} due now", f"{self.due_later} due later"]
        if self.next_at is not None:
            parts[-1] += f" (next {self.next_at:%Y-%m-%d %H:%M} UTC)"
        parts.append(f"{self.failed_temp} failed temporarily")
        if self.in_flight:
            parts.append(f"{self.in_flight} being sent")
        if self.oldest is not None:
            parts.append(f"oldest waiting since {self.oldest:%Y-%m-%d %H:%M} UTC")
        return ", ".join(parts)


def backlog(engine: Engine, now: datetime) -> Backlog:
    """Deliveries not yet sent nor given up, counted in one read."""
    waiting = _T.c.status.in_([s.value for s in WAITING])
    due = due_clause(now)
    sending = _T.c.status == DeliveryStatus.SENDING.value
    retried = _T.c.status.in_([DeliveryStatus.FAILED_TEMP.value, DeliveryStatus.UNKNOWN.value])
    stmt = select(
        func.count().filter(due),
        func.count().filter(~due, ~sending),
        func.count().filter(retried),
        func.count().filter(~due, sending),
        func.min(_T.c.created_at),
        func.min(_T.c.next_attempt_at).filter(~due, ~sending),
    ).where(waiting)
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    due_now, due_later, failed_temp, in_flight = (int(v or 0) for v in row[:4])
    return Backlog(due_now, due_later, failed_temp, in_flight, oldest=row[4], next_at=row[5])
