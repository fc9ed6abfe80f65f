"""The README and --help stay true: every command has help text and is documented."""

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tbt_alert.cli.main import main

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, f"{name} is listed but cannot be loaded"
        path = (*prefix, name)
        if isinstance(cmd, click.Group):
            out.extend(command_paths(cmd, path))
        else:
            out.append(path)
    return out


PATHS = command_paths(main)


def test_the_expected_commands_exist():
    names = {" ".join(p) for p in PATHS}
    expected = {
        "init",
        "import",
        "run",
        "send",
        "daemon",
        "digest",
        "backfill",
        "crawl",
        "demo",
        "dev record-fixture",
        "list",
        "show",
        "sources",
        "stats coverage",
        "subscribers add",
        "subscribers list",
        "subscribers remove",
        "classify",
        "evaluate",
        "train",
        "triage",
        "search",
        "label",
        "decide",
        "assign",
        "risk",
        "undo",
        "reindex",
        "export",
    }
    assert expected <= names


@pytest.mark.parametrize("path", PATHS, ids=[" ".join(p) for p in PATHS])
def test_every_command_has_help_and_is_in_the_readme(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    cmd: click.Command | None = main
    for part in path:
        assert isinstance(cmd, click.Group)
        cmd = cmd.get_command(click.Context(cmd), part)
    assert cmd is not None
    assert cmd.help and len(cmd.help.strip()) > 20, f"{path} has no real help text"
    assert f"`tbt-alert {' '.join(path)}" in README, (
        f"tbt-alert {' '.join(path)} is not in the README"
    )


def test_readme_starts_with_the_two_setup_commands_and_ci_runs_the_test_one():
    head = README.split("---")[0]
    assert "tbt-alert demo" in head and "bash scripts/test.sh" in head
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bash scripts/test.sh" in ci.splitlines()[-1]


HEAVY = ("sklearn", "scrapy", "numpy", "scipy", "twisted")


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["list", "--help"]])
def test_light_commands_do_not_import_heavy_libraries(args):
    """Only the commands that need scikit-learn, Scrapy or numpy import them (start-up time)."""
    code = (
        "import sys\n"
        "from tbt_alert.cli.main import main\n"
        f"try:\n    main({args!r})\n"
        "except SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]", out


def test_the_summaries_listed_by_help_are_the_commands_own():
    """`--help` lists summaries kept in cli/main.py's table (so it imports no command): each must
    be the command's own first sentence, and every command must be in the table."""
    from tbt_alert.cli.main import COMMANDS

    ctx = click.Context(main)
    for name, (_, summary) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None
        assert summary == command.get_short_help_str(limit=10**6), name
    result = CliRunner().invoke(main, ["--help"], terminal_width=200)
    assert result.exit_code == 0
    for name, (_, summary) in COMMANDS.items():
        assert f"{name}  " in result.output and summary[:40] in result.output
