#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them on SQLite and PostgreSQL,
# plus ruff and mypy, then builds a wheel and runs the demo and the classifier from a fresh
# non-editable install (scripts/check_wheel.sh). Safe to rerun. Environment:
#   VENV=path                      virtual environment to create/use (default .venv)
#   TBT_ALERT_TEST_PG_URL=url      PostgreSQL for the tests (default postgresql://postgres@127.0.0.1:5432/test)
#   TBT_ALERT_TEST_SKIP_PG=1       skip the PostgreSQL cases (not in CI)
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -e ".[test]"

# PostgreSQL: start the local cluster if it is installed but down.
if [ "${TBT_ALERT_TEST_SKIP_PG:-0}" != "1" ] && command -v pg_isready >/dev/null 2>&1; then
  if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
      for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
    fi
  fi
fi

echo "== ruff"
"$VENV/bin/ruff" check .
echo "== mypy"
"$VENV/bin/mypy" tbt_alert spiders
echo "== pytest (SQLite and PostgreSQL)"
"$VENV/bin/python" -m pytest "$@"
bash scripts/check_wheel.sh "$PY"
