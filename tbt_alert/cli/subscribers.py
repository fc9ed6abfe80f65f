"""``tbt-alert subscribers``: manage who receives warnings."""

from __future__ import annotations

from pathlib import Path

import click

from tbt_alert.cli.context import Context, now_utc, pass_ctx
from tbt_alert.store.engine import session_scope


def known_sectors(obj: Context) -> list[str]:
    from tbt_alert.classify.rules import load_rules

    path = obj.config.classify.rules_path
    return list(load_rules(Path(path) if path else None).ids)


@click.group()
def subscribers() -> None:
    """Add, list and remove subscribers (exporters who receive warnings by email)."""


@subscribers.command(name="add")
@click.argument("email")
@click.option(
    "--sector",
    "sectors",
    multiple=True,
    required=True,
    help="Sector id to subscribe to (repeat for several), e.g. footwear_leather.",
)
@click.option(
    "--market",
    "markets",
    multiple=True,
    help="Only notifications from this WTO member (code or name; repeat). Default: all.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the messages.",
)
@click.option(
    "--cadence",
    type=click.Choice(["immediate", "daily", "weekly"]),
    default="immediate",
    show_default=True,
    help="Immediate warnings, or a daily or weekly digest.",
)
@click.option(
    "--confirmed",
    is_flag=True,
    help="Mark as confirmed (consent recorded elsewhere); pending subscribers get nothing.",
)
@pass_ctx
def add(
    obj: Context,
    email: str,
    sectors: tuple[str, ...],
    markets: tuple[str, ...],
    lang: str,
    cadence: str,
    confirmed: bool,
) -> None:
    """Add EMAIL, or replace the preferences of an existing subscriber."""
    from tbt_alert.alerts.subscribers import add_subscriber

    engine = obj.engine(migrate=True)
    with session_scope(engine) as session:
        row, created = add_subscriber(
            session,
            email,
            sectors=sectors,
            known_sectors=known_sectors(obj),
            markets=markets,
            language=lang,
            cadence=cadence,
            confirmed=confirmed,
            now=now_utc(),
        )
        click.echo(
            f"{'added' if created else 'updated'} {row.email} ({row.status}): "
            f"{', '.join(sectors)}; {cadence}; {lang}"
        )


@subscribers.command(name="list")
@pass_ctx
def list_(obj: Context) -> None:
    """List subscribers with their status, language, sectors, markets and cadence."""
    from tbt_alert.alerts.subscribers import list_subscribers

    with session_scope(obj.engine()) as session:
        rows = list_subscribers(session)
    for v in rows:
        click.echo(
            f"{v.email}\t{v.status}\t{v.language}\t{','.join(v.sectors)}\t"
            f"{','.join(v.markets) or 'all markets'}\t{v.cadence}"
        )
    click.echo(f"{len(rows)} subscriber(s)", err=True)


@subscribers.command(name="remove")
@click.argument("email")
@pass_ctx
def remove(obj: Context, email: str) -> None:
    """Remove EMAIL with its subscriptions and delivery history."""
    from tbt_alert.alerts.subscribers import remove_subscriber

    with session_scope(obj.engine()) as session:
        found = remove_subscriber(session, email)
    if not found:
        raise click.ClickException(f"no subscriber {email}")
    click.echo(f"removed {email}")


@subscribers.command(name="duplicates")
@pass_ctx
def duplicates(obj: Context) -> None:
    """List stored addresses that differ only in letter case (Buyer@Example.COM and
    buyer@example.com are one address now). They are never merged automatically: remove the
    ones that should go with 'subscribers remove'. Exit status 1 when there are any."""
    from tbt_alert.alerts.subscribers import case_duplicates

    with session_scope(obj.engine()) as session:
        groups = case_duplicates(session)
    for group in groups:
        click.echo("  ".join(group))
    click.echo(f"{len(groups)} address(es) stored more than once in different case", err=True)
    if groups:
        raise SystemExit(1)
