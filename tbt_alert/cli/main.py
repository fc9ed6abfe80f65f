"""The ``tbt-alert`` command: the root group; each command group lives in its own module and
only adapts (options, output, exit status) over the package's functions."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from tbt_alert.cli.analyst import list_cmd, show_cmd, sources_cmd, stats_cmd
from tbt_alert.cli.backfill import backfill_cmd
from tbt_alert.cli.classify import classify_cmd, evaluate_cmd, train_cmd
from tbt_alert.cli.context import Context, Group
from tbt_alert.cli.daemon import daemon_cmd
from tbt_alert.cli.dev import dev
from tbt_alert.cli.failures import install_signal_handlers
from tbt_alert.cli.run import crawl_cmd, demo_cmd, digest_cmd, run_cmd
from tbt_alert.cli.status import status_cmd
from tbt_alert.cli.store import import_cmd, init
from tbt_alert.cli.subscribers import subscribers


@click.group(cls=Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="TOML configuration file (default: $TBT_ALERT_CONFIG, else built-in defaults).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress and show tracebacks on errors.")
@click.version_option(package_name="tbt-alert")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, verbose: bool) -> None:
    """tbt-alert: warnings to exporters about foreign technical regulations notified to the WTO."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_signal_handlers()
    ctx.obj = Context(config_path=config_path, verbose=verbose)


COMMANDS = (
    init,
    import_cmd,
    run_cmd,
    daemon_cmd,
    digest_cmd,
    crawl_cmd,
    backfill_cmd,
    demo_cmd,
    list_cmd,
    show_cmd,
    sources_cmd,
    stats_cmd,
    status_cmd,
    subscribers,
    classify_cmd,
    evaluate_cmd,
    train_cmd,
    dev,
)
for _command in COMMANDS:
    main.add_command(_command)
