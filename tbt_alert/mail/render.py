"""Render warning and digest emails (subject, plain text, HTML) from plain context objects.

Scraped text is hostile input. One jinja2 environment picks autoescaping by template name:
``*.html.j2`` templates autoescape, text and subject templates do not (so a text part never shows
``&amp;``). ``StrictUndefined`` everywhere: a missing variable is an error, never an empty string.
Links from scraped data go through the ``safe_url`` filter (http and https only). Every printed value
loses its control characters, and subjects are cut to one bounded line.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup

from tbt_alert.errors import DeliveryError
from tbt_alert.resources import resource_dir
from tbt_alert.text.scan import http_url

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
TEMPLATE_DIR = resource_dir("templates") / "email"
TEMPLATE_SET = "email-1"
SUBJECT_MAX = 120
EXCERPT_CHARS = 600
HTML_BUDGET = 90_000  # bytes; Gmail clips messages over about 100 KB
DIGEST_FULL = 25  # notifications shown in full in one digest, at most
DIGEST_LINES = 100  # further notifications listed one line each, at most
RISK_ORDER = ("red", "amber", "green")

# C0 controls except TAB and LF, DEL, C1 controls, and the bidi overrides/isolates (Trojan Source).
_BODY_JUNK = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class SectorLine:
    sector_id: str
    name: str
    tier: str
    reasons: tuple[str, ...]
    risk_level: str  # "red" | "amber" | "green"
    risk_reasons: tuple[str, ...]


@dataclass(frozen=True)
class WarningContext:
    kind: str  # "new" | "update" | "correction"
    change_summary: str | None
    symbol: str
    joint_symbols: tuple[str, ...]
    member: str
    title: str
    description: str | None
    sectors: tuple[SectorLine, ...]
    distribution_date: date | None
    comment_deadline: date | None
    deadline_text: str | None
    days_left: int | None
    document_url: str | None
    notification_url: str | None
    unsubscribe_url: str
    preferences_url: str
    comment_url: str | None
    # says the title and summary are not in the reader's language, or machine translated
    language_note: str | None = None
    # for a correction: the names of the sectors analysts added after the first warning
    added_sectors: tuple[str, ...] = ()


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str
    template_version: str


# ---------------------------------------------------------------- filters and cleaning


def safe_url(value: object) -> str:
    """The URL if it is an absolute http(s) URL without whitespace or controls, else ``""``."""
    return http_url(value) or ""


def clean_text(value: str) -> str:
    """Body text: CRLF/CR become LF; other control and bidi-override characters go."""
    return _BODY_JUNK.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))


def clean_line(value: str, limit: int = SUBJECT_MAX) -> str:
    """One line for a header: every control/format/separator char becomes a space, then cut."""
    chars = (" " if unicodedata.category(ch)[0] in "CZ" else ch for ch in value)
    line = _SPACES.sub(" ", "".join(chars)).strip()
    return clip(line, limit)


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut (at a space if one is near)."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip(" ,.;:，。；：、") + "…"


def excerpt(value: str | None, limit: int = EXCERPT_CHARS) -> str:
    """Whitespace collapsed, then clipped: descriptions can run to many pages."""
    return clip(_SPACES.sub(" ", value or "").strip(), limit)


def date_zh(value: date) -> str:
    return f"{value.year}年{value.month}月{value.day}日"


def date_en(value: date) -> str:
    return f"{value.day} {value.strftime('%B')} {value.year}"


def _finalize(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return clean_text(value)
    return value


# ---------------------------------------------------------------- environment


def make_environment(template_dir: Path | None = None) -> jinja2.Environment:
    """The environment every email template is rendered with (see the module docstring)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir or TEMPLATE_DIR),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        safe_url=safe_url, excerpt=excerpt, clip=clip, date_zh=date_zh, date_en=date_en
    )
    return env


def check_environment(env: jinja2.Environment) -> None:
    """Refuse an environment that would HTML-escape text parts, not escape HTML, or hide undefineds."""
    escape = env.autoescape
    html_on = escape("x.html.j2") if callable(escape) else escape
    text_on = escape("x.txt.j2") if callable(escape) else escape
    strict = isinstance(env.undefined, type) and issubclass(env.undefined, jinja2.StrictUndefined)
    if not (html_on and not text_on and strict and "safe_url" in env.filters):
        raise DeliveryError(
            "email environment must autoescape *.html.j2 only, use StrictUndefined and have the "
            "safe_url filter: build it with render.make_environment()"
        )


_default_env: jinja2.Environment | None = None


def default_environment() -> jinja2.Environment:
    global _default_env
    if _default_env is None:
        _default_env = make_environment()
    return _default_env


# ---------------------------------------------------------------- rendering


def _check_context(ctx: WarningContext) -> None:
    if ctx.kind not in ("new", "update", "correction"):
        raise DeliveryError(f"{ctx.symbol}: unknown warning kind {ctx.kind!r}")
    for line in ctx.sectors:
        if line.risk_level not in RISK_ORDER:
            raise DeliveryError(f"{ctx.symbol}: unknown risk level {line.risk_level!r}")
    for name in ("unsubscribe_url", "preferences_url"):
        if not safe_url(getattr(ctx, name)):
            raise DeliveryError(f"{ctx.symbol}: {name} must be an absolute http(s) URL")


def top_risk(sectors: Sequence[SectorLine]) -> str | None:
    levels = [s.risk_level for s in sectors if s.risk_level in RISK_ORDER]
    return min(levels, key=RISK_ORDER.index) if levels else None


def short_sector_label(sectors: Sequence[SectorLine], lang: Lang) -> str:
    """Short sector names for a subject (鞋革（鞋类及皮革） -> 鞋革); two at most, then 等 or +n."""
    names = [re.split(r"[（(]", s.name, maxsplit=1)[0].strip() or s.name for s in sectors]
    if len(names) <= 2:
        return "/".join(names)
    more = "等" if lang == "zh" else f" +{len(names) - 2}"
    return "/".join(names[:2]) + more


def _render_parts(
    env: jinja2.Environment, stem: str, lang: Lang, variables: dict[str, Any]
) -> RenderedMessage:
    names = [f"{stem}.subject.{lang}.j2", f"{stem}.{lang}.txt.j2", f"{stem}.{lang}.html.j2"]
    partials = [f"_notice.{lang}.txt.j2", f"_notice.{lang}.html.j2"]
    try:
        subject, text, html = (env.get_template(n).render(variables) for n in names)
        version = template_version(env, names + partials)
    except jinja2.TemplateError as e:
        raise DeliveryError(f"cannot render {stem} ({lang}): {e}") from e
    return RenderedMessage(
        subject=clean_line(subject), text=text, html=html, template_version=version
    )


def template_version(env: jinja2.Environment, names: Sequence[str]) -> str:
    """``email-1+<hash of the template sources>``: changes whenever a template is edited."""
    digest = hashlib.sha256()
    for name in names:
        if env.loader is None:
            raise DeliveryError("email environment has no template loader")
        source, _, _ = env.loader.get_source(env, name)
        digest.update(name.encode() + b"\0" + source.encode() + b"\0")
    return f"{TEMPLATE_SET}+{digest.hexdigest()[:12]}"


def _resolve(lang: str, env: jinja2.Environment | None) -> jinja2.Environment:
    if lang not in LANGS:
        raise DeliveryError(f"unsupported message language {lang!r}")
    if env is None:
        return default_environment()
    check_environment(env)
    return env


def render_warning(
    ctx: WarningContext, lang: Lang, env: jinja2.Environment | None = None
) -> RenderedMessage:
    """Subject, text and HTML of one warning about one notification, in ``lang``."""
    env = _resolve(lang, env)
    _check_context(ctx)
    variables = {
        "w": ctx,
        "sector_label": short_sector_label(ctx.sectors, lang),
        "top_risk": top_risk(ctx.sectors),
    }
    return _render_parts(env, "warning", lang, variables)


def render_digest(
    contexts: Sequence[WarningContext],
    lang: Lang,
    period_label: str,
    env: jinja2.Environment | None = None,
) -> RenderedMessage:
    """One message listing several notifications (a daily or weekly digest), most urgent first.

    The most urgent ones are shown in full, as many as fit in ``HTML_BUDGET``; the others as one
    line each (at most ``DIGEST_LINES``), then a count. Footer links come from the first context:
    every context of one digest is for the same subscriber.
    """
    env = _resolve(lang, env)
    if not contexts:
        raise DeliveryError("a digest needs at least one notification")
    for ctx in contexts:
        _check_context(ctx)
    ordered = sorted(contexts, key=_urgency)
    base = {
        "period_label": period_label,
        "footer": ordered[0],
        "total": len(ordered),
        "counts": {r: sum(top_risk(c.sectors) == r for c in ordered) for r in RISK_ORDER},
    }
    full = min(len(ordered), DIGEST_FULL)
    while True:
        rest = ordered[full:]
        variables = base | {
            "items": ordered[:full],
            "rest": rest[:DIGEST_LINES],
            "omitted": max(len(rest) - DIGEST_LINES, 0),
        }
        rendered = _render_parts(env, "digest", lang, variables)
        if full == 0 or len(rendered.html.encode()) <= HTML_BUDGET:
            return rendered
        full //= 2


def _urgency(ctx: WarningContext) -> tuple[int, int, str]:
    risk = top_risk(ctx.sectors)
    rank = RISK_ORDER.index(risk) if risk else len(RISK_ORDER)
    days = ctx.days_left if ctx.days_left is not None and ctx.days_left >= 0 else 10_000
    return rank, days, ctx.symbol
