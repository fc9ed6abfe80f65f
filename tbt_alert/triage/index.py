"""The full-text index over title, description, products and the classifier's reasons.

``search_doc`` holds each notification's indexed text (Chinese cut into words) and a stamp of
what it was built from (content hash and classifier version); ``refresh_index`` rebuilds only the
rows whose stamp changed, so the pipeline calls it after every ingest or classification, and
``rebuild_index`` starts over. SQLite reads it through FTS5 (bm25 rank, snippet), PostgreSQL
through a GIN index on ``to_tsvector('simple', body)`` (ts_rank, ts_headline)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, column, delete, func, literal_column, table, text
from sqlmodel import Session, col, or_, select

from tbt_alert.store.tables import Notification, SearchDoc
from tbt_alert.triage.filters import Filters
from tbt_alert.triage.segment import index_text, query_words

MARK_START, MARK_END = "\x02", "\x03"  # around a hit in a snippet; the edges style them
BATCH = 500


def _stamp_sql() -> Any:
    return func.coalesce(col(Notification.classified_hash), col(Notification.content_hash))


def document_body(row: Notification) -> str:
    """What is indexed: symbol, member, title, products, description, objective, reasons."""
    reasons = [
        r
        for s in (row.classification or {}).get("sectors", [])
        for r in s.get("reasons", [])
        if isinstance(r, str)
    ]
    parts = [
        row.symbol,
        row.member_name,
        row.title,
        row.products_text or "",
        row.description or "",
        row.objective or "",
        *reasons,
    ]
    return index_text(" ".join(p for p in parts if p))


def refresh_index(session: Session) -> int:
    """Index every notification whose text or classification changed; returns how many."""
    stale = (
        select(Notification)
        .outerjoin(SearchDoc, col(SearchDoc.notification_id) == col(Notification.id))
        .where(or_(col(SearchDoc.notification_id).is_(None), col(SearchDoc.stamp) != _stamp_sql()))
        .order_by(col(Notification.id))
    )
    ids = list(session.execute(stale.with_only_columns(col(Notification.id))).scalars())
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = session.exec(select(Notification).where(col(Notification.id).in_(chunk))).all()
        have = {
            d.notification_id: d
            for d in session.exec(
                select(SearchDoc).where(col(SearchDoc.notification_id).in_(chunk))
            ).all()
        }
        for row in rows:
            doc = have.get(row.id or 0) or SearchDoc(notification_id=row.id or 0, stamp="", body="")
            doc.stamp = row.classified_hash or row.content_hash
            doc.body = document_body(row)
            session.add(doc)
            done += 1
        session.flush()
    return done


def rebuild_index(session: Session) -> int:
    """Drop the whole index and build it again."""
    session.execute(delete(SearchDoc))
    if session.get_bind().dialect.name == "sqlite":
        session.flush()
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
    return refresh_index(session)


@dataclass(frozen=True)
class Hit:
    notification: Notification
    rank: float  # higher is better
    snippet: str  # with MARK_START / MARK_END around the words found


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query that ANDs the words, each quoted (hostile text is never syntax)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(
    session: Session, query: str, filters: Filters | None = None, *, limit: int = 20
) -> list[Hit]:
    """Notifications whose indexed text has every word of ``query``, best first."""
    filters = filters or Filters()
    sqlite = session.get_bind().dialect.name == "sqlite"
    words = query_words(query, _sqlite_vocabulary(session) if sqlite else None)
    if not words:
        return []
    if sqlite:
        ranked = _sqlite_ranked(session, words, filters, limit)
    else:
        ranked = _pg_ranked(session, words, filters, limit)
    ids = [i for i, _, _ in ranked]
    rows = {
        r.id: r for r in session.exec(select(Notification).where(col(Notification.id).in_(ids)))
    }
    return [Hit(rows[i], rank, snip) for i, rank, snip in ranked if i in rows]


def _sqlite_vocabulary(session: Session) -> Callable[[str], bool]:
    """Is this a word of the FTS5 index? (its fts5vocab view, made for this connection)"""
    session.execute(
        text(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab USING fts5vocab(main, search_fts, 'row')"
        )
    )
    lookup = text("SELECT 1 FROM temp.search_vocab WHERE term = :term")

    def known(word: str) -> bool:
        return session.execute(lookup, {"term": word}).first() is not None

    return known


def _filtered(base: Any, filters: Filters) -> Any:
    for cond in filters.where():
        base = base.where(cond)
    like = filters.sector_like()
    return base.where(like) if like is not None else base


def _over_fetch(filters: Filters, limit: int) -> int:
    return limit * 5 if filters.sector else limit


def _sqlite_ranked(
    session: Session, words: Sequence[str], filters: Filters, limit: int
) -> list[tuple[int, float, str]]:
    fts = table("search_fts", column("rowid"), column("body"))
    whole: Any = literal_column("search_fts")
    snippet = func.snippet(whole, 0, MARK_START, MARK_END, "…", 24)
    rank = func.bm25(whole).label("rank")
    stmt = (
        select(col(Notification.id), rank, snippet)
        .select_from(fts)
        .join(Notification, col(Notification.id) == fts.c.rowid)
        .where(whole.op("MATCH")(bindparam("q", fts_query(words))))
    )
    stmt = _filtered(stmt, filters).order_by(rank).limit(_over_fetch(filters, limit))
    out = [(int(i), -float(r), str(s)) for i, r, s in session.execute(stmt).all()]
    return _sector_confirmed(session, out, filters, limit)


def _pg_ranked(
    session: Session, words: Sequence[str], filters: Filters, limit: int
) -> list[tuple[int, float, str]]:
    simple: Any = literal_column("'simple'::regconfig")  # as in the GIN index, so the index is used
    query = func.plainto_tsquery(simple, " ".join(words))
    vector = func.to_tsvector(simple, col(SearchDoc.body))
    rank = func.ts_rank(vector, query)
    inner: Any = (
        select(col(Notification.id).label("id"), rank.label("rank"), col(SearchDoc.body))
        .join(SearchDoc, col(SearchDoc.notification_id) == col(Notification.id))
        .where(vector.op("@@")(query))
    )
    inner = _filtered(inner, filters).order_by(text("rank DESC")).limit(_over_fetch(filters, limit))
    sub = inner.subquery()
    options = f"StartSel={MARK_START},StopSel={MARK_END},MaxWords=24,MinWords=8"
    headline = func.ts_headline(simple, sub.c.body, query, options)
    stmt = select(sub.c.id, sub.c.rank, headline).order_by(sub.c.rank.desc())
    out = [(int(i), float(r), str(s)) for i, r, s in session.execute(stmt).all()]
    return _sector_confirmed(session, out, filters, limit)


def _sector_confirmed(
    session: Session, ranked: list[tuple[int, float, str]], filters: Filters, limit: int
) -> list[tuple[int, float, str]]:
    """Keep hits whose effective labels (classifier's and analysts') include the sector."""
    if filters.sector is None:
        return ranked[:limit]
    from tbt_alert.triage.decisions import effective_map

    rows = session.exec(
        select(Notification).where(col(Notification.id).in_([i for i, _, _ in ranked]))
    ).all()
    labels = {k: v.labels for k, v in effective_map(session, rows).items()}
    return [h for h in ranked if filters.keep(labels.get(h[0], frozenset()))][:limit]
