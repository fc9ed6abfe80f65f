"""``create_app(config, engine)``: the Starlette app that ``tbt-alert web`` serves under uvicorn.

Every response carries a strict Content-Security-Policy (no script at all, styles from this site
only) and no-referrer, because the signed tokens travel in URLs. ``web`` refuses to start with
the default secret key: anybody could forge its links."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tbt_alert.config import DEFAULT_SECRET_KEY, Config
from tbt_alert.errors import ConfigError
from tbt_alert.mail.mailer import Mailer
from tbt_alert.tokens import MIN_SECRET_LENGTH
from tbt_alert.web import comment, flows, public
from tbt_alert.web.site import SECURITY_HEADERS, TEMPLATE_DIR, Site, lang_of

STYLESHEET = TEMPLATE_DIR / "site.css"
MAX_BODY = 64 * 1024  # bytes: every form here is far smaller


class BodyLimit:
    """Answers 413 to a request body over ``MAX_BODY`` bytes, declared or streamed; the comment
    form, which takes an attachment, may carry up to ``comment_max`` bytes."""

    def __init__(self, app: ASGIApp, comment_max: int = MAX_BODY) -> None:
        self.app = app
        self.comment_max = max(comment_max, MAX_BODY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.comment_max if scope.get("path", "").startswith("/comment/") else MAX_BODY
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await PlainTextResponse("request body too large", status_code=413)(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:
                raise HTTPException(413, "request body too large")
            return message

        await self.app(scope, counted, send)


class SecurityHeaders:
    """Adds the security headers to every HTTP response (pages, feeds, errors, the stylesheet)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.lower().encode() not in present:
                        headers.append((name.lower().encode(), value.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def check_secret(config: Config) -> None:
    key = config.web.secret_key
    if key == DEFAULT_SECRET_KEY or len(key) < MIN_SECRET_LENGTH:
        raise ConfigError(
            "[web] secret_key is the default or shorter than "
            f"{MIN_SECRET_LENGTH} characters: set TBT_ALERT_SECRET_KEY to a long random secret"
        )


async def stylesheet(request: Request) -> Response:
    return Response(STYLESHEET.read_bytes(), media_type="text/css; charset=utf-8")


async def home(request: Request) -> Response:
    site: Site = request.app.state.site
    suffix = "?lang=en" if lang_of(request) == "en" else ""
    return RedirectResponse(site.root + "subscribe" + suffix, status_code=303)


async def not_found(request: Request, exc: Exception) -> Response:
    site: Site = request.app.state.site
    return site.notice(request, lang_of(request), "not_found_title", [], 404)


def create_app(
    config: Config,
    engine: Engine,
    *,
    mailer_factory: Callable[[], Mailer] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Starlette:
    """The web app over ``engine``; ``mailer_factory`` makes the mailer of one confirmation mail
    (default: from [mail], like every other message), ``clock`` gives the current UTC time."""
    check_secret(config)
    routes = [
        Route("/", home),
        Route("/static/site.css", stylesheet),
        Route("/subscribe", flows.subscribe_form, methods=["GET"]),
        Route("/subscribe", flows.subscribe_post, methods=["POST"]),
        Route("/confirm/{token}", flows.confirm_form, methods=["GET"]),
        Route("/confirm/{token}", flows.confirm_post, methods=["POST"]),
        Route("/preferences/{token}", flows.preferences, methods=["GET", "POST"]),
        Route("/unsubscribe/{token}", flows.unsubscribe_page, methods=["GET", "POST"]),
        Route("/comment/{token}", comment.comment_form, methods=["GET"]),
        Route("/comment/{token}", comment.comment_post, methods=["POST"]),
        Route("/archive", public.archive_index),
        Route("/archive/sector/{sector}.atom", public.archive_feed),
        Route("/archive/sector/{sector}", public.archive_sector),
        Route("/archive/bulletin/{bulletin_id}", public.bulletin_page),
        Route("/archive/digests", public.digests_index),
        Route("/archive/digest/{bulletin_id}", public.digest_page),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.site = Site.build(config, engine, mailer_factory=mailer_factory, clock=clock)
    limits = config.comments
    comment_max = limits.attachment_max_bytes + 4 * limits.draft_max_chars + comment.FORM_OVERHEAD
    app.add_middleware(BodyLimit, comment_max=comment_max)
    app.add_middleware(SecurityHeaders)
    return app
