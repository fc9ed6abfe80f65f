"""The languages a notification's title and summary exist in, as its sources gave them.

Every source's record is kept (``SourceRecord.payload``, a canonical record): its ``language``
says what language its title and description are in (ePing: English, French or Spanish; Chinese
platforms: Chinese). A record may also carry translations it was given, under
``extra["translations"]``: ``{"fr": {"title": ..., "description": ...}, ...}``. Nothing here is
machine translated."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from tbt_alert.store.ingest import SOURCE_PRIORITY
from tbt_alert.store.tables import SourceRecord

_CJK = re.compile(r"[\u3400-\u9fff]")
_NAMES = {"english": "en", "chinese": "zh", "french": "fr", "spanish": "es"}
MAX_TEXT = 20_000  # characters kept of one version's description


@dataclass(frozen=True)
class Version:
    title: str
    description: str


def language_code(value: object, *texts: str | None) -> str | None:
    """``en``, ``zh``, ``fr``...: from a code (``zh-CN``), an English name (``Chinese``), or, when
    absent, Chinese characters in ``texts``; None when unknown."""
    if isinstance(value, str) and value.strip():
        low = value.strip().lower()
        code = _NAMES.get(low) or re.split(r"[-_ ]", low)[0]
        if re.fullmatch(r"[a-z]{2,3}", code):
            return code
    if any(t and _CJK.search(t) for t in texts):
        return "zh"
    return None


def title_language(language: object, title: str) -> str:
    """The language a title is really in. A merged record's ``language`` may come from another
    source than its title, so the script decides first: Chinese characters mean ``zh``; a
    title without them is not Chinese whatever ``language`` says (then English unless
    ``language`` names another language)."""
    if _CJK.search(title):
        return "zh"
    code = language_code(language)
    return "en" if code in (None, "zh") else code


def _text(value: Any) -> str:
    return value.strip()[:MAX_TEXT] if isinstance(value, str) else ""


def versions_of(payloads: Iterable[Mapping[str, Any]]) -> dict[str, Version]:
    """Language -> title and description, from source records in priority order (the first
    non-empty title in a language wins)."""
    found: dict[str, Version] = {}
    for payload in payloads:
        title, description = _text(payload.get("title")), _text(payload.get("description"))
        lang = language_code(payload.get("language"), title, description)
        if lang and title and lang not in found:
            found[lang] = Version(title, description)
        extra = payload.get("extra")
        given = extra.get("translations") if isinstance(extra, Mapping) else None
        if not isinstance(given, Mapping):
            continue
        for key, value in given.items():
            code = language_code(key)
            if not code or code in found or not isinstance(value, Mapping):
                continue
            if _text(value.get("title")):
                found[code] = Version(_text(value.get("title")), _text(value.get("description")))
    return found


def stored_versions(session: Session, notification_id: int) -> dict[str, Version]:
    """What every source of one notification gave, by language."""
    rows = session.exec(
        select(SourceRecord)
        .where(SourceRecord.notification_id == notification_id)
        .order_by(col(SourceRecord.id))
    ).all()
    ordered = sorted(rows, key=lambda s: (SOURCE_PRIORITY.get(s.source, 1), s.source, s.id or 0))
    return versions_of(row.payload for row in ordered)
