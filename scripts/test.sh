#!/usr/bin/env bash
# Sets up everything the tests need on a fresh machine, then runs them on SQLite and PostgreSQL,
# plus ruff and mypy, then builds a wheel and runs the demo and the classifier from a fresh
# non-editable install (scripts/check_wheel.sh). Safe to rerun. Environment:
#   VENV=path                      virtual environment to create/use (default .venv)
#   TBT_ALERT_TEST_PG_URL=url      PostgreSQL for the tests (default postgresql://postgres@127.0.0.1:5432/test)
#   TBT_ALERT_TEST_SKIP_PG=1       skip the PostgreSQL cases (not in CI)
#   TBT_ALERT_TEST_SKIP_BROWSER=1  skip installing Chromium and the browser test (not in CI)
#   TBT_ALERT_ARTEFACTS=dir        where the browser test saves its screenshots (default: a tmp dir)
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

# Headless Chromium for the browser test (tests/test_web_browser.py), from Debian's packages, with
# a CJK font so the Chinese screenshots are readable.
if [ "${TBT_ALERT_TEST_SKIP_BROWSER:-0}" != "1" ] && { [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; }; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver fonts-wqy-microhei
fi

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
"$VENV/bin/ruff" check --extend-exclude "$VENV" .
echo "== mypy"
"$VENV/bin/mypy" tbt_alert spiders
echo "== pytest (SQLite and PostgreSQL)"
"$VENV/bin/python" -m pytest "$@"
bash scripts/check_wheel.sh "$PY"
