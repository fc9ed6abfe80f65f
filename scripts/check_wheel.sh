#!/usr/bin/env bash
# Build a wheel, install it (not editable) into a fresh virtual environment, and run the main job
# and the classifier from it, outside the checkout, so that nothing is read from the source tree.
# Usage: bash scripts/check_wheel.sh [PYTHON]   (default python3)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== wheel: build"
"$PY" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
wheel=$(ls "$work"/dist/tbt_alert-*.whl)
echo "built $(basename "$wheel")"

echo "== wheel: install into a fresh virtual environment"
"$PY" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip install --quiet "$wheel"

cd "$work"  # away from the checkout: only the installed package can be found
first=$(head -n 1 "$OLDPWD/tbt_alert/classify/data/labelled.jsonl")

echo "== wheel: tbt-alert demo"
"$work/venv/bin/tbt-alert" demo --dir "$work/demo" --fresh | tail -n 3
ls "$work/demo/outbox"/*.eml >/dev/null  # at least one warning written

echo "== wheel: tbt-alert classify"
out=$(printf '%s\n' "$first" | "$work/venv/bin/tbt-alert" classify)
printf '%s\n' "$out" | "$work/venv/bin/python" -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin if line.strip()]
assert len(rows) == 1 and "sectors" in rows[0], rows
print("classified", rows[0]["symbol"], "->", [s["sector"] for s in rows[0]["sectors"]] or "no sector")
'
echo "wheel check passed"
