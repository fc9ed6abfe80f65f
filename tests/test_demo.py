"""The README's first command: 'tbt-alert demo' runs the main job offline on bundled real data."""

from email import policy
from email.parser import BytesParser
from pathlib import Path

from click.testing import CliRunner

from tbt_alert.cli.main import main


def test_demo_writes_warnings_to_the_outbox_and_a_second_run_sends_nothing(tmp_path: Path):
    directory = tmp_path / "demo"
    first = CliRunner().invoke(main, ["demo", "--dir", str(directory)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "failures    0" in first.output and "crawled     46 items (0 invalid)" in first.output
    messages = sorted((directory / "outbox").glob("*.eml"))
    assert len(messages) >= 15
    parser = BytesParser(policy=policy.default)
    recipients = set()
    for path in messages:
        with path.open("rb") as fh:
            msg = parser.parse(fh)
        recipients.add(msg["To"])
        assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    assert recipients == {
        "footwear-exporter@example.com",
        "electrical-exporter@example.com",
        "parts-exporter@example.com",
    }
    assert f"outbox: {directory / 'outbox'} ({len(messages)} message(s))" in first.output

    second = CliRunner().invoke(main, ["demo", "--dir", str(directory)], catch_exceptions=False)
    assert second.exit_code == 0 and "emails      none due" in second.output
    assert len(list((directory / "outbox").glob("*.eml"))) == len(messages)
    assert "work" in {p.name for p in directory.iterdir()}
    assert not (directory / "work" / "wtodoc.jsonl").exists()  # offline: no WTO document fetched
