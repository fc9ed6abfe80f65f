"""``triage --interactive`` driven with Textual's pilot on a real database (both backends):
keys move through the queue, decide, relabel, open the link and search; decisions land in the
database exactly as the one-shot commands store them."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from click.testing import CliRunner

from tbt_alert.classify.rules import load_rules
from tbt_alert.cli.main import main
from tbt_alert.cli.triage_app import TriageApp
from tbt_alert.status import ReviewMode
from tbt_alert.store.engine import make_engine
from tests.test_triage import timely_records


def test_keyboard_triage(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def cli(*args: str):
        return CliRunner().invoke(main, list(args), catch_exceptions=False)

    assert cli("import", str(timely_records(tmp_path / "in.jsonl"))).exit_code == 0
    queue = json.loads(cli("triage", "--json").output)
    assert len(queue) >= 3
    opened: list[str] = []
    engine = make_engine(db_url)
    app = TriageApp(
        engine,
        mode=ReviewMode.AUTO,
        who="pilot",
        sector_ids=load_rules().ids,
        opener=opened.append,
    )

    async def drive() -> None:
        async with app.run_test(size=(140, 40)) as pilot:
            await pilot.pause()
            assert app.current.notification.symbol == queue[0]["symbol"]
            await pilot.press("a")  # accept the first
            await pilot.press("n", "d")  # dismiss the second
            await pilot.press("n", "p")  # next, previous: back on the second
            assert app.current.notification.symbol == queue[1]["symbol"]
            await pilot.press("n")  # the third: add a sector, then remove it
            await pilot.press("plus", *"eyewear", "enter")
            await pilot.press("plus", *"spaceships", "enter")  # refused, nothing stored
            await pilot.press("minus", *"eyewear", "enter")
            await pilot.press("u")  # undo the removal: eyewear stays added
            await pilot.press("o")
            await pilot.press("slash", *"玩具", "enter")
            await pilot.pause()
            assert app.items and all(i.why == ("search",) for i in app.items)
            assert "G/TBT/N/CHN/1999" in {i.notification.symbol for i in app.items}
            shot = app.save_screenshot("triage.svg", str(tmp_path))
            assert "G/TBT/N/CHN/1999" in Path(shot).read_text(encoding="utf-8")
            await pilot.press("slash", "enter")  # empty search: back to the queue
            await pilot.pause()
            assert app.items[0].why != ("search",)
            await pilot.press("q")

    asyncio.run(drive())
    engine.dispose()

    first = json.loads(cli("show", queue[0]["symbol"], "--json").output)
    second = json.loads(cli("show", queue[1]["symbol"], "--json").output)
    third = json.loads(cli("show", queue[2]["symbol"], "--json").output)
    assert [(d["kind"], d["who"]) for d in first["decisions"]] == [("accept", "pilot")]
    assert [d["kind"] for d in second["decisions"]] == ["dismiss"]
    assert [(d["kind"], d["value"], d["undone_at"] is None) for d in third["decisions"]] == [
        ("label_add", "eyewear", True),
        ("label_remove", "eyewear", False),
    ]
    assert "eyewear" in third["labels"]
    assert opened == ([third["document_url"]] if third["document_url"] else [])
    remaining = {i["symbol"] for i in json.loads(cli("triage", "--json").output)}
    assert queue[0]["symbol"] not in remaining and queue[1]["symbol"] not in remaining
