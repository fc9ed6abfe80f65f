"""The public archive: an index of sectors, a page per sector, a page per sent bulletin, an
Atom feed per sector, and the sent daily and weekly digests (a list, and a page per digest).
Nothing here knows of subscribers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from tbt_alert.alerts.archive import (
    ArchivedDigest,
    ArchiveEntry,
    archived,
    archived_digest,
    archived_digests,
    archived_one,
)
from tbt_alert.mail.render import excerpt
from tbt_alert.web.site import Site, iso, lang_of
from tbt_alert.web.texts import TEXTS, Lang

FEED_ENTRIES = 50


def _q(lang: Lang) -> str:
    return "?lang=en" if lang == "en" else ""


def _listing(site: Site, entries: list[ArchiveEntry], lang: Lang) -> list[dict]:
    return [
        {
            "url": site.root + f"archive/bulletin/{e.bulletin_id}" + _q(lang),
            "symbol": e.symbol,
            "title": e.title,
            "date": (e.distribution_date or e.published_at.date()).isoformat(),
        }
        for e in entries
    ]


async def archive_index(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    links = [
        {
            "url": site.root + f"archive/sector/{s.id}" + _q(lang),
            "feed": site.root + f"archive/sector/{s.id}.atom" + _q(lang),
            "name": s.name_zh if lang == "zh" else s.name_en,
        }
        for s in site.sectors
    ]
    return site.page(
        request,
        "archive.html.j2",
        lang,
        heading=TEXTS[lang]["archive_title"],
        sector_links=links,
        feed_url="",
        entries=None,
        digests_url=site.root + "archive/digests" + _q(lang),
    )


def _entries(site: Site, sector: str | None, limit: int) -> list[ArchiveEntry]:
    with site.session() as session:
        return archived(session, sector=sector, limit=limit)


async def archive_sector(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    sector = request.path_params["sector"]
    if sector not in site.sector_ids():
        return site.notice(request, lang, "not_found_title", [], 404)
    entries = await run_in_threadpool(_entries, site, sector, 200)
    name = site.sector_name(sector, lang)
    return site.page(
        request,
        "archive.html.j2",
        lang,
        heading=f"{name} · {TEXTS[lang]['archive_sector']}",
        sector_links=[],
        feed_url=site.root + f"archive/sector/{sector}.atom" + _q(lang),
        entries=_listing(site, entries, lang),
    )


async def archive_feed(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    sector = request.path_params["sector"]
    if sector not in site.sector_ids():
        return site.notice(request, lang, "not_found_title", [], 404)
    entries = await run_in_threadpool(_entries, site, sector, FEED_ENTRIES)
    items = [
        {
            "url": site.url(f"archive/bulletin/{e.bulletin_id}", lang),
            "symbol": e.symbol,
            "title": e.title,
            "updated": iso(e.published_at),
            "summary": excerpt(e.description, 600),
        }
        for e in entries
    ]
    xml = site.env.get_template("feed.atom.j2").render(
        lang=lang,
        title=f"tbt-alert · {site.sector_name(sector, lang)}",
        self_url=site.url(f"archive/sector/{sector}.atom", lang),
        page_url=site.url(f"archive/sector/{sector}", lang),
        updated=items[0]["updated"] if items else iso(datetime(2000, 1, 1, tzinfo=UTC)),
        entries=items,
    )
    return Response(xml, media_type="application/atom+xml; charset=utf-8")


async def bulletin_page(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    try:
        bulletin_id = int(request.path_params["bulletin_id"])
    except ValueError:
        bulletin_id = 0

    def load() -> ArchiveEntry | None:
        with site.session() as session:
            found = archived_one(session, bulletin_id) if 0 < bulletin_id < 2**31 else None
            return site.localised(session, found, lang) if found else None

    entry = await run_in_threadpool(load)
    if entry is None:
        return site.notice(request, lang, "not_found_title", [], 404)
    lines = [
        {"name": site.sector_name(s, lang), "risk": entry.risk.get(s, "")} for s in entry.sectors
    ]
    return site.page(request, "bulletin.html.j2", lang, e=entry, sector_lines=lines)


def _cadence(lang: Lang, cadence: str) -> str:
    return TEXTS[lang].get(cadence, cadence)


async def digests_index(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]

    def load() -> list[ArchivedDigest]:
        with site.session() as session:
            return archived_digests(session, limit=200)

    digests = await run_in_threadpool(load)
    links = [
        {
            "url": site.root + f"archive/digest/{d.bulletin_id}" + _q(lang),
            "name": t["digest_heading"].format(cadence=_cadence(lang, d.cadence), period=d.period),
            "count": t["digest_count"].format(n=d.size),
        }
        for d in digests
    ]
    return site.page(request, "digests.html.j2", lang, digests=links)


async def digest_page(request: Request) -> Response:
    site: Site = request.app.state.site
    lang = lang_of(request)
    t = TEXTS[lang]
    try:
        bulletin_id = int(request.path_params["bulletin_id"])
    except ValueError:
        bulletin_id = 0

    def load() -> ArchivedDigest | None:
        with site.session() as session:
            found = archived_digest(session, bulletin_id) if 0 < bulletin_id < 2**31 else None
            if found is None:
                return None
            entries = tuple(site.localised(session, e, lang) for e in found.entries)
            return replace(found, entries=entries)

    digest = await run_in_threadpool(load)
    if digest is None:
        return site.notice(request, lang, "not_found_title", [], 404)
    items = [
        {
            "e": e,
            "sectors": [
                {"name": site.sector_name(s, lang), "risk": e.risk.get(s, "")} for s in e.sectors
            ],
        }
        for e in digest.entries
    ]
    heading = t["digest_heading"].format(
        cadence=_cadence(lang, digest.cadence), period=digest.period
    )
    return site.page(
        request,
        "digest.html.j2",
        lang,
        heading=heading,
        count=t["digest_count"].format(n=digest.size),
        items=items,
        digests_url=site.root + "archive/digests" + _q(lang),
    )
