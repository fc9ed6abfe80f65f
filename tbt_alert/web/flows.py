"""The subscriber's pages: subscribe, confirm, preferences, unsubscribe. Thin: each handler reads
the request, calls the functions of :mod:`tbt_alert.alerts.signup`, and answers with a page.

Field names of the subscribe form are a documented interface (README): ``email``, ``company``,
``sector`` (repeated), ``market`` (repeated), ``language``, ``cadence``; ``website`` is a honeypot.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from tbt_alert.alerts.signup import (
    Preferences,
    SignupGone,
    apply_preferences,
    confirm_signup,
    current_preferences,
    make_preferences,
    mark_mailed,
    request_signup,
    unsubscribe,
)
from tbt_alert.alerts.subscribers import SubscriberError, normalise_email
from tbt_alert.errors import TbtAlertError
from tbt_alert.links import signed_link
from tbt_alert.mail.confirm import confirmation_message
from tbt_alert.mail.mailer import SendStatus
from tbt_alert.status import SubscriberStatus
from tbt_alert.store.tables import Signup, Subscriber
from tbt_alert.tokens import Purpose
from tbt_alert.web.site import Site, lang_of
from tbt_alert.web.texts import TEXTS, Lang

log = logging.getLogger(__name__)
HONEYPOT = "website"
EMPTY = Preferences(sectors=())


def _form_prefs(site: Site, form: FormData, **extra: Any) -> Preferences:
    return make_preferences(
        sectors=[str(v) for v in form.getlist("sector")],
        known_sectors=site.sector_ids(),
        markets=[str(v) for v in form.getlist("market")],
        language=str(form.get("language") or "zh"),
        cadence=str(form.get("cadence") or "immediate"),
        company=str(form.get("company") or ""),
        **extra,
    )


def _raw_prefs(form: FormData) -> Preferences:
    """What the form said, unchecked: to show it again."""
    return Preferences(
        sectors=tuple(str(v) for v in form.getlist("sector")),
        markets=tuple(str(v) for v in form.getlist("market")),
        language=str(form.get("language") or "zh"),
        cadence=str(form.get("cadence") or "immediate"),
        company=str(form.get("company") or "")[:200],
    )


def _subscribe_page(
    site: Site, request: Request, lang: Lang, status: int = 200, **ctx: Any
) -> Response:
    ctx.setdefault("prefs", Preferences(sectors=(), language=lang))
    ctx.setdefault("email", "")
    return site.page(
        request,
        "subscribe.html.j2",
        lang,
        status,
        action=site.root + "subscribe" + ("?lang=en" if lang == "en" else ""),
        sectors=site.sectors,
        markets=site.markets,
        notice=ctx.pop("notice", ""),
        error=ctx.pop("error", ""),
        **ctx,
    )


async def subscribe_form(request: Request) -> Response:
    site: Site = request.app.state.site
    return _subscribe_page(site, request, lang_of(request))


async def subscribe_post(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    if not site.client_allowed(request):
        return site.notice(request, lang, "too_many_title", [t["too_many_text"]], 429)
    form = await request.form()
    thanks = site.notice(request, lang, "thanks_title", [t["thanks_text"]])
    if form.get(HONEYPOT):
        return thanks  # a bot: the same answer, nothing done
    email = str(form.get("email") or "")[:320]
    if not site.csrf_ok(request, form.get("csrf")):
        # a form embedded on another site arrives here: show it again, to submit from here
        return _subscribe_page(
            site, request, lang, email=email, prefs=_raw_prefs(form), notice=t["check_resubmit"]
        )
    try:
        address = normalise_email(email)
        prefs = _form_prefs(site, form)
    except SubscriberError as e:
        return _subscribe_page(
            site, request, lang, 400, email=email, prefs=_raw_prefs(form), error=str(e)
        )
    if not site.address_allowed(address):
        return thanks
    try:
        await run_in_threadpool(_sign_up, site, address, prefs)
    except TbtAlertError as e:
        log.warning("confirmation mail not sent: %s", e)
        return site.notice(request, lang, "mail_failed_title", [t["mail_failed_text"]], 503)
    return thanks


def _sign_up(site: Site, address: str, prefs: Preferences) -> None:
    """Record the request and mail the confirmation; mark it mailed once the server took it."""
    now = site.clock()
    with site.session() as session:
        signup = request_signup(session, address, prefs, now=now)
        if signup is None:
            return
        ids = (signup.subscriber_id, signup.id or 0)
    lang: Lang = "en" if prefs.language == "en" else "zh"
    web, mail = site.config.web, site.config.mail
    msg = confirmation_message(
        recipient=address,
        lang=lang,
        confirm_url=signed_link(
            web.public_url, web.secret_key, "confirm", ids[0], now=now, ref_id=ids[1]
        )
        + ("?lang=en" if lang == "en" else ""),
        sectors=[site.sector_name(s, lang) for s in prefs.sectors],
        markets=list(prefs.markets),
        cadence=TEXTS[lang][prefs.cadence],
        sender=mail.sender,
        domain=mail.message_id_domain,
        key=f"confirm:{ids[1]}",
        date=now,
    )
    with site.new_mailer() as mailer:
        outcome = mailer.send(msg)
    if outcome.status != SendStatus.SENT:
        raise TbtAlertError(f"the mail server did not take it: {outcome.detail}")
    with site.session() as session:
        mark_mailed(session, ids[1], now)


def _pending(site: Site, subscriber_id: int, signup_id: int) -> Preferences | None:
    with site.session() as session:
        row = session.get(Signup, signup_id)
        if row is None or row.subscriber_id != subscriber_id:
            return None
        return Preferences.from_json(row.preferences)


async def confirm_form(request: Request) -> Response:
    """Shows what will apply and a button; only the POST confirms (mail scanners follow links)."""
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    token = site.token_of(request, lang, Purpose.CONFIRM)
    if isinstance(token, Response):
        return token
    prefs = await run_in_threadpool(_pending, site, token.subscriber_id, token.ref_id)
    if prefs is None:
        return site.notice(
            request, lang, "bad_link_title", [t["reason_gone"], t["bad_link_text"]], 400
        )
    sep = "、" if lang == "zh" else ", "
    summary = [
        f"{t['sectors']}: {sep.join(site.sector_name(s, lang) for s in prefs.sectors)}",
        f"{t['markets']}: {sep.join(prefs.markets) or '—'}",
        f"{t['cadence']}: {t[prefs.cadence]}",
    ]
    return site.page(
        request,
        "button.html.j2",
        lang,
        title=t["confirm_title"],
        text=t["confirm_text"],
        summary=summary,
        action=request.url.path + ("?lang=en" if lang == "en" else ""),
        hidden=[],
        button=t["confirm_button"],
        button_class="",
    )


async def confirm_post(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    token = site.token_of(request, lang, Purpose.CONFIRM)
    if isinstance(token, Response):
        return token
    if not site.client_allowed(request):
        return site.notice(request, lang, "too_many_title", [t["too_many_text"]], 429)
    form = await request.form()
    if not site.csrf_ok(request, form.get("csrf")):
        return site.notice(request, lang, "csrf_title", [t["csrf_text"]], 400)

    def work() -> bool:
        with site.session() as session:
            try:
                confirm_signup(session, token.subscriber_id, token.ref_id, now=site.clock())
            except SignupGone:
                return False
        return True

    if not await run_in_threadpool(work):
        return site.notice(
            request, lang, "bad_link_title", [t["reason_gone"], t["bad_link_text"]], 400
        )
    prefs_url = _link(site, "preferences", token.subscriber_id, lang)
    return site.notice(
        request,
        lang,
        "confirmed_title",
        [t["confirmed_text"]],
        link=prefs_url,
        link_text=t["preferences_link"],
    )


def _link(site: Site, page: str, subscriber_id: int, lang: Lang) -> str:
    web = site.config.web
    url = signed_link(web.public_url, web.secret_key, page, subscriber_id, now=site.clock())
    return url + ("?lang=en" if lang == "en" else "")


def _load(site: Site, subscriber_id: int) -> tuple[Subscriber, Preferences] | None:
    with site.session() as session:
        row = session.get(Subscriber, subscriber_id)
        if row is None:
            return None
        session.expunge(row)
        return row, current_preferences(session, row)


async def preferences(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    token = site.token_of(request, lang, Purpose.PREFERENCES)
    if isinstance(token, Response):
        return token
    found = await run_in_threadpool(_load, site, token.subscriber_id)
    if found is None:
        return site.notice(request, lang, "bad_link_title", [t["reason_gone"]], 400)
    row, prefs = found
    if "lang" not in request.query_params:
        lang = "en" if str(row.language) == "en" else "zh"
    error, saved = "", False
    if request.method == "POST":
        if not site.client_allowed(request):
            return site.notice(request, lang, "too_many_title", [t["too_many_text"]], 429)
        form = await request.form()
        if not site.csrf_ok(request, form.get("csrf")):
            return site.notice(request, lang, "csrf_title", [TEXTS[lang]["csrf_text"]], 400)
        try:
            prefs = _form_prefs(site, form, paused=bool(form.get("paused")))
        except SubscriberError as e:
            error, prefs = str(e), _raw_prefs(form)
        else:
            await run_in_threadpool(_save, site, token.subscriber_id, prefs)
            saved = True
            if "lang" not in request.query_params:
                lang = "en" if prefs.language == "en" else "zh"
    return site.page(
        request,
        "preferences.html.j2",
        lang,
        400 if error else 200,
        email=row.email,
        prefs=prefs,
        sectors=site.sectors,
        markets=site.markets,
        saved=saved,
        error=error,
        unsubscribed=row.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED),
        action=request.url.path + ("?lang=en" if lang == "en" else ""),
        unsubscribe_action=_link(site, "unsubscribe", token.subscriber_id, lang),
    )


def _save(site: Site, subscriber_id: int, prefs: Preferences) -> None:
    with site.session() as session:
        row = session.get(Subscriber, subscriber_id)
        if row is not None:
            apply_preferences(session, row, prefs, now=site.clock())


async def unsubscribe_page(request: Request) -> Response:
    """GET shows a button and changes nothing (mail scanners follow links); POST (RFC 8058
    one-click, no cookies needed) unsubscribes at once."""
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    token = site.token_of(request, lang, Purpose.UNSUBSCRIBE)
    if isinstance(token, Response):
        return token
    if request.method == "GET":
        return site.page(
            request,
            "button.html.j2",
            lang,
            title=t["unsubscribe_title"],
            text=t["unsubscribe_text"],
            action=request.url.path + ("?lang=en" if lang == "en" else ""),
            summary=[],
            hidden=[("List-Unsubscribe", "One-Click")],
            button=t["unsubscribe_button"],
            button_class="danger",
        )

    def work() -> bool:
        with site.session() as session:
            return unsubscribe(session, token.subscriber_id) is not None

    if not await run_in_threadpool(work):
        return site.notice(request, lang, "bad_link_title", [t["reason_gone"]], 400)
    return site.notice(
        request,
        lang,
        "unsubscribed_title",
        [t["unsubscribed_text"]],
        link=site.root + "subscribe" + ("?lang=en" if lang == "en" else ""),
        link_text=t["subscribe_again"],
    )
