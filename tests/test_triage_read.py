"""`search` and `triage` read through the DB-API driver (store.dbapi), on SQLite and PostgreSQL:

* as whole commands through the real entry point (tbt_alert.cli.main:main) in a fresh
  interpreter, they import neither SQLAlchemy, SQLModel nor pydantic (nor jieba for Chinese);
* they give the rows the ORM gave before: the former SQLModel queries are kept here as the
  reference, run on the same database after decisions of every kind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import String, bindparam, cast, column, func, literal_column, table, text
from sqlmodel import Session, and_, col, or_, select

from tbt_alert.status import NotificationKind, ReviewMode
from tbt_alert.store.dbapi import open_reader
from tbt_alert.store.engine import make_engine, session_scope
from tbt_alert.store.tables import Notification, SearchDoc
from tbt_alert.triage.decisions import effective_map
from tbt_alert.triage.filters import Filters
from tbt_alert.triage.queue import RISK_ORDER, WINDOW_DAYS, risk_of, triage_queue
from tbt_alert.triage.search import MARK_END, MARK_START, fts_query, search
from tests.test_triage import run, timely_records  # noqa: F401 - the fixture and its data

TODAY = datetime.now(UTC).date()
FORBIDDEN = ("sqlalchemy", "sqlmodel", "pydantic", "jieba", "alembic", "sklearn", "numpy")
SCRIPT = f"""
import json, sys
from tbt_alert.cli.main import main
try:
    main(sys.argv[1:], prog_name="tbt-alert")
except SystemExit as e:
    code = e.code
print(json.dumps({{"code": code, "imported": sorted(m for m in {FORBIDDEN!r} if m in sys.modules)}}))
"""


@pytest.mark.parametrize(
    "args",
    [
        ["search", "footwear", "--json"],
        ["search", "玩具", "--json"],
        ["search", "toys", "--sector", "toys_playground", "--member", "ecu", "--json"],
        ["search", "footwear"],
        ["triage", "--json"],
        ["triage"],
    ],
)
def test_whole_commands_import_no_orm_nor_pydantic(run, args, tmp_path):  # noqa: F811
    run("label", "G/TBT/N/CHN/1999", "--add", "toys_playground")
    env = dict(os.environ, TBT_ALERT_DATABASE_URL=run.db_url, TBT_ALERT_DATA_DIR=str(tmp_path))
    env.pop("TBT_ALERT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, check=False
    )
    *output, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"code": 0, "imported": []}, done.stderr
    if "--json" in args and "--sector" not in args:
        assert json.loads("\n".join(output)), "the command found something: the check is real"


def test_bad_configuration_is_one_line_naming_the_key(run, tmp_path):  # noqa: F811
    for body, key in (
        ('[terminal]\nlanguage = "fr"\n', "[terminal] language"),
        ('[database]\nurl = "sqlite:///x"\nuser = "a"\n', "[database] user"),
        ('[reveiw]\nmode = "all"\n', "'reveiw'"),
        ("[review]\nmode = 1\n", "[review] mode"),
    ):
        config = tmp_path / "bad.toml"
        config.write_text(body, encoding="utf-8")
        for command in (("search", "toys"), ("triage", "--json")):
            result = run("--config", str(config), *command)
            assert result.exit_code == 1 and key in result.output, (body, result.output[:200])
            assert len(result.output.strip().splitlines()) == 1


# --- the former SQLModel queries, the reference the DB-API path must agree with --------------


def _orm_queue(session: Session, mode: ReviewMode, today: date) -> list[tuple]:
    timely = or_(
        col(Notification.comment_deadline) >= today,
        and_(
            col(Notification.comment_deadline).is_(None),
            col(Notification.distribution_date) >= today - timedelta(days=WINDOW_DAYS),
        ),
    )
    may_need = [
        cast(Notification.classification, String).like('%"possible"%'),
        col(Notification.kind) != NotificationKind.REGULAR,
    ]
    if mode == ReviewMode.ALL:
        may_need.append(cast(Notification.alert_sectors, String) != "[]")
    rows = list(
        session.exec(
            select(Notification).where(
                col(Notification.classified_hash).is_not(None), timely, or_(*may_need)
            )
        ).all()
    )
    states = effective_map(session, rows)
    keys = {r.measure_key for r in rows if r.kind != NotificationKind.REGULAR} - {""}
    found = session.exec(select(Notification).where(col(Notification.symbol).in_(keys))).all()
    symbols = {r.id or 0: r.symbol for r in found}
    parents = {symbols[k]: s.labels for k, s in effective_map(session, found).items()}
    items = []
    for row in rows:
        state = states[row.id or 0]
        if state.status in ("accept", "dismiss"):
            continue
        why = []
        if state.possible - state.removed:
            why.append("possible")
        if mode == ReviewMode.ALL and state.alert:
            why.append("review")
        parent = parents.get(row.measure_key)
        if row.kind != NotificationKind.REGULAR and parent is not None and parent != state.labels:
            why.append("relabelled")
        if why:
            items.append((row, state, tuple(why), risk_of(row, state)))
    items.sort(
        key=lambda i: (
            RISK_ORDER.get(i[3] or "", 3),
            i[0].comment_deadline or date.max,
            i[0].symbol,
        )
    )
    return [
        (r.symbol, r.distribution_date, r.comment_deadline, why, risk, sorted(s.labels), s.assignee)
        for r, s, why, risk in items
    ]


def _filtered(stmt: Any, filters: Filters) -> Any:
    for cond in filters.where():
        stmt = stmt.where(cond)
    like = filters.sector_like()
    return stmt.where(like) if like is not None else stmt


def _orm_search(session: Session, words: list[str], filters: Filters, limit: int) -> list[tuple]:
    over = limit * 5 if filters.sector else limit
    if session.get_bind().dialect.name == "sqlite":
        fts = table("search_fts", column("rowid"), column("body"))
        whole: Any = literal_column("search_fts")
        rank = func.bm25(whole).label("rank")
        stmt = (
            select(
                col(Notification.id), rank, func.snippet(whole, 0, MARK_START, MARK_END, "…", 24)
            )
            .select_from(fts)
            .join(Notification, col(Notification.id) == fts.c.rowid)
            .where(whole.op("MATCH")(bindparam("q", fts_query(words))))
        )
        stmt = _filtered(stmt, filters).order_by(rank).limit(over)
        ranked = [(int(i), -float(r), str(s)) for i, r, s in session.execute(stmt).all()]
    else:
        simple: Any = literal_column("'simple'::regconfig")
        query = func.plainto_tsquery(simple, " ".join(words))
        vector = func.to_tsvector(simple, col(SearchDoc.body))
        inner: Any = (
            select(
                col(Notification.id).label("id"),
                func.ts_rank(vector, query).label("rank"),
                col(SearchDoc.body),
            )
            .join(SearchDoc, col(SearchDoc.notification_id) == col(Notification.id))
            .where(vector.op("@@")(query))
        )
        sub = _filtered(inner, filters).order_by(text("rank DESC")).limit(over).subquery()
        options = f"StartSel={MARK_START},StopSel={MARK_END},MaxWords=24,MinWords=8"
        headline = func.ts_headline(simple, sub.c.body, query, options)
        stmt = select(sub.c.id, sub.c.rank, headline).order_by(sub.c.rank.desc())
        ranked = [(int(i), float(r), str(s)) for i, r, s in session.execute(stmt).all()]
    rows = {
        r.id: r
        for r in session.exec(
            select(Notification).where(col(Notification.id).in_([i for i, _, _ in ranked]))
        )
    }
    labels = {k: v.labels for k, v in effective_map(session, list(rows.values())).items()}
    kept = [h for h in ranked if h[0] in rows and filters.keep(labels.get(h[0], frozenset()))]
    return [(rows[i].symbol, round(rank, 6), snip) for i, rank, snip in kept[:limit]]


def test_the_db_api_path_gives_the_rows_the_orm_gave(run):  # noqa: F811
    """After decisions of every kind, the queue (each review mode) and searches (with every
    filter) are the former ORM queries' rows, in their order, with their ranks and snippets."""
    symbols = [i["symbol"] for i in json.loads(run("triage", "--json").output)]
    assert len(symbols) > 10
    run("decide", symbols[0], "dismiss")
    run("decide", symbols[1], "accept")
    run("label", symbols[2], "--remove", "footwear_leather")
    run("label", symbols[3], "--add", "toys_playground")
    run("assign", symbols[4], "--to", "li")
    run("risk", symbols[5], "red", "--note", "soon")
    run("label", "G/TBT/N/TTO/121", "--add", "eyewear")
    run("label", "G/TBT/N/CHN/1999", "--add", "footwear_leather")
    engine = make_engine(run.db_url)
    searches = [
        (["footwear"], Filters(), 20),
        (["toys"], Filters(sector="toys_playground"), 20),
        (["玩具"], Filters(sector="footwear_leather"), 5),
        (["safety"], Filters(member=" ecu ", since=TODAY - timedelta(days=9)), 50),
        (["labelling", "textile"], Filters(until=TODAY, open_on=TODAY), 100),
        (["zzzunfindable"], Filters(), 20),
    ]
    try:
        with session_scope(engine) as session, open_reader(run.db_url) as reader:
            for mode in ReviewMode:
                new = [
                    (
                        i.notification.symbol,
                        i.notification.distribution_date,
                        i.notification.comment_deadline,
                        i.why,
                        i.risk,
                        sorted(i.state.labels),
                        i.state.assignee,
                    )
                    for i in triage_queue(reader, mode, TODAY)
                ]
                assert new == _orm_queue(session, mode, TODAY), mode
                assert new, mode
            found = 0
            for words, filters, limit in searches:
                hits = search(reader, " ".join(words), filters, limit=limit)
                new_hits = [(h.notification.symbol, round(h.rank, 6), h.snippet) for h in hits]
                assert new_hits == _orm_search(session, words, filters, limit), words
                found += len(new_hits)
            assert found >= 10  # the comparisons are over real hits
    finally:
        engine.dispose()


def test_a_database_to_create_or_upgrade_is_one_line(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from tbt_alert.cli.main import main

    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path))
    missing = tmp_path / "none" / "db.sqlite3"
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    for url, message in (
        (f"sqlite:///{missing}", f"no database at {missing}: run 'tbt-alert init'"),
        (f"sqlite:///{empty}", "database schema is at no schema, this version needs"),
    ):
        monkeypatch.setenv("TBT_ALERT_DATABASE_URL", url)
        for command in (["search", "toys"], ["triage", "--json"]):
            result = CliRunner().invoke(main, command)
            assert result.exit_code == 1 and message in result.output, result.output
            assert len(result.output.strip().splitlines()) == 1
    assert not missing.parent.exists()  # reading creates nothing


def test_sqlite_url_options_read_as_the_engine_reads_them(run, monkeypatch):  # noqa: F811
    """A SQLite URL with a query string (a busy timeout, a read-only file: URI) works for the
    fast commands too; an option they do not know is refused by name, in one line."""
    if not run.db_url.startswith("sqlite"):
        pytest.skip("SQLite URL options")
    from click.testing import CliRunner

    from tbt_alert.cli.main import main

    path = run.db_url.removeprefix("sqlite:///").split("?", 1)[0]
    expected = json.loads(run("search", "footwear", "--json").output)
    assert expected
    for url in (f"sqlite:///{path}?timeout=5", f"sqlite:///file:{path}?mode=ro&uri=true"):
        monkeypatch.setenv("TBT_ALERT_DATABASE_URL", url)
        result = CliRunner().invoke(main, ["search", "footwear", "--json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == expected
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", f"sqlite:///{path}?journal=off")
    for command in (["search", "footwear"], ["triage", "--json"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 1 and "'journal'" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
