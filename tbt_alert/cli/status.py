"""``tbt-alert status``: what an operator reads (a thin view over :mod:`tbt_alert.store.health`)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click
from sqlmodel import Session

from tbt_alert.cli.context import Context, now_utc, pass_ctx
from tbt_alert.config import Config


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@pass_ctx
def status_cmd(obj: Context, as_json: bool) -> None:
    """Show the state of this installation: schema version, who holds the crawl lock (a daemon or
    a run), each job's last run (daemon, 'run --once', 'digest') and next run as the daemon
    schedules it from the configuration, the last run of each source with its failures in a
    row, open enrichment gaps (details or documents that failed and are retried), deliveries
    due and waiting (the oldest), comment calls whose internal deadline is within [comments]
    reminder_days, sources whose failures the operator was emailed about and that have not
    recovered yet, and abandoned runs. Reads only; works beside a running daemon."""
    from tbt_alert.daemon.leader import lock_holder
    from tbt_alert.store.engine import current_revision, head_revision, session_scope
    from tbt_alert.store.health import health_report

    engine = obj.engine()
    now = now_utc()
    try:
        with session_scope(engine) as session:
            report = health_report(session, now)
            report["jobs"] = jobs_report(session, obj.config, now)
            report["comment_calls_due"] = calls_report(session, obj.config, now)
        report["schema"] = {"current": current_revision(engine), "newest": head_revision()}
        report["lock_holder"] = lock_holder(engine)
    finally:
        engine.dispose()
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(text_lines(report)))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def jobs_report(session: Session, config: Config, now: datetime) -> list[dict[str, Any]]:
    """Each job's last recorded run and its next run as the daemon schedules it."""
    from tbt_alert.daemon.scheduler import next_runs
    from tbt_alert.store.jobruns import JOBS, failures_in_a_row, last_job_runs

    last = last_job_runs(session)
    cycle = last.get("cycle")
    upcoming = next_runs(config, cycle.started_at if cycle else None, now)
    out = []
    for job in JOBS:
        run = last.get(job)
        when = upcoming[job]
        out.append(
            {
                "job": job,
                "last_run": {
                    "started_at": _iso(run.started_at),
                    "finished_at": _iso(run.finished_at),
                    "outcome": run.outcome,
                    "error": run.error,
                }
                if run
                else None,
                "failures_in_a_row": failures_in_a_row(session, job),
                "next_run_at": _iso(when),
                "overdue": bool(when and when < now),
            }
        )
    return out


def calls_report(session: Session, config: Config, now: datetime) -> list[dict[str, Any]]:
    from tbt_alert.comments.reminders import calls_due

    today = now.astimezone(ZoneInfo(config.schedule.timezone)).date()
    return [
        {
            "symbol": c.symbol,
            "status": str(c.status),
            "internal_deadline": c.internal_deadline.isoformat(),
            "wto_deadline": c.wto_deadline.isoformat(),
            "days_left": (c.internal_deadline - today).days,
        }
        for c in calls_due(session, today, config.comments.reminder_days)
    ]


def job_lines(jobs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for j in jobs:
        last = j["last_run"]
        done = (
            f"last {last['outcome']} at {last['started_at']}"
            + (f" (failures in a row {j['failures_in_a_row']})" if last["outcome"] != "ok" else "")
            if last
            else "never ran"
        )
        nxt = j["next_run_at"] or "at daemon start"
        if j["overdue"]:
            nxt += " (overdue: no daemon ran it on time)"
        lines.append(f"job         {j['job']:13} {done}; next {nxt}")
        if last and last["error"]:
            lines.append(f"              error: {last['error']}")
    return lines


def text_lines(report: dict[str, Any]) -> list[str]:
    schema = report["schema"]
    lines = [
        f"schema      {schema['current']} (newest {schema['newest']})",
        f"lock        {report['lock_holder'] or 'free (no daemon or run is crawling or sending)'}",
    ]
    lines += job_lines(report.get("jobs", []))
    for s in report["sources"] or []:
        last = s["last_run"]
        lines.append(
            f"source      {s['source']:8} last {last['status']} at {last['started_at']} "
            f"({last['window']}, {last['items']} items, {last['new']} new); "
            f"last success {s['last_success_at'] or 'never'}; "
            f"failures in a row {s['failures_in_a_row']}"
        )
        if last["error"] and last["status"] != "success":
            lines.append(f"              error: {last['error']}")
    if not report["sources"]:
        lines.append("source      no crawl has run yet")
    gaps = report["gaps"]
    lines.append(f"gaps        {gaps['open']} open")
    lines += [
        f"              {g['what']} of {g['symbol']} ({g['source']}, {g['attempts']} attempt(s) "
        f"since {g['since']}): {g['error']}"
        for g in gaps["oldest"][:10]
    ]
    d = report["deliveries"]
    lines.append(
        f"deliveries  {d['due']} due (oldest since {d['oldest_due_since'] or '-'}), "
        f"{d['waiting']} waiting to retry (next at {d['next_attempt_at'] or '-'})"
    )
    lines += [
        f"incident    {a['source']}: operator alerted at {a['alerted_at']} after "
        f"{a['failures']} failed runs; not recovered yet"
        for a in report.get("operator_alerts", [])
    ]
    calls = report.get("comment_calls_due", [])
    lines.append(f"comments    {len(calls)} call(s) due")
    lines += [
        f"              {c['symbol']} ({c['status']}): internal deadline "
        f"{c['internal_deadline']}, "
        + (f"{c['days_left']} day(s) left" if c["days_left"] >= 0 else "passed")
        for c in calls
    ]
    lines.append(
        f"runs        {report['runs_running']} running, {report['runs_abandoned']} abandoned"
    )
    return lines
