"""One configuration surface: a TOML file plus ``TBT_ALERT_*`` environment overrides.

Loaded once at the edge (CLI, daemon), validated, and passed down; nothing deeper reads the
environment. ``tbt-alert.example.toml`` documents every key.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tbt_alert.errors import ConfigError

DEFAULT_EPING_BASE_URL = "https://epingalert.org/api/v1/"

# environment variable -> (section, key)
ENV_OVERRIDES: dict[str, tuple[str, str]] = {
    "TBT_ALERT_DATA_DIR": ("", "data_dir"),
    "TBT_ALERT_DATABASE_URL": ("database", "url"),
    "TBT_ALERT_SMTP_URL": ("mail", "smtp_url"),
    "TBT_ALERT_SMTP_USERNAME": ("mail", "smtp_username"),
    "TBT_ALERT_SMTP_PASSWORD": ("mail", "smtp_password"),
    "TBT_ALERT_MAIL_FROM": ("mail", "sender"),
    "TBT_ALERT_EPING_BASE_URL": ("eping", "base_url"),
    "TBT_ALERT_EPING_API_KEY": ("eping", "api_key"),
    "TBT_ALERT_PUBLIC_URL": ("web", "public_url"),
    "TBT_ALERT_SECRET_KEY": ("web", "secret_key"),
}


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tbt-alert"


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = ""  # empty: a SQLite file in the data directory


@dataclass(frozen=True)
class MailConfig:
    smtp_url: str = ""  # empty: write .eml files to the outbox folder
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    starttls: bool = False
    timeout_s: float = 30.0
    sender: str = "tbt-alert <alerts@tbt-alert.invalid>"
    message_id_domain: str = "tbt-alert.invalid"
    max_per_run: int = 5000


@dataclass(frozen=True)
class EpingConfig:
    base_url: str = DEFAULT_EPING_BASE_URL
    page_size: int = 100
    download_delay_s: float = 1.0
    timeout_s: float = 1800.0
    lookback_days: int = 30
    obey_robots: bool = True
    # The official keyed API, used instead of the keyless one when a key is set.
    api_key: str = field(default="", repr=False)
    api_url: str = "https://api.wto.org/eping/"


@dataclass(frozen=True)
class EuTbtConfig:
    base_url: str = "https://technical-barriers-trade.ec.europa.eu/en/"


@dataclass(frozen=True)
class FeedsConfig:
    urls: tuple[str, ...] = ()


DEFAULT_ALLOWED_HOSTS = (
    "epingalert.org",
    "eping.wto.org",
    "api.wto.org",
    "docs.wto.org",
    "members.wto.org",
    "technical-barriers-trade.ec.europa.eu",
)


@dataclass(frozen=True)
class FetchConfig:
    """Bounds on every fetch: hosts a crawl may reach, time and size limits, retries."""

    allowed_hosts: tuple[str, ...] = DEFAULT_ALLOWED_HOSTS
    timeout_s: float = 30.0
    max_bytes: int = 16 * 1024 * 1024
    retries: int = 2


@dataclass(frozen=True)
class ScheduleConfig:
    """When the daemon runs its jobs (APScheduler cron fields, in ``timezone``)."""

    timezone: str = "Asia/Shanghai"
    cycle_minutes: int = 180  # crawl, classify, send warnings
    digest_hour: int = 8  # daily and weekly digests are sent at this hour
    weekly_digest_day: str = "mon"
    misfire_grace_s: int = 3600


@dataclass(frozen=True)
class WebConfig:
    public_url: str = "http://127.0.0.1:8080/"
    secret_key: str = field(default="change-me", repr=False)


@dataclass(frozen=True)
class ClassifyConfig:
    rules_path: str = ""  # empty: rules/sectors.yaml of this installation
    model_path: str = ""  # empty: the bundled model


@dataclass(frozen=True)
class Config:
    data_dir: Path = field(default_factory=default_data_dir)
    database: DatabaseConfig = DatabaseConfig()
    mail: MailConfig = MailConfig()
    eping: EpingConfig = EpingConfig()
    eutbt: EuTbtConfig = EuTbtConfig()
    feeds: FeedsConfig = FeedsConfig()
    fetch: FetchConfig = FetchConfig()
    web: WebConfig = WebConfig()
    classify: ClassifyConfig = ClassifyConfig()
    schedule: ScheduleConfig = ScheduleConfig()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'tbt-alert.sqlite3'}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"


SECTIONS: dict[str, type] = {
    "database": DatabaseConfig,
    "mail": MailConfig,
    "eping": EpingConfig,
    "eutbt": EuTbtConfig,
    "feeds": FeedsConfig,
    "fetch": FetchConfig,
    "web": WebConfig,
    "classify": ClassifyConfig,
    "schedule": ScheduleConfig,
}


def _coerce(where: str, value: Any, default: Any) -> Any:
    """Check a TOML or environment value against the type of its default."""
    if isinstance(default, tuple):
        if isinstance(value, str):  # from the environment: comma-separated
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool):
        if isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if isinstance(default, (int, float)):
        try:
            number = type(default)(value)
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{where}: expected a number, got {value!r}") from e
        if number < 0:
            raise ConfigError(f"{where}: must not be negative, got {value!r}")
        return number
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _section(name: str, cls: type, values: Mapping[str, Any]) -> Any:
    defaults = cls()
    known = {f.name for f in fields(cls)}
    for key in values:
        if key not in known:
            raise ConfigError(f"unknown key [{name}] {key!r}; known keys: {', '.join(sorted(known))}")
    coerced = {k: _coerce(f"[{name}] {k}", v, getattr(defaults, k)) for k, v in values.items()}
    return replace(defaults, **coerced)


def _validate(config: Config) -> None:
    scheme = urlsplit(config.mail.smtp_url).scheme if config.mail.smtp_url else ""
    if config.mail.smtp_url and scheme not in ("smtp", "smtps"):
        raise ConfigError(f"[mail] smtp_url must look like smtp://host:port, got scheme {scheme!r}")
    if urlsplit(config.eping.base_url).scheme not in ("http", "https"):
        raise ConfigError("[eping] base_url must be an http(s) URL")
    if not config.eping.base_url.endswith("/"):
        raise ConfigError("[eping] base_url must end with '/'")
    for url in (config.eutbt.base_url, config.eping.api_url, *config.feeds.urls):
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigError(f"URL {url!r} must be http(s)")
    if config.schedule.weekly_digest_day not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        raise ConfigError("[schedule] weekly_digest_day must be one of mon, tue, ..., sun")
    if not 0 <= config.schedule.digest_hour <= 23 or config.schedule.cycle_minutes < 5:
        raise ConfigError("[schedule] digest_hour must be 0-23 and cycle_minutes at least 5")
    try:
        ZoneInfo(config.schedule.timezone)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(f"[schedule] timezone {config.schedule.timezone!r} is not a known zone") from e
    if not 1 <= config.eping.page_size <= 100:
        raise ConfigError("[eping] page_size must be between 1 and 100")


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (if any), apply environment overrides, validate."""
    env = os.environ if environ is None else environ
    if path is None and env.get("TBT_ALERT_CONFIG"):
        path = Path(env["TBT_ALERT_CONFIG"])
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as e:
            raise ConfigError(f"configuration file {path} does not exist") from e
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"configuration file {path} is not valid TOML: {e}") from e
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            target = raw.setdefault(section, {}) if section else raw
            if not isinstance(target, dict):
                raise ConfigError(f"[{section}] must be a table")
            target[key] = env[var]
    return _build(raw, source=str(path) if path else "defaults")


def _build(raw: dict[str, Any], source: str) -> Config:
    unknown = set(raw) - set(SECTIONS) - {"data_dir"}
    if unknown:
        raise ConfigError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    parts: dict[str, Any] = {}
    for name, cls in SECTIONS.items():
        values = raw.get(name, {})
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: [{name}] must be a table")
        parts[name] = _section(name, cls, values)
    if "data_dir" in raw:
        if not isinstance(raw["data_dir"], str) or not raw["data_dir"]:
            raise ConfigError(f"{source}: data_dir must be a non-empty string")
        parts["data_dir"] = Path(raw["data_dir"]).expanduser()
    config = Config(**parts)
    _validate(config)
    return config
