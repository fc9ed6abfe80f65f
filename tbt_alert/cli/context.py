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

from tbt_alert.config import Config, load_config
from tbt_alert.errors import TbtAlertError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tbt_alert.classify.classifier import Classifier
    from tbt_alert.mail.mailer import Mailer


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
        from tbt_alert.store.engine import make_engine, require_current, upgrade

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


@contextmanager
def database(obj: Context, *, migrate: bool = False) -> Iterator[Engine]:
    engine = obj.engine(migrate=migrate)
    try:
        yield engine
    finally:
        engine.dispose()


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
