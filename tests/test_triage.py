"""Analysts' triage through the real entry point (CliRunner on tbt_alert.cli.main:main), on
SQLite and PostgreSQL: the queue, full-text search (Chinese too), decisions with who and when,
undo, the review modes in planning, export and statistics."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlmodel import select

from tbt_alert.alerts.plan import plan_warnings
from tbt_alert.cli.main import main
from tbt_alert.status import DeliveryStatus, ReviewMode
from tbt_alert.store.engine import make_engine, session_scope
from tbt_alert.store.tables import Bulletin, Delivery, Notification

LABELLED = (
    Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
)
TODAY = datetime.now(UTC).date()


def timely_records(path: Path) -> Path:
    """The bundled labelled notifications, made current: distributed 5 days ago, open for
    comment 40 more days; plus one Chinese notification."""
    out = []
    for line in LABELLED.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        for key in ("gold_sectors", "ambiguous", "label_rationale", "horizontal"):
            d.pop(key, None)
        d["distribution_date"] = (TODAY - timedelta(days=5)).isoformat()
        d["comment_deadline"] = (TODAY + timedelta(days=40)).isoformat()
        out.append(d)
    out.append(
        {
            "symbol": "G/TBT/N/CHN/1999",
            "member": "China",
            "title": "儿童玩具安全技术规范",
            "description": "本标准规定了儿童玩具的安全要求",
            "distribution_date": (TODAY - timedelta(days=3)).isoformat(),
            "comment_deadline": (TODAY + timedelta(days=20)).isoformat(),
        }
    )
    path.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in out) + "\n", "utf-8")
    return path


@pytest.fixture
def run(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.setenv("USER", "analyst-a")
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def invoke(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    result = invoke("import", str(timely_records(tmp_path / "in.jsonl")))
    assert result.exit_code == 0, result.output
    invoke.db_url = db_url  # type: ignore[attr-defined]
    return invoke


def queue(run) -> list[dict]:
    result = run("triage", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_queue_decisions_undo_and_show(run):
    items = queue(run)
    assert items, "the bundled data has possible-tier notifications"
    assert all(i["why"] and (i["possible_sectors"] or "relabelled" in i["why"]) for i in items)
    order = [
        ({"red": 0, "amber": 1, "green": 2}.get(i["risk"], 3), i["comment_deadline"]) for i in items
    ]
    assert order == sorted(order)
    first = items[0]["symbol"]

    decided = run("decide", first, "dismiss", "--note", "not Wenzhou's trade")
    assert decided.exit_code == 0 and "analyst-a: dismissed (not Wenzhou's trade)" in decided.output
    assert first not in {i["symbol"] for i in queue(run)}
    undone = run("undo", first)
    assert undone.exit_code == 0 and "undid" in undone.output and "dismissed" in undone.output
    assert first in {i["symbol"] for i in queue(run)}

    assert run("label", first, "--add", "eyewear", "--by", "chen").exit_code == 0
    assert run("assign", first, "--to", "li").exit_code == 0
    assert run("risk", first, "red", "--note", "deadline in two weeks").exit_code == 0
    shown = json.loads(run("show", first, "--json").output)
    kinds = [(d["kind"], d["value"], d["who"]) for d in shown["decisions"]]
    assert kinds == [
        ("dismiss", "", "analyst-a"),
        ("label_add", "eyewear", "chen"),
        ("assign", "li", "analyst-a"),
        ("risk", "red", "analyst-a"),
    ]
    assert shown["decisions"][0]["undone_at"] is not None and "eyewear" in shown["labels"]
    text = run("show", first).output
    assert "decisions:" in text and "chen: added sector eyewear" in text and "[undone" in text
    item = next(i for i in queue(run) if i["symbol"] == first)
    assert item["assignee"] == "li" and item["risk"] == "red" and "eyewear" in item["labels"]
    assert run("label", first, "--remove", "eyewear").exit_code == 0
    assert "eyewear" not in json.loads(run("show", first, "--json").output)["labels"]

    table = run("triage").output
    assert "triage queue" in table and first in table

    for bad, message in (
        (("label", first, "--add", "spaceships"), "unknown sector 'spaceships'; valid sectors:"),
        (("decide", "G/TBT/N/XXX/1", "accept"), "no notification 'G/TBT/N/XXX/1'"),
        (("label", first), "exactly one of --add"),
        (("risk", first, "purple", "--note", "x"), "Invalid value"),
        (("undo", "G/TBT/N/CHN/1999"), "has no decision to undo"),
    ):
        result = run(*bad)
        assert result.exit_code != 0 and message in result.output, result.output
    one_line = run("label", first, "--add", "spaceships").output.strip()
    assert "\n" not in one_line and "footwear_leather" in one_line


def test_search_ranked_highlighted_chinese_and_filtered(run):
    hits = json.loads(run("search", "玩具", "--json").output)
    symbols = [h["symbol"] for h in hits]
    assert "G/TBT/N/CHN/1999" in symbols
    assert all("«玩具»" in h["snippet"] for h in hits)
    assert [h["rank"] for h in hits] == sorted((h["rank"] for h in hits), reverse=True)
    # a word inside a Chinese compound is found: the index cuts 儿童玩具 into its parts
    assert "G/TBT/N/CHN/1999" in [
        h["symbol"] for h in json.loads(run("search", "儿童", "--json").output)
    ]
    # several words in one run of Chinese are cut into the words the index holds
    phrase = json.loads(run("search", "儿童玩具安全", "--json").output)
    assert "G/TBT/N/CHN/1999" in {h["symbol"] for h in phrase}
    footwear = json.loads(run("search", "footwear labelling", "--json").output)
    assert footwear and all("footwear" in h["snippet"].lower() for h in footwear)
    only_ecu = json.loads(run("search", "footwear", "--member", "ecu", "--json").output)
    assert only_ecu and {h["member"] for h in only_ecu} == {"ECU"}
    chinese = json.loads(run("search", "玩具", "--member", "CHN", "--json").output)
    assert "G/TBT/N/CHN/1999" in {h["symbol"] for h in chinese}
    assert {h["member"] for h in chinese} == {"CHN"}
    in_sector = json.loads(run("search", "玩具", "--sector", "footwear_leather", "--json").output)
    assert "G/TBT/N/CHN/1999" not in {h["symbol"] for h in in_sector}
    # an analyst's label puts it in the sector
    run("label", "G/TBT/N/CHN/1999", "--add", "footwear_leather")
    in_sector = json.loads(run("search", "玩具", "--sector", "footwear_leather", "--json").output)
    assert "G/TBT/N/CHN/1999" in {h["symbol"] for h in in_sector}
    later = (TODAY + timedelta(days=1)).isoformat()
    assert json.loads(run("search", "玩具", "--since", later, "--json").output) == []
    assert json.loads(run("search", "玩具", "--until", later, "--open", "--json").output)
    hostile = run("search", 'toys" OR NEAR(* -', "--json")
    assert hostile.exit_code == 0, hostile.output
    assert json.loads(run("search", "zzzunfindable", "--json").output) == []
    table = run("search", "玩具").output
    assert "G/TBT/N/CHN/1999" in table and "hit(s)" in table
    bad = run("search", "toys", "--sector", "nope")
    assert bad.exit_code == 1 and bad.output.startswith(
        "error: unknown sector 'nope'; valid sectors: "
    )
    assert run("reindex").output.startswith("indexed 143 notification(s)")
    assert "G/TBT/N/CHN/1999" in run("search", "玩具").output


def test_index_follows_changed_text(run, tmp_path):
    changed = tmp_path / "changed.jsonl"
    changed.write_text(
        json.dumps(
            {"symbol": "G/TBT/N/CHN/1999", "member": "China", "title": "电动自行车用锂电池"},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    assert run("import", str(changed)).exit_code == 0
    assert "G/TBT/N/CHN/1999" in {
        h["symbol"] for h in json.loads(run("search", "锂电池", "--json").output)
    }


def _plan(db_url: str, review: ReviewMode) -> dict[str, set[str]]:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        plan_warnings(
            session, now=datetime.now(UTC), window_days=45, domain="t.invalid", review=review
        )
    with session_scope(engine) as session:
        rows = session.exec(
            select(Delivery, Bulletin).join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        ).all()
        planned: dict[str, set[str]] = {}
        for d, b in rows:
            if d.status == DeliveryStatus.PLANNED:
                planned.setdefault(b.key.split(":")[1], set()).update(d.sectors)
    engine.dispose()
    return planned


def _symbols_with(db_url: str, tier: str) -> list[str]:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        rows = session.exec(select(Notification).order_by(Notification.symbol)).all()
        out = [
            r.symbol
            for r in rows
            if any(s["tier"] == tier for s in (r.classification or {}).get("sectors", []))
            and (tier == "alert" or not r.alert_sectors)
        ]
    engine.dispose()
    return out


@pytest.mark.parametrize("mode", ["auto", "possible", "all"])
def test_review_modes_decide_what_is_planned(run, mode):
    """A subscriber of every sector: what planning sends under each mode, after decisions."""
    sectors = []
    for part in (
        run("label", "x", "--add", "?").output.split("valid sectors: ")[1].strip().split(", ")
    ):
        sectors += ["--sector", part]
    assert (
        run(
            "subscribers",
            "add",
            "w@example.com",
            *sectors,
            "--lang",
            "zh",
            "--cadence",
            "immediate",
            "--confirmed",
        ).exit_code
        == 0
    )
    alert = _symbols_with(run.db_url, "alert")
    possible = _symbols_with(run.db_url, "possible")
    assert len(alert) >= 3 and possible
    dismissed, relabelled, accepted_alert = alert[0], alert[1], alert[2]
    accepted_possible = possible[0]
    run("decide", dismissed, "dismiss")
    removed = json.loads(run("show", relabelled, "--json").output)["alert_sectors"][0]
    run("label", relabelled, "--remove", removed)
    run("label", relabelled, "--add", "eyewear")
    run("decide", accepted_alert, "accept")
    run("decide", accepted_possible, "accept")
    planned = _plan(run.db_url, ReviewMode(mode))
    assert dismissed not in planned
    if mode == "all":
        assert set(planned) <= {accepted_alert, accepted_possible, relabelled} | set()
        assert accepted_alert in planned and relabelled not in planned
    else:
        assert accepted_alert in planned and relabelled in planned
        assert removed not in planned[relabelled] and "eyewear" in planned[relabelled]
        assert set(alert[3:]) & set(planned)
    assert (accepted_possible in planned) == (mode != "auto")
    unaccepted_possible = [s for s in possible[1:] if s in planned]
    assert unaccepted_possible == []


def test_dismissing_after_planning_withdraws_unsent_deliveries(run):
    sectors = []
    for part in (
        run("label", "x", "--add", "?").output.split("valid sectors: ")[1].strip().split(", ")
    ):
        sectors += ["--sector", part]
    run(
        "subscribers",
        "add",
        "w@example.com",
        *sectors,
        "--lang",
        "en",
        "--cadence",
        "immediate",
        "--confirmed",
    )
    target = _symbols_with(run.db_url, "alert")[0]
    assert target in _plan(run.db_url, ReviewMode.AUTO)
    run("decide", target, "dismiss", "--note", "noise")
    assert target not in _plan(run.db_url, ReviewMode.AUTO)
    shown = run("show", target).output
    assert "skipped 1" in shown


def test_export_and_stats(run, tmp_path):
    run("label", "G/TBT/N/CHN/1999", "--add", "toys_playground")
    run("decide", "G/TBT/N/CHN/1999", "accept")
    out = tmp_path / "x.csv"
    result = run("export", "--format", "csv", "--output", str(out), "--member", "CHN")
    assert result.exit_code == 0 and "notification(s)" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8-sig")))
    mine = next(r for r in rows if r["symbol"] == "G/TBT/N/CHN/1999")
    assert mine["decision"] == "accept" and "toys_playground" in mine["labels"]
    assert {r["member"] for r in rows} == {"CHN"}
    jl = tmp_path / "x.jsonl"
    run("export", "--format", "jsonl", "--output", str(jl), "--query", "玩具")
    got = [json.loads(line) for line in jl.read_text(encoding="utf-8").splitlines()]
    assert "G/TBT/N/CHN/1999" in {g["symbol"] for g in got}
    xl = tmp_path / "x.xlsx"
    run("export", "--format", "xlsx", "--output", str(xl), "--sector", "toys_playground")
    from openpyxl import load_workbook

    sheet = load_workbook(xl).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == "symbol" and "G/TBT/N/CHN/1999" in {v[0] for v in values[1:]}
    bad = run("export", "--format", "csv", "--output", str(out), "--sector", "nope")
    assert bad.exit_code == 1 and "valid sectors" in bad.output

    by_member = json.loads(run("stats", "--by", "member", "--json").output)
    assert by_member["CHN"] >= 1 and sum(by_member.values()) == 143
    by_month = json.loads(run("stats", "--by", "month", "--json").output)
    assert sum(by_month.values()) == 143
    assert all(len(k) == 7 and k[4] == "-" for k in by_month)
    by_sector = json.loads(run("stats", "--by", "sector", "--json").output)
    assert by_sector["Toys, educational toys and playground equipment"] >= 1
    future = (TODAY + timedelta(days=1)).isoformat()
    assert json.loads(run("stats", "--by", "member", "--since", future, "--json").output) == {}
    png = tmp_path / "s.png"
    plotted = run("stats", "--by", "sector", "--plot", str(png))
    assert plotted.exit_code == 0 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "notifications by sector" in plotted.output
    assert run("stats", "coverage").exit_code == 0


def test_bad_review_mode_is_one_line(tmp_path, monkeypatch):
    config = tmp_path / "c.toml"
    config.write_text('[review]\nmode = "sometimes"\n', encoding="utf-8")
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(main, ["--config", str(config), "triage"])
    assert result.exit_code == 1 and "[review] mode" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_decisions_are_training_data(run, tmp_path):
    from tbt_alert.triage.training import decision_examples

    run("label", "G/TBT/N/CHN/1999", "--add", "toys_playground")
    run("decide", "G/TBT/N/ECU/386", "dismiss")
    run("decide", "G/TBT/N/KOR/692", "accept")
    run("decide", "G/TBT/N/KOR/692", "dismiss")
    run("undo", "G/TBT/N/KOR/692")  # back to accepted
    engine = make_engine(run.db_url)
    with session_scope(engine) as session:
        found, kept = decision_examples(session)
        labels = {e.record.symbol: e.sectors for e in found}
        held, kept_out = decision_examples(session, lambda s: s == "G/TBT/N/ECU/386")
    engine.dispose()
    assert kept == 0 and labels["G/TBT/N/ECU/386"] == frozenset()
    assert "toys_playground" in labels["G/TBT/N/CHN/1999"]
    assert labels["G/TBT/N/KOR/692"] >= {"low_voltage_electrical"}
    assert kept_out == 1 and "G/TBT/N/ECU/386" not in {e.record.symbol for e in held}

    if run.db_url.startswith("postgresql"):
        return  # training reads decisions through the same query; fitting once is enough
    model = tmp_path / "model.joblib"
    result = run("train", "--output", str(model))
    assert result.exit_code == 0, result.output
    meta = json.loads(model.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["analyst_decisions"] in (2, 3)  # less any kept out as test-part symbols
    assert f"{meta['analyst_decisions']} from analysts' decisions" in result.output


def test_sector_names_in_chinese_when_configured(run, tmp_path):
    config = tmp_path / "zh.toml"
    config.write_text('[terminal]\nlanguage = "zh"\n', encoding="utf-8")
    run("label", "G/TBT/N/CHN/1999", "--add", "eyewear")
    table = run("--config", str(config), "search", "玩具", "--member", "CHN").output
    assert "G/TBT/N/CHN/1999" in table
    counts = json.loads(run("--config", str(config), "stats", "--json").output)
    assert counts["眼镜"] >= 1 and "Eyewear" not in " ".join(counts)
    queue_table = run("--config", str(config), "triage").output
    assert "triage queue" in queue_table
    english = run("triage").output
    assert any("\u4e00" <= ch <= "\u9fff" for ch in queue_table.replace(english, ""))
    png = tmp_path / "zh.png"
    plotted = run("--config", str(config), "stats", "--plot", str(png))
    assert plotted.exit_code == 0 and png.exists()
    from tbt_alert.triage.stats import cjk_font

    if cjk_font() is None:
        assert "no CJK font is installed" in plotted.output
    else:  # scripts/test.sh installs one: the Chinese labels are drawn, not boxes
        assert "no CJK font is installed" not in plotted.output


def test_an_addendum_whose_parent_was_relabelled_is_queued(run):
    child = "G/TBT/N/TTO/121/Rev.1"
    for item in queue(run):
        if item["symbol"] == child:
            assert "relabelled" not in item["why"] or item["labels"]
    assert run("label", "G/TBT/N/TTO/121", "--add", "eyewear").exit_code == 0
    item = next(i for i in queue(run) if i["symbol"] == child)
    assert "relabelled" in item["why"] and "eyewear" not in item["labels"]
    run("decide", child, "accept", "--note", "same scope as the parent")
    assert child not in {i["symbol"] for i in queue(run)}


def test_a_relabel_after_sending_reaches_those_newly_concerned(run):
    target = _symbols_with(run.db_url, "alert")[0]
    sector = json.loads(run("show", target, "--json").output)["alert_sectors"][0]
    add = "eyewear" if sector != "eyewear" else "lighters"
    common = ("--lang", "en", "--cadence", "immediate", "--confirmed")
    assert (
        run("subscribers", "add", "first@example.com", "--sector", sector, *common).exit_code == 0
    )
    assert run("subscribers", "add", "later@example.com", "--sector", add, *common).exit_code == 0
    assert target in _plan(run.db_url, ReviewMode.AUTO)
    engine = make_engine(run.db_url)
    with session_scope(engine) as session:
        for d in session.exec(select(Delivery)).all():
            d.status, d.sent_at = DeliveryStatus.SENT, datetime.now(UTC)
            session.add(d)
    engine.dispose()
    run("label", target, "--add", add, "--note", "also concerns this sector")
    planned = _plan(run.db_url, ReviewMode.AUTO)
    assert planned == {target: {add}}  # only the newly concerned subscriber, only once
    assert _plan(run.db_url, ReviewMode.AUTO) == {target: {add}}
    with session_scope(engine) as session:
        kinds = {b.key.split(":")[0]: b for b in session.exec(select(Bulletin)).all()}
        assert set(kinds) == {"warning", "correction"}
        assert kinds["correction"].snapshot["added_sectors"] == [add]
        assert add in kinds["correction"].snapshot["sectors"]
        assert add not in kinds["warning"].snapshot["sectors"]
    engine.dispose()


def test_the_correction_mail_says_what_analysts_added(run, smtp_sink, monkeypatch):
    """Sent for real: the newly concerned reader's message is marked as a correction, names the
    added sector in the reader's language, and the first reader gets nothing more."""
    target = _symbols_with(run.db_url, "alert")[0]
    sector = json.loads(run("show", target, "--json").output)["alert_sectors"][0]
    add = "eyewear" if sector != "eyewear" else "lighters"
    monkeypatch.setenv("TBT_ALERT_SMTP_URL", smtp_sink.url)
    monkeypatch.setenv("TBT_ALERT_MAIL_FROM", "alerts@tbt-alert.test")
    for address, follows, lang in (
        ("first@example.com", sector, "en"),
        ("zh@example.com", add, "zh"),
        ("en@example.com", add, "en"),
    ):
        added = run(
            "subscribers",
            "add",
            address,
            "--sector",
            follows,
            "--lang",
            lang,
            "--cadence",
            "immediate",
            "--confirmed",
        )
        assert added.exit_code == 0, added.output
    _plan(run.db_url, ReviewMode.AUTO)
    first = run("send")
    assert first.exit_code == 0, first.output
    assert {r.rcpt_tos for r in smtp_sink.received} == {("first@example.com",)}
    seen = len(smtp_sink.received)
    assert run("label", target, "--add", add, "--note", "also concerns this sector").exit_code == 0
    _plan(run.db_url, ReviewMode.AUTO)
    again = run("send")
    assert again.exit_code == 0, again.output
    later = smtp_sink.received[seen:]
    assert len(later) == 2
    by_reader = {r.rcpt_tos[0]: r.message for r in later}
    assert set(by_reader) == {"zh@example.com", "en@example.com"}
    zh, en = by_reader["zh@example.com"], by_reader["en@example.com"]
    assert zh["Subject"].startswith("[更正]") and target in zh["Subject"]
    assert en["Subject"].startswith("[TBT correction]") and target in en["Subject"]
    names = {"eyewear": ("Eyewear", "眼镜"), "lighters": ("Lighters", "打火机")}[add]
    en_text = en.get_body(("plain",)).get_content()
    zh_text = zh.get_body(("plain",)).get_content()
    assert "also concerns" in en_text and names[0].lower() in en_text.lower()
    assert "也涉及" in zh_text and names[1] in zh_text
