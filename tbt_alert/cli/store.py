"""``tbt-alert init`` and ``import``: the database and what goes into it by hand."""

from __future__ import annotations

import sys
from typing import IO

import click

from tbt_alert.cli.context import Context, make_classifier, now_utc, pass_ctx
from tbt_alert.errors import InputError, RecordError


@click.command()
@pass_ctx
def init(obj: Context) -> None:
    """Create the database, or upgrade it to the newest schema."""
    from tbt_alert.store.engine import current_revision, shown

    engine = obj.engine(migrate=True)
    url = shown(obj.config.database_url)
    click.echo(f"database ready at schema {current_revision(engine)}: {url}")


@click.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--source",
    default="import",
    show_default=True,
    help="Name of the source these records came from.",
)
@click.option("--no-classify", is_flag=True, help="Store only; classify at the next cycle.")
@pass_ctx
def import_cmd(obj: Context, file: IO[bytes], source: str, no_classify: bool) -> None:
    """Load canonical JSON Lines records from FILE ('-' for standard input) and classify them.

    A re-import updates, never duplicates. A bad line (bad JSON or fields, not UTF-8, a lone
    surrogate) is reported with its number and skipped, the rest kept; a UTF-8 byte-order mark
    is accepted; a binary file is refused. The exit status is 1 when any line was bad. Nothing is sent: 'run' or the daemon send."""
    from tbt_alert.classify.annotate import annotate_pending
    from tbt_alert.pipeline import import_jsonl
    from tbt_alert.store.engine import session_scope
    from tbt_alert.triage.index import refresh_index

    engine = obj.engine(migrate=True)
    now = now_utc()
    try:
        with session_scope(engine) as session:
            report = import_jsonl(session, file, source=source, now=now)
    except RecordError as e:  # the whole file is unusable (binary): nothing was stored
        raise InputError(f"{file.name}: {e}") from e
    for problem in report.invalid:
        click.echo(f"skipped {problem}", err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())
    if not no_classify:
        with session_scope(engine) as session:
            done = annotate_pending(session, make_classifier(obj.config))
        click.echo(f"classified {done.classified} ({done.with_alert} with an alert-tier sector)")
    with session_scope(engine) as session:
        refresh_index(session)
    if report.invalid:
        sys.exit(1)
