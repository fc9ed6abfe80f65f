"""The ``tbt-alert`` command: the root group; each command group lives in its own module and
only adapts (options, output, exit status) over the package's functions."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click

from tbt_alert.cli.context import Context, Group
from tbt_alert.cli.failures import install_signal_handlers

# Each command, by name, as "module:attribute". A command's module is imported only when that
# command runs (or help lists it), so `tbt-alert --version` and light commands never pay for
# scikit-learn, Scrapy or numpy. tests/test_cli_docs.py keeps this table equal to the README.
COMMANDS: dict[str, str] = {
    "init": "tbt_alert.cli.store:init",
    "import": "tbt_alert.cli.store:import_cmd",
    "run": "tbt_alert.cli.run:run_cmd",
    "send": "tbt_alert.cli.run:send_cmd",
    "daemon": "tbt_alert.cli.daemon:daemon_cmd",
    "digest": "tbt_alert.cli.run:digest_cmd",
    "crawl": "tbt_alert.cli.run:crawl_cmd",
    "backfill": "tbt_alert.cli.backfill:backfill_cmd",
    "demo": "tbt_alert.cli.run:demo_cmd",
    "list": "tbt_alert.cli.analyst:list_cmd",
    "show": "tbt_alert.cli.analyst:show_cmd",
    "sources": "tbt_alert.cli.analyst:sources_cmd",
    "stats": "tbt_alert.cli.analyst:stats_cmd",
    "subscribers": "tbt_alert.cli.subscribers:subscribers",
    "classify": "tbt_alert.cli.classify:classify_cmd",
    "evaluate": "tbt_alert.cli.classify:evaluate_cmd",
    "train": "tbt_alert.cli.classify:train_cmd",
    "triage": "tbt_alert.cli.triage:triage_cmd",
    "search": "tbt_alert.cli.triage:search_cmd",
    "export": "tbt_alert.cli.triage:export_cmd",
    "reindex": "tbt_alert.cli.triage:reindex_cmd",
    "label": "tbt_alert.cli.decide:label_cmd",
    "decide": "tbt_alert.cli.decide:decide_cmd",
    "assign": "tbt_alert.cli.decide:assign_cmd",
    "risk": "tbt_alert.cli.decide:risk_cmd",
    "undo": "tbt_alert.cli.decide:undo_cmd",
    "web": "tbt_alert.cli.web:web_cmd",
    "comments": "tbt_alert.cli.comments:comments",
    "inbound": "tbt_alert.cli.comments:inbound_cmd",
    "status": "tbt_alert.cli.status:status_cmd",
    "dev": "tbt_alert.cli.dev:dev",
}


class LazyGroup(Group):
    """The root group: finds a command's module only when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module_name, attribute = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"COMMANDS[{cmd_name!r}] does not name the {cmd_name!r} command")
        self.commands[cmd_name] = command
        return command


@click.group(cls=LazyGroup)
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
