"""Analysts' triage commands: ``triage`` (the queue), ``search``, ``reindex`` and ``export``.
Each imports only what it needs, so it starts fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from tbt_alert.cli.context import Context, now_utc, parse_day, pass_ctx

if TYPE_CHECKING:
    from tbt_alert.triage.filters import Filters


def json_lines(items: list[dict[str, Any]]) -> str:
    """A JSON array, one element a line (the C encoder: indenting falls back to Python's)."""
    if not items:
        return "[]"
    return "[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]"


def filter_options(func: Any) -> Any:
    """--sector --member --since --until --open: shared by search and export."""
    for option in reversed(
        (
            click.option("--sector", help="Only notifications labelled with this sector id."),
            click.option("--member", help="Only this WTO member's notifications (code, e.g. EU)."),
            click.option("--since", help="Distributed on or after YYYY-MM-DD."),
            click.option("--until", help="Distributed on or before YYYY-MM-DD."),
            click.option("--open", "open_only", is_flag=True, help="Still open for comment today."),
        )
    ):
        func = option(func)
    return func


def make_filters(
    sector: str | None, member: str | None, since: str | None, until: str | None, open_only: bool
) -> Filters:
    from tbt_alert.triage.filters import Filters

    filters = Filters(
        sector=sector,
        member=member,
        since=parse_day(since, "--since"),
        until=parse_day(until, "--until"),
        open_on=now_utc().date() if open_only else None,
    )
    if sector is not None:  # the rules name the sectors: read only when one is asked for
        from tbt_alert.classify.rules import load_rules

        filters.check(load_rules().ids)
    return filters


@click.command(name="triage")
@click.option("--json", "as_json", is_flag=True, help="Print the queue as JSON.")
@click.option(
    "--interactive", is_flag=True, help="Work through the queue with the keyboard (Textual)."
)
@pass_ctx
def triage_cmd(obj: Context, as_json: bool, interactive: bool) -> None:
    """The queue of notifications needing a decision, most urgent first.

    Queued while neither accepted nor dismissed and still timely: notifications with a
    possible-tier sector, alert-tier ones when [review] mode = "all", and addenda, revisions or
    corrigenda whose sectors differ from their parent's. Ordered by risk (red, amber, green),
    then comment deadline."""
    if interactive:
        from tbt_alert.cli.triage_app import run_app

        run_app(obj)
        return
    from tbt_alert.status import ReviewMode
    from tbt_alert.store.dbapi import open_reader
    from tbt_alert.triage.queue import triage_queue

    settings = obj.settings
    with open_reader(settings.database_url) as reader:
        items = triage_queue(reader, ReviewMode(settings.review_mode), now_utc().date())
    if as_json:
        click.echo(json_lines([i.as_json() for i in items]))
        return
    from tbt_alert.cli.tables import queue_table

    queue_table(items, settings.language)


@click.command(name="search")
@click.argument("query")
@filter_options
@click.option(
    "--limit", type=click.IntRange(1, 10000), default=20, show_default=True, help="Most hits."
)
@click.option("--json", "as_json", is_flag=True, help="Print the hits as JSON.")
@pass_ctx
def search_cmd(
    obj: Context,
    query: str,
    sector: str | None,
    member: str | None,
    since: str | None,
    until: str | None,
    open_only: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Full-text search over title, description, products and the classifier's reasons.

    Every word of QUERY must be found (Chinese is cut into words); hits are ranked, best first,
    with the words found highlighted (between « and » in --json)."""
    from tbt_alert.store.dbapi import open_reader
    from tbt_alert.triage.search import search

    filters = make_filters(sector, member, since, until, open_only)
    settings = obj.settings
    with open_reader(settings.database_url) as reader:
        hits = search(reader, query, filters, limit=limit)
    if as_json:
        from tbt_alert.cli.tables import plain_snippet

        out = [
            {
                "symbol": h.notification.symbol,
                "member": h.notification.member_code,
                "title": h.notification.title,
                "distribution_date": str(h.notification.distribution_date or "") or None,
                "rank": round(h.rank, 4),
                "snippet": plain_snippet(h.snippet),
            }
            for h in hits
        ]
        click.echo(json_lines(out))
        return
    from tbt_alert.cli.tables import hits_table

    hits_table(hits, settings.language)


@click.command(name="reindex")
@pass_ctx
def reindex_cmd(obj: Context) -> None:
    """Rebuild the full-text search index from the stored notifications."""
    from tbt_alert.store.engine import session_scope
    from tbt_alert.triage.index import rebuild_index

    with session_scope(obj.engine()) as session:
        done = rebuild_index(session)
    click.echo(f"indexed {done} notification(s)")


@click.command(name="export")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl", "xlsx"]),
    required=True,
    help="File format.",
)
@click.option(
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write.",
)
@click.option("--query", help="Only notifications whose text has these words (as search).")
@filter_options
@pass_ctx
def export_cmd(
    obj: Context,
    fmt: str,
    output: Path,
    query: str | None,
    sector: str | None,
    member: str | None,
    since: str | None,
    until: str | None,
    open_only: bool,
) -> None:
    """Export notifications with their effective sectors and decisions to CSV, JSON Lines or
    Excel, with the same filters as search."""
    from tbt_alert.store.engine import session_scope
    from tbt_alert.triage.export import export_rows, write_export

    filters = make_filters(sector, member, since, until, open_only)
    with session_scope(obj.engine()) as session:
        rows = export_rows(session, filters, query)
    write_export(rows, fmt, output)
    click.echo(f"wrote {len(rows)} notification(s) to {output}")
