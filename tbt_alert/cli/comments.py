"""``tbt-alert comments``: the analyst's work on calls for comments, from the exporters' drafts
to the comment submitted to the notifying member; and ``tbt-alert inbound``, the SMTP listener
that turns replies to warnings into drafts."""

from __future__ import annotations

import json
from pathlib import Path

import click

from tbt_alert.cli.context import Context, database, now_utc, parse_day, pass_ctx
from tbt_alert.store.engine import session_scope


@click.group()
def comments() -> None:
    """Calls for comments: exporters' drafts, merged, exported, submitted to the WTO member."""


@comments.command(name="list")
@click.option("--symbol", default=None, help="Only the call of this notification.")
@click.option(
    "--status",
    default=None,
    help="Only calls with this status (open, drafting, submitted, answered, closed, withdrawn).",
)
@click.option("--json", "as_json", is_flag=True, help="Per call, its drafts as JSON.")
@pass_ctx
def list_cmd(obj: Context, symbol: str | None, status: str | None, as_json: bool) -> None:
    """List calls for comments: deadlines, days left, drafts; flags those due soon or overdue."""
    from tbt_alert.comments.workflow import call_json, call_views

    today = now_utc().date()
    with session_scope(obj.engine()) as session:
        views = call_views(
            session,
            today=today,
            reminder_days=obj.config.comments.reminder_days,
            symbol=symbol,
            status=status,
        )
        if as_json:
            click.echo(json.dumps([call_json(session, v) for v in views], ensure_ascii=False))
            return
        for v in views:
            c = v.call
            click.echo(
                f"{c.symbol}\t{c.status}\tWTO {c.wto_deadline}\tinternal {c.internal_deadline} "
                f"({v.days_left} days left)\t{v.drafts} draft(s)\t{c.analyst or '-'}"
                + (f"\t{v.flag}" if v.flag else "")
            )
    click.echo(f"{len(views)} call(s)", err=True)


@comments.command(name="show")
@click.argument("symbol")
@pass_ctx
def show_cmd(obj: Context, symbol: str) -> None:
    """Show one call for comments with its drafts, attachments and consolidated comment."""
    from tbt_alert.comments.calls import find_call
    from tbt_alert.comments.workflow import call_json, call_views

    with session_scope(obj.engine()) as session:
        call = find_call(session, symbol)
        view = call_views(
            session,
            today=now_utc().date(),
            reminder_days=obj.config.comments.reminder_days,
            symbol=call.symbol,
        )[0]
        data = call_json(session, view)
    click.echo(f"call         {data['symbol']} ({data['status']})")
    click.echo(f"deadlines    WTO {data['wto_deadline']}, internal {data['internal_deadline']}")
    click.echo(f"days left    {data['days_left']} {view.flag}".rstrip())
    click.echo(f"analyst      {data['analyst'] or '-'}")
    if call.submitted_on:
        click.echo(f"submitted    {call.submitted_on}")
    for n, d in enumerate(data["drafts"], 1):
        click.echo(f"\n--- draft {n}: {d['sender']} by {d['channel']} at {d['received_at']}")
        click.echo(d["text"])
        for a in d["attachments"]:
            click.echo(f"[attachment] {a['name']} ({a['content_type']}, {a['size']} bytes)")
        for r in d["refused"]:
            click.echo(f"[refused] {r['name']}: {r['reason']}")
    if call.consolidated:
        click.echo("\n=== consolidated comment\n" + call.consolidated)
    if call.reply_text:
        click.echo("\n=== the member's answer\n" + call.reply_text)


@comments.command(name="import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--symbol", required=True, help="The notification the draft comments on.")
@click.option("--from", "sender", required=True, help="Email address of who wrote it.")
@pass_ctx
def import_cmd(obj: Context, file: Path, symbol: str, sender: str) -> None:
    """Add a draft from a file: Word (.docx), text or Markdown, recognised by content."""
    from tbt_alert.comments.workflow import import_draft

    with session_scope(obj.engine()) as session:
        call = import_draft(
            session, symbol, file, sender=sender, config=obj.config.comments, now=now_utc()
        )
        click.echo(f"draft from {sender} added to {call.symbol} ({call.status})")


@comments.command(name="merge")
@click.argument("symbol")
@click.option("--rebuild", is_flag=True, help="Start again from the drafts, dropping edits.")
@click.option("--no-edit", is_flag=True, help="Do not open $EDITOR; just store the merge.")
@pass_ctx
def merge_cmd(obj: Context, symbol: str, rebuild: bool, no_edit: bool) -> None:
    """Merge the drafts into one consolidated comment (each concern with its source) and edit it
    with $EDITOR; saved when the editor saves."""
    from tbt_alert.comments.calls import find_call
    from tbt_alert.comments.workflow import consolidated_text, save_consolidated

    with session_scope(obj.engine()) as session:
        call = find_call(session, symbol)
        text = consolidated_text(session, call, rebuild=rebuild)
        if not no_edit:
            edited = click.edit(text, extension=".md", require_save=True)
            if edited is not None:
                text = edited
            elif call.consolidated and not rebuild:
                click.echo(f"{call.symbol}: the consolidated comment is unchanged")
                return
        save_consolidated(session, call, text, now=now_utc())
        click.echo(f"consolidated comment of {call.symbol} saved ({len(text)} characters)")


@comments.command(name="export")
@click.argument("symbol")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["docx", "md"]),
    default="docx",
    show_default=True,
    help="Word or Markdown.",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="en",
    show_default=True,
    help="Language of the headings.",
)
@click.option("--output", required=True, type=click.Path(path_type=Path), help="File to write.")
@pass_ctx
def export_cmd(obj: Context, symbol: str, fmt: str, lang: str, output: Path) -> None:
    """Write the comment in the customary form, addressed to the notifying member's enquiry point."""
    from tbt_alert.comments.workflow import export_comment

    with session_scope(obj.engine()) as session:
        data = export_comment(
            session,
            symbol,
            fmt=fmt,
            lang="zh" if lang == "zh" else "en",
            config=obj.config.comments,
            today=now_utc().date(),
        )
    try:
        output.write_bytes(data)
    except OSError as e:
        raise click.ClickException(f"cannot write {output}: {e.strerror or e}") from e
    click.echo(f"wrote {output} ({len(data)} bytes)")


@comments.command(name="submit")
@click.argument("symbol")
@click.option("--date", "day", default=None, help="Day it was sent, YYYY-MM-DD (default: today).")
@pass_ctx
def submit_cmd(obj: Context, symbol: str, day: str | None) -> None:
    """Record that the consolidated comment was submitted to the notifying member."""
    from tbt_alert.comments.workflow import submit

    on = parse_day(day, "--date") or now_utc().date()
    with session_scope(obj.engine()) as session:
        call = submit(session, symbol, on=on, now=now_utc())
        click.echo(f"{call.symbol} submitted on {on}")


@comments.command(name="reply")
@click.argument("symbol")
@click.option(
    "--file",
    "file",
    required=True,
    type=click.Path(path_type=Path),
    help="The member's answer (docx, txt or md).",
)
@pass_ctx
def reply_cmd(obj: Context, symbol: str, file: Path) -> None:
    """Record the notifying member's answer to a submitted comment."""
    from tbt_alert.comments.workflow import record_reply

    with session_scope(obj.engine()) as session:
        call = record_reply(session, symbol, file, now=now_utc())
        click.echo(f"{call.symbol} answered")


@comments.command(name="assign")
@click.argument("symbol")
@click.option("--to", "analyst", required=True, help="The analyst's name or email address.")
@pass_ctx
def assign_cmd(obj: Context, symbol: str, analyst: str) -> None:
    """Assign a call for comments to an analyst (an email address also gets the reminders)."""
    from tbt_alert.comments.workflow import assign

    with session_scope(obj.engine()) as session:
        call = assign(session, symbol, analyst, now=now_utc())
        click.echo(f"{call.symbol} assigned to {call.analyst}")


@comments.command(name="close")
@click.argument("symbol")
@pass_ctx
def close_cmd(obj: Context, symbol: str) -> None:
    """Close a call for comments: no more drafts, reminders or actions."""
    from tbt_alert.comments.workflow import close

    with session_scope(obj.engine()) as session:
        call = close(session, symbol, now=now_utc())
        click.echo(f"{call.symbol} closed")


@comments.command(name="remind")
@pass_ctx
def remind_cmd(obj: Context) -> None:
    """Open calls for what was warned about, follow addenda, and send the reminders due today
    (each cycle of `run` and the daemon does this too); exit 1 when a reminder was not sent."""
    from tbt_alert.cli.context import make_mailer
    from tbt_alert.pipeline import follow_calls, unsent

    with database(obj) as engine, make_mailer(obj.config) as mailer:
        calls, sent = follow_calls(engine, obj.config, mailer=mailer, now=now_utc())
    click.echo(
        f"{len(calls.opened)} call(s) opened, {len(calls.moved)} moved, "
        f"{len(calls.withdrawn)} withdrawn; reminders: "
        + (", ".join(f"{k} {v}" for k, v in sorted(sent.items())) or "none due")
    )
    for moved in calls.moved:
        click.echo(f"{moved.symbol}: WTO deadline moved from {moved.old} to {moved.new}")
    if unsent(sent):
        raise click.exceptions.Exit(1)


@click.command(name="inbound")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@click.option("--lmtp", is_flag=True, help="Speak LMTP instead of SMTP (for a local transport).")
@pass_ctx
def inbound_cmd(obj: Context, host: str, port: int, lmtp: bool) -> None:
    """Receive the mail of the reply domain: replies to warnings become comment drafts, mailto
    unsubscribes unsubscribe; forged or expired addresses are refused with 550. Runs until
    stopped (Ctrl-C or SIGTERM)."""
    import signal
    import threading
    from datetime import timedelta

    from tbt_alert.comments.inbound import Inbound, start_listener
    from tbt_alert.errors import ConfigError

    config = obj.config
    if not (config.mail.reply_domain or config.mail.bounce_domain):
        raise ConfigError(
            "[mail] reply_domain and bounce_domain are not set: the listener has no domain to serve"
        )
    engine = obj.engine()
    inbound = Inbound(
        engine=engine,
        secret_key=config.web.secret_key,
        reply_domain=config.mail.reply_domain,
        comments=config.comments,
        clock=now_utc,
        bounce_domain=config.mail.bounce_domain,
        bounce_threshold=config.mail.bounce_threshold,
        bounce_quiet=timedelta(days=config.mail.bounce_quiet_days),
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    try:
        controller = start_listener(inbound, host=host, port=port, lmtp=lmtp)
    except OSError as e:
        raise click.ClickException(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
    click.echo(
        f"listening on {host}:{port} ({'LMTP' if lmtp else 'SMTP'}) for @{' and @'.join(sorted(inbound.domains()))}",
        err=True,
    )
    try:
        stop.wait()
    finally:
        controller.stop()
        engine.dispose()
