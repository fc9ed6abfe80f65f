"""What every command shares: the context object (configuration, engine), the error boundary,
option parsers, and the factories that turn the configuration into a classifier or a mailer.
Heavy modules are imported inside the functions that need them, so commands start fast."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tbt_alert.errors import InputError
from tbt_alert.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tbt_alert.classify.classifier import Classifier
    from tbt_alert.config import Config
    from tbt_alert.mail.mailer import Mailer


@dataclass
class Context:
    config_path: Path | None
    verbose: bool
    _config: Config | None = None
    _settings: Settings | None = None

    @property
    def config(self) -> Config:
        """The whole configuration, every section validated (imports pydantic)."""
        if self._config is None:
            from tbt_alert.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    @property
    def settings(self) -> Settings:
        """What read-only analysts' commands need, read without pydantic (tbt_alert.settings)."""
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def engine(self, *, migrate: bool = False) -> Engine:
        from tbt_alert.store.engine import make_engine, require_current, upgrade

        engine = make_engine(self.config.database_url)
        if migrate:
            upgrade(engine)
        else:
            require_current(engine)
        return engine

    def secrets(self) -> list[str]:
        """Values never to print: known only once the configuration was read."""
        config = self._config
        if config is None:
            return self._settings_secrets()
        from urllib.parse import unquote, urlsplit

        from sqlalchemy.engine import make_url

        try:
            db_password = make_url(config.database_url).password or ""
        except Exception:  # an unparsable URL: its password is masked by the URL pattern
            db_password = ""
        smtp_password = unquote(urlsplit(config.mail.smtp_url).password or "")
        return [
            str(s)
            for s in (
                config.eping.api_key,
                config.web.secret_key,
                config.mail.smtp_password,
                db_password,
                smtp_password,
            )
            if s
        ]

    def _settings_secrets(self) -> list[str]:
        from urllib.parse import unquote, urlsplit

        if self._settings is None:
            return []
        try:
            password = urlsplit(self._settings.database_url).password
        except ValueError:  # an unparsable URL: its password is masked by the URL pattern
            password = None
        return [unquote(password)] if password else []


pass_ctx = click.make_pass_decorator(Context)


class Group(click.Group):
    """The error boundary: every error becomes one line with secrets masked and exit status 1;
    SIGTERM/SIGHUP/Ctrl-C unwind and exit 128+signal. ``-v`` shows the traceback instead."""

    def invoke(self, ctx: click.Context) -> object:
        from tbt_alert.cli.failures import Interrupted, describe, mask_secrets

        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except (Interrupted, KeyboardInterrupt) as e:
            signum = e.signum if isinstance(e, Interrupted) else 2
            name = "SIGINT" if signum == 2 else str(e)
            click.echo(f"stopped by {name}: the open transaction was rolled back", err=True)
            sys.exit(128 + signum)
        except Exception as e:
            obj = ctx.find_object(Context)
            if obj is not None and obj.verbose:
                raise
            secrets = obj.secrets() if obj is not None else []
            click.echo(f"error: {mask_secrets(describe(e), secrets)}", err=True)
            sys.exit(1)


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_window(
    since: str | None, until: str | None, today: date
) -> tuple[date | None, date | None]:
    """--since/--until as dates; InputError for a reversed window or a date after ``today``."""
    start, end = parse_day(since, "--since"), parse_day(until, "--until")
    for value, option in ((start, "--since"), (end, "--until")):
        if value is not None and value > today:
            raise InputError(f"{option} {value} is in the future (today is {today})")
    if start is not None and end is not None and start > end:
        raise InputError(f"--since {start} is after --until {end}: the window is reversed")
    return start, end


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise click.BadParameter(f"expected YYYY-MM-DD, got {value!r}", param_hint=option) from e


@contextmanager
def database(obj: Context, *, migrate: bool = False) -> Iterator[Engine]:
    engine = obj.engine(migrate=migrate)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """Hold the database's crawl-and-send lock (the daemon's) for a command that crawls or
    sends; refuse at once beside a running daemon or another such command. Runs that a dead
    process left 'running' are closed as abandoned first."""
    from tbt_alert.daemon.leader import acquire_leadership

    with acquire_leadership(engine):
        closed = close_abandoned(engine)
        if closed:
            click.echo(f"closed {closed} crawl run(s) a stopped process left running", err=True)
        yield


def close_abandoned(engine: Engine) -> int:
    from tbt_alert.store.engine import session_scope
    from tbt_alert.store.runs import abandon_running

    with session_scope(engine) as session:
        return len(abandon_running(session, now_utc()))


def make_classifier(config: Config) -> Classifier:
    from tbt_alert.classify.classifier import load_classifier

    rules = Path(config.classify.rules_path) if config.classify.rules_path else None
    model = Path(config.classify.model_path) if config.classify.model_path else None
    return load_classifier(rules_path=rules, model_path=model)


def make_mailer(config: Config) -> Mailer:
    from tbt_alert.mail.mailer import mailer_from_url

    return mailer_from_url(
        config.mail.smtp_url or None,
        outbox=config.outbox_dir,
        sender=config.mail.sender,
        timeout=config.mail.timeout_s,
        username=config.mail.smtp_username or None,
        password=config.mail.smtp_password or None,
        starttls=config.mail.starttls,
        allow_plaintext_auth=config.mail.allow_plaintext_auth,
        message_timeout=config.mail.message_timeout_s,
    )


def loopback_warning(config: Config) -> str | None:
    """A warning when real mail (SMTP) would carry links to this machine, else None."""
    if not config.mail.smtp_url or not config.web.loopback_url:
        return None
    return (
        f"warning: [web] public_url {config.web.public_url} is a loopback address: the "
        "preferences and unsubscribe links in messages to real recipients will not work "
        "(set TBT_ALERT_PUBLIC_URL to the public address of 'tbt-alert web')"
    )
