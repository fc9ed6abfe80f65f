"""The systemd units in deploy/ start real commands with options those commands accept."""

from __future__ import annotations

import shlex
from pathlib import Path

import click
import pytest

from tbt_alert.cli.main import main

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))


def test_there_is_a_unit_for_each_long_running_process():
    names = {u.name for u in UNITS}
    assert names == {
        "tbt-alert-daemon.service",
        "tbt-alert-web.service",
        "tbt-alert-inbound.service",
    }


@pytest.mark.parametrize("unit", UNITS, ids=[u.name for u in UNITS])
def test_each_unit_runs_a_command_with_options_it_accepts(unit: Path):
    text = unit.read_text(encoding="utf-8")
    [line] = [x for x in text.splitlines() if x.startswith("ExecStart=")]
    argv = shlex.split(line.removeprefix("ExecStart="))
    assert argv[0].endswith("/tbt-alert")
    name, args = argv[1], argv[2:]
    command = main.get_command(click.Context(main), name)
    assert command is not None, f"{unit.name}: no command {name!r}"
    # parse the options exactly as click would, without running the command
    ctx = command.make_context(name, list(args), resilient_parsing=False)
    assert ctx.params is not None
    assert "EnvironmentFile=/etc/tbt-alert/env" in text and "User=tbt-alert" in text
