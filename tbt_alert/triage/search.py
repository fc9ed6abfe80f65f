"""Full-text search over the index that ``tbt_alert.triage.index`` keeps: SQLite through FTS5
(bm25 rank, snippet), PostgreSQL through the GIN index on ``to_tsvector('simple', body)``
(ts_rank, ts_headline). Read through the DB-API driver (store.dbapi), so ``search`` starts fast.

Chinese in a query is cut into the longest words the index holds (its vocabulary is asked, word
by word), as the index was cut: no dictionary is loaded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tbt_alert.store.dbapi import Reader
from tbt_alert.triage.effective import (
    SELECT_NOTIFICATION,
    NotificationRow,
    effective_states,
    notification_row,
    notifications_by_id,
)
from tbt_alert.triage.filters import Filters
from tbt_alert.triage.segment import query_words

MARK_START, MARK_END = "\x02", "\x03"  # around a hit in a snippet; the edges style them
SNIPPET_WORDS = 24
# as in the GIN index (migration 0005), so the index is used
PG_VECTOR = "to_tsvector('simple'::regconfig, d.body)"
PG_QUERY = "plainto_tsquery('simple'::regconfig, ?)"


@dataclass(frozen=True)
class Hit:
    notification: NotificationRow
    rank: float  # higher is better
    snippet: str  # with MARK_START / MARK_END around the words found


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query that ANDs the words, each quoted (hostile text is never syntax)."""
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(
    reader: Reader, query: str, filters: Filters | None = None, *, limit: int = 20
) -> list[Hit]:
    """Notifications whose indexed text has every word of ``query``, best first."""
    filters = filters or Filters()
    words = query_words(query, vocabulary(reader))
    if not words:
        return []
    if reader.sqlite:
        ranked = _sqlite_ranked(reader, words, filters, limit)
    else:
        ranked = _pg_ranked(reader, words, filters, limit)
    return _sector_confirmed(reader, ranked, filters, limit)


def vocabulary(reader: Reader) -> Callable[[str], bool]:
    """Is this a word of the index? SQLite: its fts5vocab view (made for this connection);
    PostgreSQL: does any indexed text hold it (the GIN index answers)."""
    if reader.sqlite:
        reader.execute(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_vocab "
            "USING fts5vocab(main, search_fts, 'row')"
        )
        lookup = "SELECT 1 FROM temp.search_vocab WHERE term = ?"
    else:
        lookup = f"SELECT 1 FROM search_doc d WHERE {PG_VECTOR} @@ {PG_QUERY} LIMIT 1"  # noqa: S608

    def known(word: str) -> bool:
        return bool(reader.rows(lookup, (word,)))

    return known


def _over_fetch(filters: Filters, limit: int) -> int:
    return limit * 5 if filters.sector else limit


def _where(filters: Filters, reader: Reader) -> tuple[str, list[object]]:
    conditions, params = filters.sql(sqlite=reader.sqlite)
    return "".join(f" AND {c}" for c in conditions), params


def _sqlite_ranked(reader: Reader, words: Sequence[str], filters: Filters, limit: int) -> list[Hit]:
    where, params = _where(filters, reader)
    sql = (
        f"{SELECT_NOTIFICATION}, bm25(search_fts) AS rank, "
        "snippet(search_fts, 0, ?, ?, '…', ?) "
        "FROM search_fts JOIN notification n ON n.id = search_fts.rowid "
        f"WHERE search_fts MATCH ?{where} ORDER BY rank LIMIT ?"
    )
    values = [MARK_START, MARK_END, SNIPPET_WORDS, fts_query(words), *params]
    found = reader.rows(sql, [*values, _over_fetch(filters, limit)])
    return [Hit(notification_row(r[:-2]), -float(r[-2]), str(r[-1])) for r in found]


def _pg_ranked(reader: Reader, words: Sequence[str], filters: Filters, limit: int) -> list[Hit]:
    where, params = _where(filters, reader)
    text = " ".join(words)
    options = f"StartSel={MARK_START},StopSel={MARK_END},MaxWords={SNIPPET_WORDS},MinWords=8"
    sql = (
        "SELECT s.id, s.rank, ts_headline('simple'::regconfig, s.body, "  # noqa: S608
        f"{PG_QUERY}, ?) FROM (SELECT n.id AS id, ts_rank({PG_VECTOR}, {PG_QUERY}) AS rank, d.body "
        f"FROM notification n JOIN search_doc d ON d.notification_id = n.id "
        f"WHERE {PG_VECTOR} @@ {PG_QUERY}{where} ORDER BY rank DESC LIMIT ?) s "
        "ORDER BY s.rank DESC"
    )
    found = reader.rows(sql, [text, options, text, text, *params, _over_fetch(filters, limit)])
    rows = notifications_by_id(reader, [int(i) for i, _, _ in found])
    return [Hit(rows[i], float(r), str(s)) for i, r, s in found if i in rows]


def _sector_confirmed(reader: Reader, hits: list[Hit], filters: Filters, limit: int) -> list[Hit]:
    """Keep hits whose effective labels (classifier's and analysts') include the sector."""
    if filters.sector is None:
        return hits[:limit]
    states = effective_states(reader, [h.notification for h in hits])
    return [h for h in hits if filters.keep(states[h.notification.id or 0].labels)][:limit]
