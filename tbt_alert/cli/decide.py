"""Analysts' decisions: ``label``, ``decide``, ``assign``, ``risk``, ``undo``. Each is stored with
who (--by, else $USER) and when, shown by ``show``, and undone by ``undo``."""

from __future__ import annotations

import getpass
import os

import click

from tbt_alert.cli.context import Context, now_utc, pass_ctx
from tbt_alert.errors import TbtAlertError
from tbt_alert.status import DecisionKind

by_option = click.option("--by", "who", help="Who decides (default: $USER).")


class NotFoundError(TbtAlertError):
    """No notification has the symbol given."""


def _who(given: str | None) -> str:
    if given:
        return given
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError):
        return ""


def _decide(
    obj: Context,
    symbol: str,
    kind: DecisionKind,
    who: str | None,
    value: str = "",
    note: str | None = None,
) -> str:
    from tbt_alert.store.engine import session_scope
    from tbt_alert.store.queries import find_notification
    from tbt_alert.triage.decisions import describe, record

    with session_scope(obj.engine()) as session:
        row = find_notification(session, symbol)
        if row is None:
            raise NotFoundError(f"no notification {symbol!r} is stored")
        d = record(session, row, kind, who=_who(who), now=now_utc(), value=value, note=note)
        return f"{row.symbol}: {describe(d)}"


def _sector(value: str) -> str:
    from tbt_alert.classify.rules import load_rules
    from tbt_alert.triage.filters import Filters

    Filters(sector=value).check(load_rules().ids)
    return value


@click.command(name="label")
@click.argument("symbol")
@click.option("--add", "add", help="Add this sector id to the notification's labels.")
@click.option("--remove", "remove", help="Remove this sector id from its labels.")
@click.option("--note", help="Why.")
@by_option
@pass_ctx
def label_cmd(
    obj: Context,
    symbol: str,
    add: str | None,
    remove: str | None,
    note: str | None,
    who: str | None,
) -> None:
    """Add or remove a sector on a notification: changes who gets a warning not yet sent, and
    becomes training data for 'tbt-alert train'."""
    if (add is None) == (remove is None):
        raise click.UsageError("give exactly one of --add SECTOR or --remove SECTOR")
    kind = DecisionKind.LABEL_ADD if add else DecisionKind.LABEL_REMOVE
    click.echo(_decide(obj, symbol, kind, who, _sector(add or remove or ""), note))


@click.command(name="decide")
@click.argument("symbol")
@click.argument("verdict", type=click.Choice(["accept", "dismiss"]))
@click.option("--note", help="Why.")
@by_option
@pass_ctx
def decide_cmd(obj: Context, symbol: str, verdict: str, note: str | None, who: str | None) -> None:
    """Accept a notification (its warning may go out under review mode; possible-tier sectors
    are confirmed) or dismiss it as noise (never sent)."""
    click.echo(_decide(obj, symbol, DecisionKind(verdict), who, note=note))


@click.command(name="assign")
@click.argument("symbol")
@click.option("--to", "to", required=True, help="Who looks at it.")
@by_option
@pass_ctx
def assign_cmd(obj: Context, symbol: str, to: str, who: str | None) -> None:
    """Assign a notification to an analyst."""
    click.echo(_decide(obj, symbol, DecisionKind.ASSIGN, who, to.strip()))


@click.command(name="risk")
@click.argument("symbol")
@click.argument("level", type=click.Choice(["red", "amber", "green"]))
@click.option("--note", required=True, help="Why (required: a risk level needs its reason).")
@by_option
@pass_ctx
def risk_cmd(obj: Context, symbol: str, level: str, note: str, who: str | None) -> None:
    """Set the risk level of a notification, overriding the assessed one."""
    click.echo(_decide(obj, symbol, DecisionKind.RISK, who, level, note))


@click.command(name="undo")
@click.argument("symbol")
@pass_ctx
def undo_cmd(obj: Context, symbol: str) -> None:
    """Undo the last live decision about a notification (kept in its history, marked undone)."""
    from tbt_alert.store.engine import session_scope
    from tbt_alert.store.queries import find_notification
    from tbt_alert.triage.decisions import describe, undo_last

    with session_scope(obj.engine()) as session:
        row = find_notification(session, symbol)
        if row is None:
            raise NotFoundError(f"no notification {symbol!r} is stored")
        d = undo_last(session, row, now=now_utc())
    click.echo(f"{row.symbol}: undid {describe(d)}")
