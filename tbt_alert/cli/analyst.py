"""Analysts' commands: ``list``, ``show``, ``sources``, ``stats``."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tbt_alert.classify.risk import risk_from_json
from tbt_alert.cli.context import Context, now_utc, parse_day, pass_ctx
from tbt_alert.errors import InputError
from tbt_alert.mail.explain import explain
from tbt_alert.store.engine import session_scope
from tbt_alert.store.shapes import read_classification
from tbt_alert.store.tables import Notification

if TYPE_CHECKING:
    from tbt_alert.store.queries import Detail


def _line(row: Notification) -> str:
    sectors = ",".join(row.alert_sectors) or ("(horizontal)" if row.horizontal else "-")
    deadline = row.comment_deadline.isoformat() if row.comment_deadline else "-"
    distributed = row.distribution_date.isoformat() if row.distribution_date else "-"
    title = " ".join(row.title.split())
    return f"{row.symbol:28} {row.member_code:5} {distributed:10} {deadline:10} {sectors:30} {title[:70]}"


@click.command(name="list")
@click.option("--sector", help="Only notifications that concern this sector (alert or possible).")
@click.option("--since", help="Only notifications distributed on or after YYYY-MM-DD.")
@click.option("--relevant", is_flag=True, help="Only notifications with an alert-tier sector.")
@click.option(
    "--limit",
    type=click.IntRange(1, 100000),
    default=50,
    show_default=True,
    help="At most this many rows.",
)
@pass_ctx
def list_cmd(
    obj: Context, sector: str | None, since: str | None, relevant: bool, limit: int
) -> None:
    """List stored notifications, newest first (undated last): symbol, member, dates, sectors,
    title. An unknown --sector is an error that lists the valid ids."""
    from tbt_alert.store.queries import list_notifications

    if sector is not None:
        require_sector(obj, sector)
    with session_scope(obj.engine()) as session:
        rows = list_notifications(
            session,
            sector=sector,
            since=parse_day(since, "--since"),
            relevant_only=relevant,
            limit=limit,
        )
        click.echo(f"{'symbol':28} {'memb.':5} {'date':10} {'deadline':10} {'sectors':30} title")
        for row in rows:
            click.echo(_line(row))
    click.echo(f"{len(rows)} notification(s)", err=True)


def require_sector(obj: Context, sector: str) -> None:
    from tbt_alert.classify.rules import load_rules

    rules_path = obj.config.classify.rules_path
    ids = load_rules(Path(rules_path) if rules_path else None).ids
    if sector not in ids:
        raise InputError(f"unknown sector {sector!r}; valid sector ids: {', '.join(ids)}")


@click.command(name="show")
@click.argument("symbol")
@click.option("--json", "as_json", is_flag=True, help="Print the stored record as JSON.")
@pass_ctx
def show_cmd(obj: Context, symbol: str, as_json: bool) -> None:
    """Show one notification: its fields, sectors with reasons and risk, sources and deliveries."""
    from tbt_alert.store.queries import detail, find_notification
    from tbt_alert.triage.decisions import as_json as decision_json
    from tbt_alert.triage.decisions import decisions_of, describe, replay

    with session_scope(obj.engine()) as session:
        row = find_notification(session, symbol)
        if row is None:
            raise click.ClickException(f"no notification {symbol!r} is stored")
        info = detail(session, row)
        decisions = decisions_of(session, [row.id or 0]).get(row.id or 0, [])
    state = replay(row, decisions)
    if as_json:
        data = row.model_dump(mode="json", warnings=False)
        data["decisions"] = [decision_json(d) for d in decisions]
        data["labels"] = sorted(state.labels)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    for line in _detail_lines(info, now_utc().date()):
        click.echo(line)
    click.echo(
        f"labels       {', '.join(sorted(state.labels)) or '-'}"
        f"  (decision {state.status or 'none'}; assigned {state.assignee or '-'};"
        f" analyst's risk {state.risk or '-'})"
    )
    click.echo("decisions:" + ("" if decisions else " none"))
    for d in decisions:
        click.echo(f"  {describe(d)}")


def _detail_lines(info: Detail, today: date) -> list[str]:
    row = info.notification
    out = [
        f"{row.symbol}  ({row.kind})",
        f"member       {row.member_name} [{row.member_code}]",
        f"markets      {', '.join(row.markets) or '-'}",
        f"joint        {', '.join(row.joint_symbols) or '-'}",
        f"distributed  {row.distribution_date or '-'}",
        f"deadline     {row.comment_deadline or row.comment_deadline_text or '-'}",
        f"title        {row.title}",
        f"products     {row.products_text or '-'}",
        f"HS           {', '.join(row.hs_codes) or '-'}",
        f"ICS          {', '.join(row.ics_codes) or '-'}",
        f"objective    {row.objective or '-'}",
        f"document     {row.document_url or '-'}",
        f"horizontal   {'yes' if row.horizontal else 'no'}",
        "sectors:",
    ]
    classification = read_classification(row.classification)
    for s in classification["sectors"]:
        risk = risk_from_json(s["risk"]).at(today, row.comment_deadline)
        out.append(
            f"  {s['sector']} [{s['tier']}] score {s['score']:.2f} "
            f"risk {risk.level} ({risk.points} points today)"
        )
        reasons = explain(s["reasons"], "en", {}, internal=True)
        out.extend(f"      - {r}" for r in reasons)
        out.extend(f"      ! {r}" for r in explain(risk.reasons, "en", {}))
    if not classification["sectors"]:
        out.append("  (none)")
    out.append(f"description  {row.description or '-'}")
    out.append(
        "sources      " + (", ".join(f"{s.source}:{s.source_key}" for s in info.sources) or "-")
    )
    out.append("related      " + (", ".join(r.symbol for r in info.related) or "-"))
    state = info.measure
    dates = [
        f"{k} {v}"
        for k, v in (
            ("adopted", state.adopted_on),
            ("in force", state.in_force_on),
            ("withdrawn", state.withdrawn_on),
        )
        if v
    ]
    out.append(
        f"measure      {state.measure_key}: {state.stage}; comments due "
        f"{state.comment_deadline or '-'}" + "".join(f"; {d}" for d in dates)
    )
    out.extend(f"  {h}" for h in state.history)
    out.append(
        "deliveries   " + (", ".join(f"{k} {v}" for k, v in sorted(info.deliveries.items())) or "-")
    )
    return out


def error_gist(error: str, width: int = 600) -> str:
    """The first line of a stored error and, when the cause is further down (a crawl's log
    tail), its last meaningful line: never cut before the cause."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    if not lines:
        return ""
    gist = lines[0]
    if len(lines) > 1:
        gist += f" ... {lines[-1]}"
    return gist if len(gist) <= width else gist[: width - 1] + "…"


@click.command(name="sources")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=10,
    show_default=True,
    help="How many recent runs to show.",
)
@pass_ctx
def sources_cmd(obj: Context, limit: int) -> None:
    """Show each source's recent crawl runs: window, status, counts and failures."""
    from tbt_alert.store.queries import recent_runs

    with session_scope(obj.engine()) as session:
        runs = recent_runs(session, limit)
    for r in runs:
        started = r.started_at.strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"{r.source:8} {started} {r.since}..{r.until} {r.status:8} items {r.items} "
            f"invalid {r.invalid} new {r.new} updated {r.updated}"
            + (f"\n    error: {error_gist(r.error)}" if r.error else "")
        )
    if not runs:
        click.echo("no crawl has run yet")


@click.group(name="stats", invoke_without_command=True)
@click.option(
    "--by",
    type=click.Choice(["sector", "member", "month"]),
    default="sector",
    show_default=True,
    help="Count notifications by effective sector, WTO member or month of distribution.",
)
@click.option("--since", help="Only notifications distributed on or after YYYY-MM-DD.")
@click.option(
    "--plot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also draw the counts as a bar chart to this PNG file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
@click.pass_context
def stats_cmd(
    ctx: click.Context, by: str, since: str | None, plot: Path | None, as_json: bool
) -> None:
    """Statistics over the stored notifications: counts by sector, member or month (sectors as
    analysts labelled them), optionally drawn to a PNG; 'stats coverage' for code coverage."""
    if ctx.invoked_subcommand is not None:
        return
    from tbt_alert.cli.tables import counts_table, sector_names
    from tbt_alert.triage.stats import counts

    obj: Context = ctx.obj
    with session_scope(obj.engine()) as session:
        data = counts(session, by, parse_day(since, "--since"))
    if by == "sector":
        names = sector_names(obj.config.terminal.language)
        data = [(names.get(k, k), n) for k, n in data]
    if as_json:
        click.echo(json.dumps(dict(data), ensure_ascii=False, indent=1))
    else:
        counts_table(f"notifications by {by}" + (f" since {since}" if since else ""), data)
    if plot is not None:
        from tbt_alert.triage.segment import has_cjk
        from tbt_alert.triage.stats import plot as draw

        zh = obj.config.terminal.language == "zh"
        by_zh = {"sector": "行业", "member": "成员", "month": "月份"}[by]
        title = f"按{by_zh}统计的 TBT 通报" if zh else f"TBT notifications by {by}"
        font = draw(data, title, plot, "通报数" if zh else "notifications")
        click.echo(f"wrote {plot}", err=True)
        if font is None and any(has_cjk(k) for k, _ in data):
            click.echo(
                "no CJK font is installed (e.g. fonts-noto-cjk): Chinese labels show as boxes",
                err=True,
            )


@stats_cmd.command(name="coverage")
@pass_ctx
def coverage_cmd(obj: Context) -> None:
    """Share of notifications with an HS code of 4+ digits, a chapter only, ICS only, or none."""
    from tbt_alert.store.queries import code_coverage

    with session_scope(obj.engine()) as session:
        counts = code_coverage(session)
    total = sum(counts.values())
    for key in ("hs_4plus", "hs_chapter_only", "ics_only", "none"):
        share = counts[key] / total if total else 0.0
        click.echo(f"{key:16} {counts[key]:6} {share:6.1%}")
    click.echo(f"{'total':16} {total:6}")
