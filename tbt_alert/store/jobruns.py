"""Every finished run of a scheduled job (the daemon's jobs, ``run --once``, ``digest``): one row
written after the job ended, read by ``tbt-alert status``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from tbt_alert.store.tables import JobRun

JOBS = ("cycle", "daily-digest", "weekly-digest")


def one_line(error: str | None) -> str | None:
    """The first non-empty line of ``error``, at most 300 characters, NUL bytes removed."""
    if not error:
        return None
    lines = [line.strip() for line in error.replace("\x00", "").splitlines() if line.strip()]
    return lines[0][:300] if lines else None


def record_job_run(
    engine: Engine,
    job: str,
    started_at: datetime,
    finished_at: datetime,
    *,
    ok: bool,
    error: str | None = None,
) -> None:
    """Store one finished run; ``error`` must already be redacted (only its first line is kept)."""
    with Session(engine) as session:
        session.add(
            JobRun(
                job=job,
                started_at=started_at,
                finished_at=finished_at,
                outcome="ok" if ok else "failed",
                error=one_line(error),
            )
        )
        session.commit()


def record_run(
    engine: Engine,
    job: str,
    started_at: datetime,
    finished_at: datetime,
    ok: bool,
    error: str | None,
) -> None:
    """:func:`record_job_run` with positional arguments (the daemon's recorder)."""
    record_job_run(engine, job, started_at, finished_at, ok=ok, error=error)


def last_job_runs(session: Session) -> dict[str, JobRun]:
    """The newest run of each job that ever ran."""
    newest = select(JobRun.job, func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery()
    rows = session.exec(
        select(JobRun).join(newest, col(JobRun.id) == newest.c.id).order_by(col(JobRun.job))
    ).all()
    return {row.job: row for row in rows}


def failures_in_a_row(session: Session, job: str, limit: int = 50) -> int:
    outcomes = session.exec(
        select(JobRun.outcome).where(JobRun.job == job).order_by(col(JobRun.id).desc()).limit(limit)
    ).all()
    count = 0
    for outcome in outcomes:
        if outcome == "ok":
            break
        count += 1
    return count
