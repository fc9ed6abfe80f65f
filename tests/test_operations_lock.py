"""Operations (issue 13): one process crawls or sends per database; spiders end with their parent,
even after its SIGKILL; runs a dead process left 'running' are closed as abandoned; each run has
its own work folder; a backfill that keeps failing stops. Through the real entry point."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from tbt_alert.config import Config
from tbt_alert.daemon.leader import acquire_leadership
from tbt_alert.errors import CrawlError
from tbt_alert.pipeline import crawl_and_ingest
from tbt_alert.store.engine import make_engine
from tests.support_http import Reply, serve
from tests.test_operations import RUN_CLI, cli, one_error_line


@pytest.fixture
def db_env(tmp_path: Path, db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TBT_ALERT_")}
    env["TBT_ALERT_DATA_DIR"] = str(tmp_path / "data")
    env["TBT_ALERT_DATABASE_URL"] = db_url
    config = tmp_path / "tbt-alert.toml"
    config.write_text(
        "[eping]\ndownload_delay_s = 0\nbackfill_max_failed_windows = 2\ntimeout_s = 120\n"
        "[fetch]\nallowed_hosts = []\n",
        "utf-8",
    )
    env["TBT_ALERT_CONFIG"] = str(config)
    return env


def runs(db_url: str) -> list[tuple[str, str | None]]:
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT status, error FROM crawl_run ORDER BY id")).all()
        return [(r[0], r[1]) for r in rows]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "command",
    [
        ["run", "--once"],
        ["crawl", "eping"],
        ["digest", "--cadence", "daily"],
        ["backfill", "--since", "2024-01-01"],
    ],
)
def test_commands_that_crawl_or_send_refuse_beside_a_lock_holder(db_env, db_url, command):
    assert cli(db_env, "init").returncode == 0
    engine = make_engine(db_url)
    try:
        with acquire_leadership(engine):  # what a running daemon holds
            line = one_error_line(cli(db_env, *command))
    finally:
        engine.dispose()
    assert "already running for this database" in line and "wait for it" in line
    assert runs(db_url) == []  # refused before any work


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_after_sigkill_the_spider_ends_and_the_run_is_closed_as_abandoned(db_env, db_url):
    assert cli(db_env, "init").returncode == 0
    with serve(lambda path, query: Reply(b"", stall=True)) as (base_url, seen):
        env = {**db_env, "TBT_ALERT_EPING_BASE_URL": base_url}
        parent = subprocess.Popen(
            [sys.executable, "-c", RUN_CLI, "crawl", "eping", "--since", "2024-01-01"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: any("getAll" in p for p in seen), 90, "the spider's request")
        spiders = children(parent.pid)
        assert spiders, "the spider runs as a child of the command"
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        wait_until(lambda: not any(alive(p) for p in spiders), 20, "the orphaned spider to end")
    assert [status for status, _ in runs(db_url)] == ["running"]  # nobody could close it
    result = cli(db_env, "digest", "--cadence", "daily")
    assert result.returncode == 0, result.stderr
    assert b"closed 1 crawl run(s) a stopped process left running" in result.stderr
    assert [status for status, _ in runs(db_url)] == ["abandoned"]


def test_sigterm_during_a_crawl_ends_the_spider_and_closes_the_run(db_env, db_url):
    assert cli(db_env, "init").returncode == 0
    with serve(lambda path, query: Reply(b"", stall=True)) as (base_url, seen):
        env = {**db_env, "TBT_ALERT_EPING_BASE_URL": base_url}
        parent = subprocess.Popen(
            [sys.executable, "-c", RUN_CLI, "crawl", "eping", "--since", "2024-01-01"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        wait_until(lambda: any("getAll" in p for p in seen), 90, "the spider's request")
        spiders = children(parent.pid)
        parent.send_signal(signal.SIGTERM)
        _, err = parent.communicate(timeout=30)
    assert parent.returncode == 128 + signal.SIGTERM and b"stopped by SIGTERM" in err, err
    assert b"Traceback" not in err
    assert spiders and not any(alive(p) for p in spiders)
    assert [status for status, _ in runs(db_url)] == ["abandoned"]


def test_each_run_has_a_work_folder_of_its_own(engine, tmp_path):
    folders: list[Path] = []

    def crawler(source, *, workdir, **_kw):
        folders.append(workdir)
        assert workdir.is_dir() and not any(workdir.iterdir())
        raise CrawlError("unreachable")

    config = Config(data_dir=tmp_path)
    now = datetime.now(UTC)
    for _ in range(2):
        crawl_and_ingest(
            engine,
            config,
            source="eping",
            since=now.date(),
            until=now.date(),
            now=now,
            crawler=crawler,
        )
    assert len(set(folders)) == 2 and all(f.parent == config.work_dir for f in folders)


def test_an_offline_backfill_stops_after_k_failed_windows(db_env, db_url):
    assert cli(db_env, "init").returncode == 0
    env = {**db_env, "TBT_ALERT_EPING_BASE_URL": "http://127.0.0.1:9/api/v1/"}
    result = cli(env, "backfill", "--since", "2024-01-01", "--until", "2024-06-30")
    out = result.stdout.decode()
    assert result.returncode == 1, result.stderr
    assert "stopped early: 2 windows failed in a row" in out, out
    assert [status for status, _ in runs(db_url)] == ["failed", "failed"]  # not all six months
