"""The web comment form: the third way a draft arrives (beside replies by mail and files).

Every warning links to ``/comment/<token>``, a signed token (Purpose.COMMENT) naming the subscriber
and the notification. GET shows the notification (symbol, member, title, deadlines) and a form
with a text box and one attachment; POST stores a draft through
:func:`tbt_alert.comments.drafts.add_draft` (channel ``web``), whose content checks decide which
attachments are kept. A call that no longer takes drafts (closed, submitted, withdrawn, or past
its internal deadline) gets a clear page and nothing is stored. The same text sent twice (a
double click, a reload) is stored once.

Field names of the form: ``text``, ``attachment`` (one file), ``csrf``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from tbt_alert.comments.calls import ACCEPTING, CommentsError, call_of
from tbt_alert.comments.drafts import Incoming, add_draft
from tbt_alert.mail.language import localise
from tbt_alert.mail.render import clip
from tbt_alert.status import DraftChannel, SubscriberStatus
from tbt_alert.store.tables import CommentCall, Notification, Subscriber
from tbt_alert.store.versions import stored_versions
from tbt_alert.text.members import normalise_member
from tbt_alert.tokens import Purpose, Token
from tbt_alert.web.site import Site, lang_of
from tbt_alert.web.texts import TEXTS, Lang

TEXT_FIELD = "text"
FILE_FIELD = "attachment"
FORM_OVERHEAD = 64 * 1024  # multipart boundaries, headers and the other fields


@dataclass(frozen=True)
class Target:
    """What the token points at, read in one session."""

    email: str
    subscriber_id: int
    symbol: str
    member: str
    title: str
    distributed: date | None
    wto_deadline: date | None
    internal_deadline: date | None
    call_id: int | None
    state: str  # "open" | "closed" | "none" | "gone"
    note: str | None = None  # the title is the original, not in the page's language


def _target(site: Site, token: Token, lang: Lang) -> Target | None:
    """None when the subscriber or notification no longer exists (or the subscriber left)."""
    with site.session() as session:
        subscriber = session.get(Subscriber, token.subscriber_id)
        row = session.get(Notification, token.ref_id)
        if subscriber is None or row is None:
            return None
        if subscriber.status in (SubscriberStatus.UNSUBSCRIBED, SubscriberStatus.SUPPRESSED):
            return None
        call = call_of(session, row)
        member = normalise_member(row.member_name, row.member_code or None)
        name = (member.name_zh if lang == "zh" else member.name_en) or row.member_name
        local = localise(
            title=row.title,
            description="",
            language=row.language,
            versions=stored_versions(session, row.id or 0),
            lang=lang,
        )
        today = site.clock().date()
        if call is None:
            state = "none"
        elif call.status not in ACCEPTING or call.internal_deadline < today:
            state = "closed"
        else:
            state = "open"
        return Target(
            email=subscriber.email,
            subscriber_id=subscriber.id or 0,
            symbol=call.symbol if call else row.symbol,
            member=name,
            title=local.title,
            distributed=row.distribution_date,
            wto_deadline=call.wto_deadline if call else row.comment_deadline,
            internal_deadline=call.internal_deadline if call else None,
            call_id=call.id if call else None,
            state=state,
            note=local.note,
        )


def _read(site: Site, request: Request, lang: Lang) -> tuple[Token, Target] | Response:
    t = TEXTS[lang]
    token = site.token_of(request, lang, Purpose.COMMENT)
    if isinstance(token, Response):
        return token
    target = _target(site, token, lang)
    if target is None:
        return site.notice(request, lang, "bad_link_title", [t["comment_gone_text"]], 400)
    if target.state != "open":
        key = "comment_closed_text" if target.state == "closed" else "comment_none_text"
        return site.notice(request, lang, "comment_closed_title", [target.symbol, t[key]], 410)
    return token, target


def _form_page(
    site: Site,
    request: Request,
    lang: Lang,
    target: Target,
    status: int = 200,
    *,
    text: str = "",
    error: str = "",
) -> Response:
    today = site.clock().date()
    limit = site.config.comments.draft_max_chars
    return site.page(
        request,
        "comment.html.j2",
        lang,
        status,
        target=target,
        title_text=clip(target.title, 500),
        days_left=(target.internal_deadline - today).days if target.internal_deadline else None,
        action=request.url.path + ("?lang=en" if lang == "en" else ""),
        text=text,
        error=error,
        max_chars=limit,
    )


async def comment_form(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    found = await run_in_threadpool(_read, site, request, lang)
    if isinstance(found, Response):
        return found
    return _form_page(site, request, lang, found[1])


async def comment_post(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    limits = site.config.comments
    if not site.client_allowed(request):
        return site.notice(request, lang, "too_many_title", [t["too_many_text"]], 429)
    found = await run_in_threadpool(_read, site, request, lang)
    if isinstance(found, Response):
        return found
    token, target = found
    too_big = [t["comment_too_big"].format(n=limits.attachment_max_bytes)]
    length = request.headers.get("content-length", "")
    cap = limits.attachment_max_bytes + 4 * limits.draft_max_chars + FORM_OVERHEAD
    if not length.isdigit() or int(length) > cap:
        return site.notice(request, lang, "bad_form_title", too_big, 413)
    try:
        form = await request.form(
            max_files=1, max_fields=10, max_part_size=4 * limits.draft_max_chars
        )
    except HTTPException as e:  # a damaged body, more than one file, an oversized field
        return site.notice(request, lang, "bad_form_title", [str(e.detail)], 400)
    try:
        if not site.csrf_ok(request, form.get("csrf")):
            return site.notice(request, lang, "csrf_title", [t["csrf_text"]], 400)
        raw = form.get(TEXT_FIELD)
        text = raw if isinstance(raw, str) else ""
        if len(text) > limits.draft_max_chars:
            error = t["comment_too_long"].format(n=limits.draft_max_chars)
            return _form_page(site, request, lang, target, 400, text=text, error=error)
        upload = form.get(FILE_FIELD)
        attachments: list[Incoming] = []
        if isinstance(upload, UploadFile) and (upload.filename or upload.size):
            data = await upload.read(limits.attachment_max_bytes + 1)
            if data:
                attachments.append(Incoming(upload.filename or "attachment", data))
    finally:
        await form.close()
    if not text.strip() and not attachments:
        return _form_page(site, request, lang, target, 400, error=t["comment_empty"])
    try:
        refused = await run_in_threadpool(_store, site, token, target, text, attachments)
    except _Closed:
        lines = [target.symbol, t["comment_closed_text"]]
        return site.notice(request, lang, "comment_closed_title", lines, 410)
    except CommentsError as e:
        return _form_page(site, request, lang, target, 400, text=text, error=str(e))
    lines = [target.symbol, t["comment_thanks_text"]]
    lines += [f"{t['comment_refused']}: {name}: {why}" for name, why in refused]
    return site.notice(request, lang, "comment_thanks_title", lines)


class _Closed(Exception):
    """The call stopped taking drafts between the page and the submission."""


def _store(
    site: Site, token: Token, target: Target, text: str, attachments: list[Incoming]
) -> list[tuple[str, str]]:
    """Store the draft once (the same content from the same link twice is one draft); the
    attachments refused, with the reason."""
    limits = site.config.comments
    digest = hashlib.sha256()
    digest.update(f"{token.subscriber_id}:{token.ref_id}:".encode())
    digest.update(text.strip().encode("utf-8", "surrogatepass"))
    for item in attachments:
        digest.update(hashlib.sha256(item.data).digest())
    with site.session() as session:
        call = session.get(CommentCall, target.call_id)
        now = site.clock()
        if call is None or call.status not in ACCEPTING or call.internal_deadline < now.date():
            raise _Closed
        draft, _created = add_draft(
            session,
            call,
            sender=target.email,
            subscriber_id=target.subscriber_id,
            channel=DraftChannel.WEB,
            text=text,
            received_at=now,
            message_id=f"web:{digest.hexdigest()[:40]}",
            attachments=attachments,
            attachment_max_bytes=limits.attachment_max_bytes,
            max_chars=limits.draft_max_chars,
        )
        return [(str(r["name"]), str(r["reason"])) for r in draft.refused]
