"""The ``tbt-alert`` command: a thin edge over the package's functions."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO

import click
from sqlalchemy.engine import Engine

from tbt_alert.config import Config, load_config
from tbt_alert.errors import TbtAlertError


@dataclass
class Context:
    config_path: Path | None
    verbose: bool
    _config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config

    def engine(self, *, migrate: bool = False) -> Engine:
        from tbt_alert.db import make_engine, require_current, upgrade

        engine = make_engine(self.config.database_url)
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
        return engine


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """Turns tbt-alert's own errors into a one-line message and exit status 1 (-v: traceback)."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except TbtAlertError as e:
            obj = ctx.find_object(Context)
            if obj is not None and obj.verbose:
                raise
            click.echo(f"error: {e}", err=True)
            sys.exit(1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from e


@click.group(cls=Group)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default=None,
              help="TOML configuration file (default: $TBT_ALERT_CONFIG, else built-in defaults).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress and show tracebacks on errors.")
@click.version_option(package_name="tbt-alert")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """tbt-alert: warnings to exporters about foreign technical regulations notified to the WTO."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(config_path=config_path, verbose=verbose)


@main.command()
@pass_ctx
def init(obj: Context) -> None:
    """Create the database, or upgrade it to the newest schema."""
    from tbt_alert.db import current_revision

    engine = obj.engine(migrate=True)
    click.echo(f"database ready at schema {current_revision(engine)}: {obj.config.database_url}")


@main.command(name="import")
@click.argument("file", type=click.File("r", encoding="utf-8"))
@click.option("--source", default="import", show_default=True,
              help="Name of the source these records came from.")
@click.option("--no-classify", is_flag=True, help="Store only; classify at the next cycle.")
@pass_ctx
def import_cmd(obj: Context, file: IO[str], source: str, no_classify: bool) -> None:
    """Load canonical JSON Lines records from FILE ('-' for standard input) and classify them.

    A re-import updates, never duplicates. A bad line is reported with its number and skipped;
    the exit status is 1 when any line was bad. Nothing is sent: 'run' or the daemon send."""
    from tbt_alert.annotate import annotate_pending
    from tbt_alert.cli_run import make_classifier
    from tbt_alert.db import session_scope
    from tbt_alert.ingest import import_jsonl

    engine = obj.engine(migrate=True)
    now = now_utc()
    with session_scope(engine) as session:
        report = import_jsonl(session, file, source=source, now=now)
    for problem in report.invalid:
        click.echo(f"skipped {problem}", err=True)
    click.echo(report.summary())
    if not no_classify:
        with session_scope(engine) as session:
            done = annotate_pending(session, make_classifier(obj.config), now=now)
        click.echo(f"classified {done.classified} ({done.with_alert} with an alert-tier sector)")
    if report.invalid:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Attach the commands defined in the other cli_* modules."""
    from tbt_alert.cli_analyst import list_cmd, show_cmd, sources_cmd, stats_cmd
    from tbt_alert.cli_backfill import backfill_cmd
    from tbt_alert.cli_classify import classify_cmd, evaluate_cmd, train_cmd
    from tbt_alert.cli_daemon import daemon_cmd
    from tbt_alert.cli_dev import dev
    from tbt_alert.cli_run import crawl_cmd, demo_cmd, digest_cmd, run_cmd
    from tbt_alert.cli_subscribers import subscribers

    for command in (run_cmd, daemon_cmd, digest_cmd, crawl_cmd, backfill_cmd, demo_cmd, list_cmd, show_cmd, sources_cmd, stats_cmd,
                    subscribers, classify_cmd, evaluate_cmd, train_cmd, dev):
        group.add_command(command)


@contextmanager
def database(obj: Context, *, migrate: bool = False) -> Iterator[Engine]:
    engine = obj.engine(migrate=migrate)
    try:
        yield engine
    finally:
        engine.dispose()


register(main)
