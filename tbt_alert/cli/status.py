"""``tbt-alert status``: what an operator reads (a thin view over :mod:`tbt_alert.store.health`)."""

from __future__ import annotations

import json
from typing import Any

import click

from tbt_alert.cli.context import Context, now_utc, pass_ctx


@click.command(name="status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as one JSON object.")
@pass_ctx
def status_cmd(obj: Context, as_json: bool) -> None:
    """Show the state of this installation: schema version, who holds the crawl lock (a daemon or
    a run), the last run of each source with its failures in a row, open enrichment gaps (details
    or documents that failed and are retried), deliveries due and waiting (the oldest), and
    abandoned runs. Reads only; works beside a running daemon."""
    from tbt_alert.daemon.leader import lock_holder
    from tbt_alert.store.engine import current_revision, head_revision, session_scope
    from tbt_alert.store.health import health_report

    engine = obj.engine()
    try:
        with session_scope(engine) as session:
            report = health_report(session, now_utc())
        report["schema"] = {"current": current_revision(engine), "newest": head_revision()}
        report["lock_holder"] = lock_holder(engine)
    finally:
        engine.dispose()
    click.echo(json.dumps(report, indent=2) if as_json else "\n".join(text_lines(report)))


def text_lines(report: dict[str, Any]) -> list[str]:
    schema = report["schema"]
    lines = [
        f"schema      {schema['current']} (newest {schema['newest']})",
        f"lock        {report['lock_holder'] or 'free (no daemon or run is crawling or sending)'}",
    ]
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
    lines.append(
        f"runs        {report['runs_running']} running, {report['runs_abandoned']} abandoned"
    )
    return lines
