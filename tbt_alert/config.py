"""One configuration surface: a TOML file plus ``TBT_ALERT_*`` environment overrides.

Loaded once at the edge (CLI, daemon), validated, and passed down; nothing deeper reads the
environment. ``tbt-alert.example.toml`` documents every key. Each section is a frozen, validated
dataclass (pydantic): a wrong type, a value out of range or an unknown key is a ``ConfigError``
whose one line names the key, e.g. ``[eping] page_size: must be at most 100 (got 500)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import field, fields
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.dataclasses import dataclass

from tbt_alert.errors import ConfigError
from tbt_alert.settings import config_path, default_data_dir, read_raw

DEFAULT_EPING_BASE_URL = "https://epingalert.org/api/v1/"
DEFAULT_SECRET_KEY = "change-me-to-a-long-random-secret"  # noqa: S105 - a placeholder that `web` refuses

# Every section refuses keys it does not know; values from the environment arrive as strings and
# are converted (numbers, true/false, comma-separated lists).
_SECTION = ConfigDict(extra="forbid")


def _comma_list(value: Any) -> Any:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


NonNegativeInt = Annotated[int, Field(ge=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
PositiveFloat = Annotated[float, Field(gt=0)]
NonEmptyStr = Annotated[str, Field(min_length=1)]
StrList = Annotated[tuple[NonEmptyStr, ...], BeforeValidator(_comma_list)]


_HOSTNAME = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def _http_url(value: str) -> str:
    if urlsplit(value).scheme not in ("http", "https"):
        raise ValueError(f"must be an http(s) URL, got {value!r}")
    return value


@dataclass(frozen=True, config=_SECTION)
class DatabaseConfig:
    url: str = ""  # empty: a SQLite file in the data directory


@dataclass(frozen=True, config=_SECTION)
class MailConfig:
    smtp_url: str = ""  # empty: write .eml files to the outbox folder
    smtp_username: str = ""
    smtp_password: str = field(default="", repr=False)
    starttls: bool = False
    allow_plaintext_auth: bool = False  # send credentials without TLS (trusted network only)
    timeout_s: NonNegativeFloat = 30.0
    message_timeout_s: PositiveFloat = 120.0  # one message, overall
    run_timeout_s: PositiveFloat = 3600.0  # one sending run, overall
    sender: str = "tbt-alert <alerts@tbt-alert.invalid>"
    message_id_domain: str = "tbt-alert.invalid"
    max_per_run: NonNegativeInt = 5000
    # Domain of the Reply-To address of warnings (reply+<token>@reply_domain), routed by the
    # operator's mail server to `tbt-alert inbound`. Empty: warnings carry no Reply-To.
    reply_domain: str = ""

    @field_validator("reply_domain")
    @classmethod
    def _reply_domain(cls, value: str) -> str:
        if value and not _HOSTNAME.match(value):
            raise ValueError(f"must be a domain name such as reply.example.org, got {value!r}")
        return value.lower()

    # VERP: each message's return path is bounce+<token>@bounce_domain (empty: the sender)
    bounce_domain: str = ""
    bounce_threshold: Annotated[int, Field(ge=1)] = 3  # hard bounces that suspend an address
    # days an accepted message must go without a bounce to prove the address works again (its
    # older hard bounces stop counting); 0: acceptance alone (only when sending straight to
    # the recipients' servers: a relay accepts what bounces later)
    bounce_quiet_days: NonNegativeInt = 7

    @field_validator("smtp_url")
    @classmethod
    def _smtp_scheme(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in ("smtp", "smtps"):
            raise ValueError(f"must look like smtp://host:port or smtps://host:port, got {value!r}")
        return value

    @field_validator("bounce_domain")
    @classmethod
    def _bounce_domain(cls, value: str) -> str:
        if value and not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?", value):
            raise ValueError(f"must be a plain domain name, got {value!r}")
        return value


@dataclass(frozen=True, config=_SECTION)
class EpingConfig:
    base_url: str = DEFAULT_EPING_BASE_URL
    page_size: Annotated[int, Field(ge=1, le=100)] = 100
    download_delay_s: NonNegativeFloat = 1.0
    timeout_s: NonNegativeFloat = 1800.0
    lookback_days: NonNegativeInt = 30
    # a backfill stops after this many windows failed in a row (not counting empty ones); 0: never
    backfill_max_failed_windows: NonNegativeInt = 3
    obey_robots: bool = True
    # The official keyed API, used instead of the keyless one when a key is set.
    api_key: str = field(default="", repr=False)
    api_url: str = "https://api.wto.org/eping/"

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        _http_url(value)
        if not value.endswith("/"):
            raise ValueError(f"must end with '/', got {value!r}")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return _http_url(value)


@dataclass(frozen=True, config=_SECTION)
class EuTbtConfig:
    base_url: str = "https://technical-barriers-trade.ec.europa.eu/en/"

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        return _http_url(value)


@dataclass(frozen=True, config=_SECTION)
class FeedsConfig:
    urls: StrList = ()

    @field_validator("urls")
    @classmethod
    def _urls(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for url in value:
            _http_url(url)
        return value


DEFAULT_ALLOWED_HOSTS = (
    "epingalert.org",
    "eping.wto.org",
    "api.wto.org",
    "docs.wto.org",
    "members.wto.org",
    "technical-barriers-trade.ec.europa.eu",
)


@dataclass(frozen=True, config=_SECTION)
class FetchConfig:
    """Bounds on every fetch: hosts a crawl may reach, time and size limits, retries."""

    allowed_hosts: StrList = DEFAULT_ALLOWED_HOSTS
    timeout_s: NonNegativeFloat = 30.0
    max_bytes: NonNegativeInt = 16 * 1024 * 1024
    retries: NonNegativeInt = 2


@dataclass(frozen=True, config=_SECTION)
class ScheduleConfig:
    """When the daemon runs its jobs (APScheduler cron fields, in ``timezone``)."""

    timezone: str = "Asia/Shanghai"
    cycle_minutes: Annotated[int, Field(ge=5)] = 180  # crawl, classify, send warnings
    digest_hour: Annotated[int, Field(ge=0, le=23)] = 8  # daily and weekly digests at this hour
    weekly_digest_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    misfire_grace_s: NonNegativeInt = 3600

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"{value!r} is not a known IANA time zone") from e
        return value


@dataclass(frozen=True, config=_SECTION)
class WebConfig:
    public_url: str = "http://127.0.0.1:8080/"
    # Signs the tokens in links and reply addresses; `web` refuses to start with the default.
    secret_key: NonEmptyStr = field(default=DEFAULT_SECRET_KEY, repr=False)
    # Subscriptions never confirmed are deleted after this many days (by every cycle).
    unconfirmed_days: Annotated[int, Field(ge=1)] = 7
    # Abuse limits of the web app: form posts per client address, and subscribe requests per
    # email address, within each rate_window_s.
    rate_limit_client: Annotated[int, Field(ge=1)] = 30
    rate_limit_address: Annotated[int, Field(ge=1)] = 5
    rate_window_s: Annotated[float, Field(gt=0)] = 600.0

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        return _http_url(value)

    @property
    def loopback_url(self) -> bool:
        """True when public_url points at this machine: links in real mail would not work."""
        host = (urlsplit(self.public_url).hostname or "").lower()
        return (
            host in ("localhost", "::1") or host.startswith("127.") or host.endswith(".localhost")
        )


@dataclass(frozen=True, config=_SECTION)
class ClassifyConfig:
    rules_path: str = ""  # empty: rules/sectors.yaml of this installation
    model_path: str = ""  # empty: the bundled model


@dataclass(frozen=True, config=_SECTION)
class OperationsConfig:
    """Telling the operator when a source keeps failing."""

    alert_email: str = ""  # off when empty
    alert_after_failures: Annotated[int, Field(ge=1, le=100)] = 3  # runs failed in a row

    @field_validator("alert_email")
    @classmethod
    def _address(cls, value: str) -> str:
        value = value.strip()
        if value and (value.count("@") != 1 or any(c.isspace() for c in value)):
            raise ValueError(f"must be one email address or empty, got {value!r}")
        return value


@dataclass(frozen=True, config=_SECTION)
class ReviewConfig:
    """Whether warnings wait for an analyst (tbt_alert.triage.decisions explains each mode)."""

    mode: Literal["auto", "possible", "all"] = "auto"


@dataclass(frozen=True, config=_SECTION)
class TerminalConfig:
    """Analysts' terminal output."""

    language: Literal["en", "zh"] = "en"  # sector names in tables


@dataclass(frozen=True, config=_SECTION)
class CommentsConfig:
    """Calls for comments and the drafts exporters send for them."""

    lead_days: Annotated[int, Field(ge=0, le=60)] = 10  # internal deadline = WTO deadline - this
    reminder_days: Annotated[int, Field(ge=1, le=60)] = 5  # remind this many days before it
    attachment_max_bytes: Annotated[int, Field(ge=1024)] = 10 * 1024 * 1024
    message_max_bytes: Annotated[int, Field(ge=10240)] = 25 * 1024 * 1024
    draft_max_chars: Annotated[int, Field(ge=1000)] = 100_000
    # who signs the exported comment
    contact: str = "WTO/TBT Enquiry Point of China (Wenzhou)"


@dataclass(frozen=True, config=_SECTION)
class TranslateConfig:
    """An optional machine-translation service for titles and summaries that have no human
    translation in the reader's language. Off while ``url`` is empty."""

    url: str = ""  # a self-hosted LibreTranslate, e.g. http://127.0.0.1:5000/
    api_key: str = field(default="", repr=False)
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _http_url(value) if value else value

    @property
    def enabled(self) -> bool:
        return bool(self.url)


def _data_dir(value: Any) -> Any:
    if isinstance(value, Path):
        return value
    if not isinstance(value, str) or not value:
        raise ValueError(f"must be a non-empty string (a folder), got {value!r}")
    return Path(value).expanduser()


@dataclass(frozen=True, config=_SECTION)
class Config:
    data_dir: Annotated[Path, BeforeValidator(_data_dir)] = field(default_factory=default_data_dir)
    database: DatabaseConfig = DatabaseConfig()
    mail: MailConfig = MailConfig()
    eping: EpingConfig = EpingConfig()
    eutbt: EuTbtConfig = EuTbtConfig()
    feeds: FeedsConfig = FeedsConfig()
    fetch: FetchConfig = FetchConfig()
    web: WebConfig = WebConfig()
    classify: ClassifyConfig = ClassifyConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    review: ReviewConfig = ReviewConfig()
    terminal: TerminalConfig = TerminalConfig()
    comments: CommentsConfig = CommentsConfig()
    translate: TranslateConfig = TranslateConfig()
    operations: OperationsConfig = OperationsConfig()

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'tbt-alert.sqlite3'}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def translate_cache(self) -> Path:
        """Machine translations already made, one JSON object a line: each text once."""
        return self.data_dir / "translations.jsonl"

    @property
    def work_dir(self) -> Path:
        return self.data_dir / "work"


SECTIONS: dict[str, type] = {
    f.name: f.type if isinstance(f.type, type) else type(f.default)
    for f in fields(Config)
    if f.name != "data_dir"
}

_CONFIG = TypeAdapter(Config)


def _where(loc: tuple[int | str, ...]) -> str:
    """``('eping', 'page_size')`` -> ``[eping] page_size``; a top-level key as itself."""
    parts = [str(p) for p in loc]
    if len(parts) == 1:
        return parts[0]
    return f"[{parts[0]}] {'.'.join(parts[1:])}"


def _message(error: Any) -> str:
    loc = tuple(error["loc"])
    if error["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        if len(loc) == 1:
            return f"unknown key {loc[0]!r}; known: data_dir, {', '.join(SECTIONS)}"
        known = ", ".join(f.name for f in fields(SECTIONS[str(loc[0])]))
        return f"unknown key {_where(loc)!r}; known keys of [{loc[0]}]: {known}"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("dataclass_type", "dataclass_args_type", "model_type"):
        return f"[{loc[0]}] must be a table, got {error.get('input')!r}"
    message = message[:1].lower() + message[1:]
    value = error.get("input")
    shown = "" if isinstance(value, dict) or "got" in message else f" (got {value!r})"
    return f"{_where(loc)}: {message}{shown}"


def build_config(raw: Mapping[str, Any], *, source: str = "configuration") -> Config:
    """Validate a parsed TOML document (sections as tables) into a ``Config``; the
    ``ConfigError`` names the first wrong key and, when there are more, how many."""
    try:
        return _CONFIG.validate_python(dict(raw))
    except ValidationError as e:
        errors = e.errors()
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(f"{source}: {_message(errors[0])}{more}") from None


def load_config(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the TOML file (if any), apply environment overrides, validate."""
    env = os.environ if environ is None else environ
    path = config_path(path, env)
    return build_config(read_raw(path, env), source=str(path) if path else "configuration")
