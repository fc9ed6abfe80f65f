"""The classify / evaluate / train commands through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tbt_alert.cli.classify import classify_cmd, evaluate_cmd, train_cmd
from tbt_alert.cli.main import main
from tbt_alert.text.symbols import symbol_keys

DATA = Path(__file__).resolve().parent.parent / "tbt_alert" / "classify" / "data" / "labelled.jsonl"


def test_help_texts() -> None:
    runner = CliRunner()
    for cmd, words in (
        (classify_cmd, ["--input", "--output", "error", "exits with"]),
        (evaluate_cmd, ["--gold", "--external", "hs_only", "--part", "--errors", "test part"]),
        (train_cmd, ["deterministic", "--output"]),
    ):
        result = runner.invoke(cmd, ["--help"])
        assert result.exit_code == 0
        for w in words:
            assert w in result.output


def test_classify_preserves_order_and_reports_bad_line(tmp_path: Path) -> None:
    lines = DATA.read_text(encoding="utf-8").splitlines()[:6]
    lines.insert(3, '{"symbol": "G/TBT/N/X/1", "member": "X"')  # broken JSON on line 4
    lines.insert(5, '{"symbol": "G/TBT/N/X/2", "member": "X"}')  # no title on line 6
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(classify_cmd, ["--input", str(src), "--output", str(out)])
    assert result.exit_code == 1
    objs = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert len(objs) == len(lines)
    assert objs[3]["line"] == 4 and "line 4" in objs[3]["error"] and "JSON" in objs[3]["error"]
    assert objs[5]["line"] == 6 and "title" in objs[5]["error"]
    good = [json.loads(x)["symbol"] for i, x in enumerate(lines) if i not in (3, 5)]
    assert [o["symbol"] for i, o in enumerate(objs) if i not in (3, 5)] == good
    for o in (o for i, o in enumerate(objs) if i not in (3, 5)):
        assert set(o) >= {"symbol", "sectors", "horizontal", "risk"}
        for s in o["sectors"]:
            assert s["tier"] in ("alert", "possible") and s["reasons"]


def test_classify_stdin_and_addendum_parent() -> None:
    parent = {
        "symbol": "G/TBT/N/COL/9",
        "member": "Colombia",
        "title": "Footwear labelling",
        "hs_codes": ["6403"],
    }
    child = {
        "symbol": "G/TBT/N/COL/9/Add.1",
        "member": "Colombia",
        "title": "Entry into force postponed",
    }
    stdin = json.dumps(parent) + "\n" + json.dumps(child) + "\n"
    result = CliRunner().invoke(classify_cmd, [], input=stdin)
    assert result.exit_code == 0
    out = [json.loads(x) for x in result.output.splitlines()]
    assert [o["symbol"] for o in out] == ["G/TBT/N/COL/9", "G/TBT/N/COL/9/Add.1"]
    assert any(
        s["sector"] == "footwear_leather" and s["tier"] == "alert" for s in out[1]["sectors"]
    )


def test_parent_symbol() -> None:
    assert symbol_keys("G/TBT/N/EU/1097/Add.1/Corr.1")[1] == "G/TBT/N/EU/1097"
    assert symbol_keys("G/TBT/N/KEN/1412/Rev.1")[1] == "G/TBT/N/KEN/1412"
    assert symbol_keys("G/TBT/N/EU/1097")[1] is None
    assert symbol_keys(" g/tbt/n/eu/1097/ADD.1") == ("G/TBT/N/EU/1097/Add.1", "G/TBT/N/EU/1097")


def test_train_writes_versioned_model(tmp_path: Path) -> None:
    out = tmp_path / "m.joblib"
    result = CliRunner().invoke(main, ["train", "--no-decisions", "--output", str(out)])
    assert result.exit_code == 0, result.output
    meta = json.loads(out.with_suffix(".json").read_text(encoding="utf-8"))
    assert {"model_version", "sklearn_version", "training_data_sha256_16"} <= set(meta)
    bundled = json.loads((DATA.parent / "model.json").read_text(encoding="utf-8"))
    assert meta["training_data_sha256_16"] == bundled["training_data_sha256_16"]
    assert meta["sectors"] == bundled["sectors"]


def test_stale_model_is_retrained_with_warning(tmp_path: Path, caplog) -> None:
    from tbt_alert.classify.rules import load_rules
    from tbt_alert.classify.textmodel import load_model

    path = tmp_path / "model.joblib"
    path.write_bytes(b"not a model")
    path.with_suffix(".json").write_text(
        json.dumps({"sklearn_version": "0.0", "model_version": "1"})
    )
    model = load_model(load_rules().ids, path)
    assert "footwear_leather" in model.sectors
    assert "scikit-learn 0.0" in caplog.text and "retraining" in caplog.text


def test_evaluate_refuses_test_part_errors() -> None:
    result = CliRunner().invoke(evaluate_cmd, ["--part", "test", "--errors"])
    assert result.exit_code == 1
    assert "development part only" in result.output
    assert "Traceback" not in result.output


def test_evaluate_external_refuses_a_split_option(tmp_path: Path) -> None:
    gold = tmp_path / "set.jsonl"
    gold.write_text('{"symbol": "G/TBT/N/KEN/1", "title": "x", "gold_sectors": []}\n')
    result = CliRunner().invoke(evaluate_cmd, ["--external", str(gold), "--part", "test"])
    assert result.exit_code != 0 and "leave out --gold and --part" in result.output


def test_parent_of_a_symbol_of_no_wto_shape() -> None:
    assert symbol_keys("SYN-C-001/Add.1") == ("SYN-C-001/ADD.1", "SYN-C-001")
    assert symbol_keys("abc/Add.1")[1] == symbol_keys("ABC")[0]
    assert symbol_keys("g/tbt/n/usa/1/add.1000")[1] == "G/TBT/N/USA/1"
    assert symbol_keys("NOSYMBOL-3/Rev.2/Corr.1")[1] == "NOSYMBOL-3"
    assert symbol_keys("NOSYMBOL-3")[1] is None
    assert symbol_keys("/Add.1")[1] is None


def test_evaluate_external_errors_refuse_json(tmp_path: Path) -> None:
    gold = tmp_path / "set.jsonl"
    gold.write_text('{"symbol": "G/TBT/N/KEN/1", "title": "x", "gold_sectors": []}\n')
    result = CliRunner().invoke(evaluate_cmd, ["--external", str(gold), "--errors", "--json"])
    assert result.exit_code != 0 and "leave out --json" in result.output
