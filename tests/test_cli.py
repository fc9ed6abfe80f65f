"""The analyst's and operator's commands, run as a user runs them (CliRunner, real database)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tbt_alert.cli.main import main

LABELLED = (
    Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"
)


@pytest.fixture
def run(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TBT_ALERT_DATABASE_URL", db_url)
    monkeypatch.delenv("TBT_ALERT_CONFIG", raising=False)

    def invoke(*args, input=None):
        return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def test_init_import_list_show_stats(run, tmp_path):
    assert "database ready at schema" in run("init").output
    result = run("import", str(LABELLED))
    assert result.exit_code == 0 and "0 invalid" in result.output
    again = run("import", str(LABELLED))
    assert again.exit_code == 0 and again.output.startswith("0 new, 0 updated, 142 unchanged")
    assert "classified 142" in result.output and "classified 0 " in again.output
    listing = run("list", "--limit", "500")
    assert listing.exit_code == 0 and "G/TBT/N/ECU/386" in listing.output
    footwear = run("list", "--sector", "footwear_leather", "--limit", "500").output
    assert "G/TBT/N/ECU/386" in footwear and "G/TBT/N/KEN/1419" not in footwear
    relevant = run("list", "--relevant", "--limit", "500").output
    assert "G/TBT/N/KOR/692" in relevant and "G/TBT/N/KEN/1419" not in relevant
    assert "3 notification(s)" in run("list", "--limit", "3").output
    shown = run("show", "g/tbt/n/ecu/386")  # any case: symbols are normalised
    assert shown.exit_code == 0 and "Ecuador" in shown.output and "ECU" in shown.output
    assert (
        "footwear_leather [alert]" in shown.output
        and "measure      G/TBT/N/ECU/386: draft" in shown.output
    )
    adopted = run("show", "G/TBT/N/KEN/1307/Add.1").output  # an addendum stating an adoption
    assert "adopted on 2023-06-09" in adopted
    as_json = json.loads(run("show", "G/TBT/N/ECU/386", "--json").output)
    assert as_json["symbol"] == "G/TBT/N/ECU/386" and "6404" in as_json["hs_codes"]
    coverage = run("stats", "coverage").output
    shares = {line.split()[0]: int(line.split()[1]) for line in coverage.splitlines()}
    assert shares["total"] == sum(
        shares[k] for k in ("hs_4plus", "hs_chapter_only", "ics_only", "none")
    )
    assert shares["hs_4plus"] > 0 and shares["none"] > 0
    missing = run("show", "G/TBT/N/XXX/1")
    assert missing.exit_code != 0 and "no notification" in missing.output


def test_import_reports_bad_lines_and_keeps_the_rest(run, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"symbol": "G/TBT/N/EU/1", "member": "European Union", "title": "Toys"}\n'
        "not json\n"
        '{"symbol": "G/TBT/N/EU/2", "member": "European Union"}\n',
        encoding="utf-8",
    )
    result = run("import", str(path))
    assert result.exit_code == 1
    assert "line 2" in result.output and "line 3" in result.output and "1 new" in result.output


def test_subscribers_add_list_remove(run):
    run("init")
    added = run(
        "subscribers",
        "add",
        "Chen@Example.COM",
        "--sector",
        "footwear_leather",
        "--sector",
        "apparel_textiles",
        "--market",
        "European Union",
        "--market",
        "USA",
        "--lang",
        "zh",
        "--cadence",
        "immediate",
        "--confirmed",
    )
    assert added.exit_code == 0 and "added Chen@example.com (active)" in added.output
    listed = run("subscribers", "list").output
    assert (
        "Chen@example.com\tactive\tzh\tapparel_textiles,footwear_leather\tEU,USA\timmediate"
        in listed
    )
    bad = run("subscribers", "add", "x@example.com", "--sector", "spaceships")
    assert bad.exit_code == 1 and "unknown sector" in bad.output and "spaceships" in bad.output
    bad_mail = run("subscribers", "add", "not-an-address", "--sector", "eyewear")
    assert bad_mail.exit_code == 1 and "not a valid email" in bad_mail.output
    # an address matches in any letter case (issue 13); it is stored as given, domain lower-cased
    assert run("subscribers", "remove", "chen@EXAMPLE.com").exit_code == 0
    assert "Chen@example.com" not in run("subscribers", "list").output
    assert run("subscribers", "remove", "Chen@example.com").exit_code == 1


def test_commands_refuse_an_uninitialised_database(run):
    result = run("list")
    assert result.exit_code == 1 and "tbt-alert init" in result.output


def test_a_bad_config_file_names_the_key(run, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[mail]\nsmtp_host = 'x'\n")
    result = run("--config", str(bad), "init")
    assert result.exit_code == 1 and "smtp_host" in result.output


def test_sources_shows_failed_runs_with_their_error(run, tmp_path, monkeypatch):
    monkeypatch.setenv("TBT_ALERT_EPING_BASE_URL", "http://127.0.0.1:9/api/v1/")  # nothing listens
    run("init")
    result = run("crawl", "eping", "--since", "2026-11-01", "--until", "2026-11-02")
    assert result.exit_code == 1 and "failed" in result.output
    sources = run("sources").output
    assert "eping" in sources and "failed" in sources and "error:" in sources
