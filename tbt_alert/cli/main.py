"""The ``tbt-alert`` command: the root group; each command group lives in its own module and
only adapts (options, output, exit status) over the package's functions."""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import click

from tbt_alert.cli.context import Context, Group
from tbt_alert.cli.failures import install_signal_handlers

# Each command, by name: ("module:attribute", its one-line summary). A command's module is
# imported only when that command runs, so `tbt-alert --version`, `--help` and light commands
# never pay for scikit-learn, Scrapy or numpy; `--help` lists the summaries from here.
# tests/test_cli_docs.py keeps each summary equal to the command's own and the table to the README.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": (
        "tbt_alert.cli.store:init",
        "Create the database, or upgrade it to the newest schema.",
    ),
    "import": (
        "tbt_alert.cli.store:import_cmd",
        "Load canonical JSON Lines records from FILE ('-' for standard input) and classify them.",
    ),
    "run": (
        "tbt_alert.cli.run:run_cmd",
        "Crawl ePing, ingest, classify, plan and send what is due; print a summary.",
    ),
    "send": (
        "tbt_alert.cli.run:send_cmd",
        "Send the messages that are due (first attempts and retries) without crawling or planning.",
    ),
    "daemon": (
        "tbt_alert.cli.daemon:daemon_cmd",
        "Run the scheduled jobs until stopped by SIGTERM or Ctrl-C.",
    ),
    "digest": (
        "tbt_alert.cli.run:digest_cmd",
        "Plan and send the daily or weekly digests of every closed period not yet sent.",
    ),
    "crawl": (
        "tbt_alert.cli.run:crawl_cmd",
        "Crawl SOURCE into the database without classifying or sending.",
    ),
    "backfill": (
        "tbt_alert.cli.backfill:backfill_cmd",
        "Crawl and store the ePing history from --since to --until, one window at a time.",
    ),
    "demo": (
        "tbt_alert.cli.run:demo_cmd",
        "Run the main job offline on bundled real notifications.",
    ),
    "list": (
        "tbt_alert.cli.analyst:list_cmd",
        "List stored notifications, newest first (undated last): symbol, member, dates, sectors, title.",
    ),
    "show": (
        "tbt_alert.cli.analyst:show_cmd",
        "Show one notification: its fields, sectors with reasons and risk, sources and deliveries.",
    ),
    "sources": (
        "tbt_alert.cli.analyst:sources_cmd",
        "Show each source's recent crawl runs: window, status, counts and failures.",
    ),
    "stats": (
        "tbt_alert.cli.analyst:stats_cmd",
        "Statistics over the stored notifications: counts by sector, member or month (sectors as analysts labelled them), optionally drawn to a PNG; 'stats coverage' for code coverage.",
    ),
    "subscribers": (
        "tbt_alert.cli.subscribers:subscribers",
        "Add, list and remove subscribers (exporters who receive warnings by email).",
    ),
    "classify": (
        "tbt_alert.cli.classify:classify_cmd",
        "Classify notifications into Wenzhou export sectors.",
    ),
    "evaluate": (
        "tbt_alert.cli.classify:evaluate_cmd",
        "Precision and recall with Wilson 95% intervals on the frozen development and test parts.",
    ),
    "train": (
        "tbt_alert.cli.classify:train_cmd",
        "Train the sector model from the labelled data kept in the repository and analysts' decisions kept in the database, and save it.",
    ),
    "triage": (
        "tbt_alert.cli.triage:triage_cmd",
        "The queue of notifications needing a decision, most urgent first.",
    ),
    "search": (
        "tbt_alert.cli.triage:search_cmd",
        "Full-text search over title, description, products and the classifier's reasons.",
    ),
    "export": (
        "tbt_alert.cli.triage:export_cmd",
        "Export notifications with their effective sectors and decisions to CSV, JSON Lines or Excel, with the same filters as search.",
    ),
    "reindex": (
        "tbt_alert.cli.triage:reindex_cmd",
        "Rebuild the full-text search index from the stored notifications.",
    ),
    "label": (
        "tbt_alert.cli.decide:label_cmd",
        "Add or remove a sector on a notification: changes who gets a warning not yet sent, and becomes training data for 'tbt-alert train'.",
    ),
    "decide": (
        "tbt_alert.cli.decide:decide_cmd",
        "Accept a notification (its warning may go out under review mode; possible-tier sectors are confirmed) or dismiss it as noise (never sent).",
    ),
    "assign": ("tbt_alert.cli.decide:assign_cmd", "Assign a notification to an analyst."),
    "risk": (
        "tbt_alert.cli.decide:risk_cmd",
        "Set the risk level of a notification, overriding the assessed one.",
    ),
    "undo": (
        "tbt_alert.cli.decide:undo_cmd",
        "Undo the last live decision about a notification (kept in its history, marked undone).",
    ),
    "web": (
        "tbt_alert.cli.web:web_cmd",
        "Serve the web app: subscribe, confirm, preferences, one-click unsubscribe, archive, feeds.",
    ),
    "comments": (
        "tbt_alert.cli.comments:comments",
        "Calls for comments: exporters' drafts, merged, exported, submitted to the WTO member.",
    ),
    "inbound": (
        "tbt_alert.cli.comments:inbound_cmd",
        "Receive the mail of the reply domain: replies to warnings become comment drafts, mailto unsubscribes unsubscribe; forged or expired addresses are refused with 550.",
    ),
    "status": (
        "tbt_alert.cli.status:status_cmd",
        "Show the state of this installation: schema version, who holds the crawl lock (a daemon or a run), each job's last run (daemon, 'run --once', 'digest') and next run as the daemon schedules it from the configuration, the last run of each source with its failures in a row, open enrichment gaps (details or documents that failed and are retried), deliveries due and waiting (the oldest), comment calls whose internal deadline is within [comments] reminder_days, sources whose failures the operator was emailed about and that have not recovered yet, and abandoned runs.",
    ),
    "dev": (
        "tbt_alert.cli.dev:dev",
        "Developer tools: record live source responses as test fixtures, with their provenance.",
    ),
}


class LazyGroup(Group):
    """The root group: finds a command's module only when the command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        module_name, attribute = COMMANDS[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command) or command.name != cmd_name:
            raise RuntimeError(f"COMMANDS[{cmd_name!r}] does not name the {cmd_name!r} command")
        self.commands[cmd_name] = command
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the table's summaries, without importing any command."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = max(formatter.width - 6 - max(len(n) for n in names), 20)
        rows = []
        for name in names:
            summary = COMMANDS[name][1] if name in COMMANDS else ""
            if name not in COMMANDS and (cmd := self.commands.get(name)) is not None:
                summary = cmd.get_short_help_str(limit)
            if len(summary) > limit:
                summary = summary[: limit - 3].rsplit(" ", 1)[0] + "..."
            rows.append((name, summary))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
