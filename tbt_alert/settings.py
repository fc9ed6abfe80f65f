"""The configuration's raw reading (TOML file plus ``TBT_ALERT_*`` environment overrides), and
the few settings analysts' read-only commands need, checked without pydantic so they start fast.

``tbt_alert.config.load_config`` reads through ``read_raw`` too and validates every section; the
light ``load_settings`` checks only what it returns (the data folder, ``[database] url``,
``[review] mode``, ``[terminal] language``), each with the same one-line ``ConfigError`` naming the
key, and refuses sections it does not know. Other sections are validated by the commands that
read them."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tbt_alert.errors import ConfigError

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

# The sections of the configuration, in the order of tbt_alert.config.Config (a test keeps them
# equal), and the choices of the keys the light reader checks.
SECTION_NAMES = (
    "database",
    "mail",
    "eping",
    "eutbt",
    "feeds",
    "fetch",
    "web",
    "classify",
    "schedule",
    "review",
    "terminal",
    "comments",
    "translate",
    "operations",
)
REVIEW_MODES = ("auto", "possible", "all")
LANGUAGES = ("en", "zh")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "tbt-alert"


def config_path(path: Path | None, env: Mapping[str, str]) -> Path | None:
    if path is None and env.get("TBT_ALERT_CONFIG"):
        return Path(env["TBT_ALERT_CONFIG"])
    return path


def read_raw(path: Path | None, env: Mapping[str, str]) -> dict[str, Any]:
    """The TOML file's tables (if any) with the environment's overrides applied, unvalidated."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"configuration file {path} does not exist") from None
        except (UnicodeDecodeError, IsADirectoryError, PermissionError) as e:
            raise ConfigError(f"configuration file {path} cannot be read: {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"configuration file {path} is not valid TOML: {e}") from None
    for var, (section, key) in ENV_OVERRIDES.items():
        if env.get(var):
            target = raw.setdefault(section, {}) if section else raw
            if not isinstance(target, dict):
                raise ConfigError(f"[{section}] must be a table")
            target[key] = env[var]
    return raw


@dataclass(frozen=True)
class Settings:
    """What the read-only analysts' commands need from the configuration."""

    data_dir: Path
    database_url_setting: str = ""  # empty: a SQLite file in the data directory
    review_mode: str = "auto"
    language: str = "en"

    @property
    def database_url(self) -> str:
        return self.database_url_setting or f"sqlite:///{self.data_dir / 'tbt-alert.sqlite3'}"


def _section(raw: Mapping[str, Any], name: str, keys: tuple[str, ...], source: str) -> dict:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [{name}] must be a table, got {value!r}")
    for key in value:
        if key not in keys:
            raise ConfigError(
                f"{source}: unknown key '[{name}] {key}'; known keys of [{name}]: {', '.join(keys)}"
            )
    return value


def _choice(
    section: Mapping[str, Any], name: str, key: str, choices: tuple[str, ...], source: str
) -> str:
    value = section.get(key, choices[0])
    if not isinstance(value, str) or value not in choices:
        quoted = [repr(c) for c in choices]
        wanted = ", ".join(quoted[:-1]) + " or " + quoted[-1]
        raise ConfigError(f"{source}: [{name}] {key}: input should be {wanted} (got {value!r})")
    return value


def settings_from(raw: Mapping[str, Any], *, source: str = "configuration") -> Settings:
    """Check and read the keys ``Settings`` holds; refuse unknown sections and keys of those."""
    for key in raw:
        if key != "data_dir" and key not in SECTION_NAMES:
            raise ConfigError(
                f"{source}: unknown key {key!r}; known: data_dir, {', '.join(SECTION_NAMES)}"
            )
    data_dir: Any = raw.get("data_dir", None)
    if data_dir is None:
        folder = default_data_dir()
    elif isinstance(data_dir, str) and data_dir:
        folder = Path(data_dir).expanduser()
    else:
        raise ConfigError(
            f"{source}: data_dir: must be a non-empty string (a folder), got {data_dir!r}"
        )
    database = _section(raw, "database", ("url",), source)
    url = database.get("url", "")
    if not isinstance(url, str):
        raise ConfigError(f"{source}: [database] url: input should be a valid string (got {url!r})")
    review = _section(raw, "review", ("mode",), source)
    terminal = _section(raw, "terminal", ("language",), source)
    return Settings(
        data_dir=folder,
        database_url_setting=url,
        review_mode=_choice(review, "review", "mode", REVIEW_MODES, source),
        language=_choice(terminal, "terminal", "language", LANGUAGES, source),
    )


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """The light reading of the configuration: what ``Settings`` holds, checked."""
    env = os.environ if environ is None else environ
    path = config_path(path, env)
    return settings_from(read_raw(path, env), source=str(path) if path else "configuration")
