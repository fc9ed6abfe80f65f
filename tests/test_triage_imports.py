"""Analysts' commands start fast: each imports only what it needs. Run in a fresh interpreter
with a root group holding only these commands (as lazy command loading gives), then look at
which heavy packages were imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tbt_alert.store.engine import make_engine, upgrade

SCRIPT = """
import json, sys, click
from tbt_alert.cli.context import Context, Group
from tbt_alert.cli.decide import label_cmd
from tbt_alert.cli.triage import search_cmd, triage_cmd

@click.group(cls=Group)
@click.pass_context
def root(ctx):
    ctx.obj = Context(config_path=None, verbose=False)

for cmd in (search_cmd, triage_cmd, label_cmd):
    root.add_command(cmd)
root(sys.argv[1:], standalone_mode=False)
heavy = ("sklearn", "numpy", "scipy", "scrapy", "alembic", "textual", "matplotlib", "jieba",
         "openpyxl", "joblib")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


@pytest.mark.parametrize(
    ("args", "allowed"),
    [
        (["search", "footwear", "--json"], []),
        (["search", "footwear"], []),
        # Chinese is cut into the index's own words: no dictionary to load
        (["search", "儿童玩具", "--json"], []),
        (["triage", "--json"], []),
        (["triage"], []),
    ],
)
def test_commands_import_only_what_they_need(tmp_path: Path, args, allowed):
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = dict(os.environ, TBT_ALERT_DATABASE_URL=url, TBT_ALERT_DATA_DIR=str(tmp_path))
    env.pop("TBT_ALERT_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == allowed
