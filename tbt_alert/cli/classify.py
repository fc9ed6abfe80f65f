"""Thin click commands over classify, evaluate and model; the lead wires them into ``tbt-alert``."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from tbt_alert.cli.context import Context
from tbt_alert.errors import StorageError, TbtAlertError
from tbt_alert.record import CanonicalRecord, decode_lines, parse_line
from tbt_alert.text.symbols import symbol_keys

if TYPE_CHECKING:
    from tbt_alert.classify.classifier import Classifier
    from tbt_alert.classify.textmodel import Example

# The classifier and its model (scikit-learn, numpy) are imported inside the commands that use
# them, so that listing or running other commands does not pay for them.

BATCH = 256


def classify_stream(
    clf: Classifier, lines: Iterator[str | TbtAlertError], out: IO[str], now: datetime
) -> int:
    """Classify JSON Lines in order; one output line per input line. Returns the number of bad lines."""
    seen: dict[str, CanonicalRecord] = {}
    pending: list[tuple[int, CanonicalRecord | str, CanonicalRecord | None]] = []
    bad = 0

    def flush() -> None:
        records = [(r, p) for _, r, p in pending if isinstance(r, CanonicalRecord)]
        results = iter(clf.classify_many([r for r, _ in records], [p for _, p in records]))
        for n, item, _ in pending:
            obj: dict[str, Any] = (
                next(results).report(now.date())
                if isinstance(item, CanonicalRecord)
                else {"line": n, "error": item}
            )
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        pending.clear()

    for n, line in enumerate(lines, 1):
        if isinstance(line, str) and not line.strip():
            continue
        try:
            if isinstance(line, TbtAlertError):
                raise line
            record = parse_line(line)
            own, parent = symbol_keys(record.symbol)
            pending.append((n, record, seen.get(parent) if parent else None))
            seen.setdefault(own, record)
        except TbtAlertError as e:
            bad += 1
            pending.append((n, f"line {n}: {e}", None))
        if len(pending) >= BATCH:
            flush()
    flush()
    return bad


@click.command(name="classify")
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Canonical JSON Lines to read (default: standard input).",
)
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the results (default: standard output).",
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sector rules file (default: rules/sectors.yaml).",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Model file (default: the bundled tbt_alert/classify/data/model.joblib).",
)
def classify_cmd(
    input_path: Path | None,
    output_path: Path | None,
    rules_path: Path | None,
    model_path: Path | None,
) -> None:
    """Classify notifications into Wenzhou export sectors.

    Reads canonical JSON Lines and writes, in the same order, one JSON object per non-blank input
    line: {"symbol", "sectors": [{"sector", "tier": "alert"|"possible", "score", "reasons",
    "risk": {"level", "reasons"}}], "horizontal", "horizontal_reasons", "risk", "language"}.
    "risk" at top level is the highest level among alert-tier sectors, or null; levels are as of
    today. "language" is the language guessed from the text (en, fr, es, pt, vi, ru, ar, ko, ja,
    zh, th), or null. Each reason is an object {"kind", "value", "sector"?, "field"?, "strength"?,
    "detail"?} (kind: hs, ics, phrase, cross, veto, model, inherited, market, ...).

    An addendum, corrigendum or revision whose parent appears earlier in the same input inherits
    the parent's scope. No database is used.

    A line that is not a valid record gives {"line": N, "error": "..."} in its place; the other
    lines are still classified, and the command exits with status 1 at the end.
    """
    from tbt_alert.classify.classifier import load_classifier

    try:
        clf = load_classifier(rules_path, model_path)
    except TbtAlertError as e:
        raise click.ClickException(str(e)) from e
    now = datetime.now(UTC)
    src = input_path.open("rb") if input_path else sys.stdin.buffer
    try:
        lines = (line for _, line in decode_lines(src))
        first = next(lines, None)  # a binary input is refused before any output is written
    except TbtAlertError as e:
        src.close()
        raise click.ClickException(f"{input_path or 'standard input'}: {e}") from e
    dst = output_path.open("w", encoding="utf-8") if output_path else sys.stdout
    try:
        bad = classify_stream(clf, chain([first] if first is not None else [], lines), dst, now)
    finally:
        if input_path:
            src.close()
        if output_path:
            dst.close()
    if bad:
        click.echo(f"{bad} bad line(s): see the error objects in the output", err=True)
        sys.exit(1)


@click.command(name="evaluate")
@click.option(
    "--gold",
    "gold",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Gold-labelled JSON Lines (fields of a canonical record plus gold_sectors, ambiguous); "
    "default: the bundled tbt_alert/classify/data/labelled.jsonl.",
)
@click.option(
    "--external",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Score every record of this separately labelled JSON Lines file with the shipped rules "
    "and model instead (no split, no training).",
)
@click.option(
    "--part",
    type=click.Choice(["dev", "test", "all"]),
    default=None,
    help="Which part of the frozen dev/test split to score (default: all; with --errors: dev).",
)
@click.option(
    "--errors",
    "list_errors",
    is_flag=True,
    help="List the wrong records of the development part (refused for the test part).",
)
@click.option("--folds", default=5, show_default=True, help="Cross-validation folds.")
@click.option("--repeats", default=2, show_default=True, help="Cross-validation repeats.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the figures as JSON instead of tables."
)
@click.option(
    "--rules",
    "rules_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Sector rules file (default: rules/sectors.yaml).",
)
def evaluate_cmd(
    gold: Path | None,
    external: Path | None,
    part: str | None,
    list_errors: bool,
    folds: int,
    repeats: int,
    as_json: bool,
    rules_path: Path | None,
) -> None:
    """Precision and recall with Wilson 95% intervals on the frozen development and test parts.

    The labelled records are split once by a hash of the symbol (tbt_alert/classify/data/split.json).
    The development part is cross-validated (each fold's model never sees it); the test part is
    scored by a model trained on the development part, and rules are never edited looking at its
    errors. For each part: precision and recall at alert tier on the core sectors, the false-alarm
    rate on notifications with no sector, the analysts' queue (alert + possible) recall, then a
    table per sector for the systems hs_only (strong HS-code match), rules (rule score alone),
    model (probability alone), combined (the alert tier: what subscribers get) and queue.
    Ambiguous records are left out. Analysts' labels
    (tbt_alert/classify/data/analyst_labels.jsonl) join every training fold, test-part symbols
    excepted. --errors lists the development part's wrong records with their reasons.

    --external FILE scores a separately labelled set as a whole with the rules and model as
    shipped, linking addenda to parents on earlier lines of the same file, as an outside check
    would: nothing is split or trained (--folds and --repeats do not apply). With --errors it
    lists that file's wrong records; list them only for a set you tune on, and keep a set you
    quote untouched.
    """
    from tbt_alert.classify import evaluate as ev
    from tbt_alert.classify.classifier import load_classifier
    from tbt_alert.classify.textmodel import TRAINING_FILES

    try:
        if external is not None:
            if gold is not None or part is not None:
                raise TbtAlertError("--external scores its own file: leave out --gold and --part")
            if list_errors and as_json:
                raise TbtAlertError("--errors lists records as text: leave out --json")
            clf = load_classifier(rules_path)
            text, figures, errors = ev.score_external(clf, external, list_errors)
            if list_errors:
                click.echo("\n".join(e.format() for e in errors) or "no errors")
                click.echo(f"{len(errors)} wrong record(s) in {external.name}", err=True)
                return
            click.echo(ev.to_json(figures) if as_json else text)
            return
        gold = gold or TRAINING_FILES[0]
        part = part or ("dev" if list_errors else "all")
        if list_errors and part != "dev":
            raise TbtAlertError(
                f"--errors lists the development part only (got --part {part}): "
                "the test part is measured, never tuned on"
            )
        clf = load_classifier(rules_path)
        extra = [p for p in TRAINING_FILES if p.name != "labelled.jsonl"]
        if list_errors:
            errors = ev.dev_errors(clf, gold, folds, extra)
            click.echo("\n".join(e.format() for e in errors) or "no errors")
            click.echo(f"{len(errors)} wrong record(s) in the development part", err=True)
            return
        text, figures = ev.run(clf, gold, folds, repeats, extra, part)  # type: ignore[arg-type]
    except TbtAlertError as e:
        raise click.ClickException(str(e)) from e
    click.echo(ev.to_json(figures) if as_json else text)


@click.command(name="train")
@click.option(
    "--output",
    "output_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Model file to write (default: the bundled tbt_alert/classify/data/model.joblib).",
)
@click.option(
    "--decisions/--no-decisions",
    default=True,
    show_default=True,
    help="Also learn from analysts' decisions stored in the configured database.",
)
@click.pass_context
def train_cmd(ctx: click.Context, output_path: Path | None, decisions: bool) -> None:
    """Train the sector model from the labelled data kept in the repository and analysts'
    decisions kept in the database, and save it.

    Training data: tbt_alert/classify/data/labelled.jsonl plus
    tbt_alert/classify/data/analyst_labels.jsonl (ambiguous records left out), plus every
    notification an analyst labelled, accepted or dismissed ('tbt-alert label', 'decide'; a
    dismissal teaches "no sector"); every symbol of the frozen test part is left out.
    Training is deterministic: the same data gives the same model. Writes the
    model file and a JSON sidecar with the model version, scikit-learn version and a hash of the
    training data.
    """
    from tbt_alert.classify.rules import load_rules
    from tbt_alert.classify.textmodel import DEFAULT_MODEL_PATH, build_default_model, save_model

    logging.basicConfig(level=logging.INFO)
    output_path = output_path or DEFAULT_MODEL_PATH
    try:
        obj = ctx.find_object(Context) or Context(config_path=None, verbose=False)
        extra, extra_meta = _decision_examples(obj) if decisions else ([], {})
        model = build_default_model(load_rules().ids, extra=extra, extra_meta=extra_meta)
        save_model(model, output_path)
    except TbtAlertError as e:
        raise click.ClickException(str(e)) from e
    click.echo(
        f"wrote {output_path} ({len(model.sectors)} sector models, "
        f"{model.meta['n_examples']} examples, data {model.meta['training_data_sha256_16']}"
        + (f", {len(extra)} from analysts' decisions" if decisions else "")
        + ")"
    )


def _decision_examples(obj: Context) -> tuple[list[Example], dict[str, Any]]:
    from sqlalchemy.engine import make_url

    from tbt_alert.classify.split import is_test
    from tbt_alert.store.engine import session_scope
    from tbt_alert.triage.training import decision_examples, examples_hash

    url = make_url(obj.config.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        click.echo(
            f"note: no database at {url.database}; training without analysts' decisions", err=True
        )
        return [], {"analyst_decisions": 0}
    try:
        engine = obj.engine()
    except StorageError as e:
        click.echo(f"note: {e}; training without analysts' decisions", err=True)
        return [], {"analyst_decisions": 0}
    try:
        with session_scope(engine) as session:
            found, kept_out = decision_examples(session, is_test)
    finally:
        engine.dispose()
    if kept_out:
        click.echo(f"kept {kept_out} decided notification(s) of the test part out", err=True)
    from tbt_alert.classify.textmodel import Example

    examples = [Example(e.record, e.sectors) for e in found]
    return examples, {
        "analyst_decisions": len(examples),
        "analyst_decisions_sha256_16": examples_hash(found),
    }
