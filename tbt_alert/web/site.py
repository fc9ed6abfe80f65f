"""What every page shares: configuration, database, sectors and markets, templates, guards, and
one way to answer (HTML with the security headers and the CSRF cookie, or a clear error page)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from tbt_alert.alerts.archive import ArchiveEntry
from tbt_alert.classify.rules import Sector, load_rules
from tbt_alert.config import Config
from tbt_alert.mail.language import localise
from tbt_alert.mail.mailer import Mailer, mailer_from_url
from tbt_alert.mail.render import clean_text, clip, date_en, date_zh, excerpt, safe_url
from tbt_alert.resources import resource_dir
from tbt_alert.store.engine import session_scope
from tbt_alert.store.versions import stored_versions
from tbt_alert.text.members import MEMBERS, Member
from tbt_alert.tokens import Purpose, Token, TokenError, read_token
from tbt_alert.web.guard import CSRF_COOKIE, Csrf, RateLimiter
from tbt_alert.web.texts import TEXTS, Lang, pick

TEMPLATE_DIR = resource_dir("templates") / "web"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# Wenzhou's main export markets lead the market list; the other members follow by name.
MAIN_MARKETS = (
    "EU", "USA", "JPN", "KOR", "GBR", "CAN", "AUS", "IND", "BRA", "MEX",
    "RUS", "SAU", "ARE", "TUR", "VNM", "THA", "IDN", "MYS", "ZAF", "CHN",
)  # fmt: skip
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the signed tokens are in the URLs
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _finalize(value: Any) -> Any:
    return clean_text(value) if isinstance(value, str) else value


def make_environment(template_dir: Path = TEMPLATE_DIR) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(template_dir),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2", "atom.j2"), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        safe_url=safe_url, excerpt=excerpt, clip=clip, date_zh=date_zh, date_en=date_en
    )
    return env


def default_mailer_factory(config: Config) -> Callable[[], Mailer]:
    def make() -> Mailer:
        return mailer_from_url(
            config.mail.smtp_url or None,
            outbox=config.outbox_dir,
            sender=config.mail.sender,
            timeout=config.mail.timeout_s,
            username=config.mail.smtp_username or None,
            password=config.mail.smtp_password or None,
            starttls=config.mail.starttls,
        )

    return make


@dataclass
class Site:
    config: Config
    engine: Engine
    sectors: tuple[Sector, ...]  # core sectors first
    markets: tuple[Member, ...]
    env: jinja2.Environment
    csrf: Csrf
    per_client: RateLimiter
    per_address: RateLimiter
    new_mailer: Callable[[], Mailer]
    clock: Callable[[], datetime]

    @classmethod
    def build(
        cls,
        config: Config,
        engine: Engine,
        *,
        mailer_factory: Callable[[], Mailer] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> Site:
        path = config.classify.rules_path
        rules = load_rules(Path(path) if path else None)
        sectors = tuple(sorted(rules.sectors, key=lambda s: not s.core))
        web = config.web
        return cls(
            config=config,
            engine=engine,
            sectors=sectors,
            markets=tuple(sorted(MEMBERS, key=_market_order)),
            env=make_environment(),
            csrf=Csrf(web.secret_key),
            per_client=RateLimiter(web.rate_limit_client, web.rate_window_s),
            per_address=RateLimiter(web.rate_limit_address, web.rate_window_s),
            new_mailer=mailer_factory or default_mailer_factory(config),
            clock=clock or (lambda: datetime.now(UTC)),
        )

    # ------------------------------------------------------------ helpers

    @property
    def root(self) -> str:
        """The path prefix of every page (public_url's path), e.g. ``/`` or ``/alerts/``."""
        path = urlsplit(self.config.web.public_url).path or "/"
        return path if path.endswith("/") else path + "/"

    def url(self, path: str, lang: Lang | None = None) -> str:
        """Absolute URL of ``path`` (no leading slash) under public_url."""
        query = f"?{urlencode({'lang': lang})}" if lang == "en" else ""
        return f"{self.config.web.public_url.rstrip('/')}/{path}{query}"

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    def sector_ids(self) -> list[str]:
        return [s.id for s in self.sectors]

    def sector_name(self, sector_id: str, lang: Lang) -> str:
        for s in self.sectors:
            if s.id == sector_id:
                return s.name_zh if lang == "zh" else s.name_en
        return sector_id

    def localised(self, session: Session, entry: ArchiveEntry, lang: Lang) -> ArchiveEntry:
        """The entry's title and description in ``lang`` when a source gave them in it (no
        machine translation on the web); ``note`` says when they are the original."""
        local = localise(
            title=entry.title,
            description=entry.description,
            language=entry.language,
            versions=stored_versions(session, entry.notification_id),
            lang=lang,
        )
        return replace(entry, title=local.title, description=local.description, note=local.note)

    def read(self, token: str, purpose: Purpose) -> Token:
        return read_token(self.config.web.secret_key, token, purpose, now=self.clock())

    def token_of(self, request: Request, lang: Lang, purpose: Purpose) -> Token | Response:
        """The genuine token in the page's path, or the 400 page that says why it is not."""
        try:
            return self.read(request.path_params["token"], purpose)
        except TokenError as e:
            return self.bad_token(request, lang, e)

    def client_allowed(self, request: Request) -> bool:
        host = request.client.host if request.client else "unknown"
        return self.per_client.allow(f"client:{host}", time.monotonic())

    def address_allowed(self, address: str) -> bool:
        return self.per_address.allow(f"address:{address.lower()}", time.monotonic())

    def csrf_ok(self, request: Request, field: object) -> bool:
        return self.csrf.valid(
            request.cookies.get(CSRF_COOKIE), field if isinstance(field, str) else None
        )

    # ------------------------------------------------------------ answers

    def page(
        self, request: Request, template: str, lang: Lang, status: int = 200, **ctx: Any
    ) -> Response:
        """An HTML page; sets the CSRF cookie when the browser has none yet."""
        cookie = request.cookies.get(CSRF_COOKIE)
        fresh = None
        if not cookie or len(cookie) > 64:
            cookie = fresh = Csrf.new_cookie()
        other = "en" if lang == "zh" else "zh"
        params = dict(request.query_params) | {"lang": other}
        html = self.env.get_template(template).render(
            t=TEXTS[lang],
            lang=lang,
            root=self.root,
            csrf=self.csrf.field_for(cookie),
            switch_url=f"{request.url.path}?{urlencode(params)}",
            **ctx,
        )
        response = HTMLResponse(html, status_code=status)
        if fresh:
            response.set_cookie(
                CSRF_COOKIE,
                fresh,
                httponly=True,
                samesite="strict",
                secure=self.config.web.public_url.startswith("https:"),
                path=self.root,
            )
        return response

    def notice(
        self,
        request: Request,
        lang: Lang,
        title_key: str,
        lines: list[str],
        status: int = 200,
        link: str = "",
        link_text: str = "",
    ) -> Response:
        t = TEXTS[lang]
        return self.page(
            request,
            "notice.html.j2",
            lang,
            status,
            title=t[title_key],
            lines=lines,
            link=link,
            link_text=link_text,
        )

    def bad_token(self, request: Request, lang: Lang, error: TokenError) -> Response:
        t = TEXTS[lang]
        return self.notice(
            request, lang, "bad_link_title", [t[f"reason_{error.reason}"], t["bad_link_text"]], 400
        )


def _market_order(member: Member) -> tuple[int, str]:
    if member.code in MAIN_MARKETS:
        return MAIN_MARKETS.index(member.code), ""
    return len(MAIN_MARKETS), member.name_en


def lang_of(request: Request, default: Lang = "zh") -> Lang:
    return pick(request.query_params.get("lang"), default)


def iso(value: datetime | date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return f"{value.isoformat()}T00:00:00Z"
