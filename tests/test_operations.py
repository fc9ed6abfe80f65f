"""Operations (issue 13): every error a README command can meet is one line naming the cause, with
secrets masked and no traceback (only with -v); bad input is reported line by line and the rest
kept. Run through the real entry point, in a subprocess, as an operator runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session, select

from tbt_alert.store.engine import make_engine
from tbt_alert.store.tables import Notification

SECRET = "S3ntinel-pw-42"
RUN_CLI = "from tbt_alert.cli.main import main\nmain()"
GOOD = '{"symbol": "G/TBT/N/EU/%d", "member": "European Union", "title": "Toys %d"}'


def cli(env: dict[str, str], *args: str, stdin: bytes | None = None, timeout: float = 120):
    return subprocess.run(
        [sys.executable, "-c", RUN_CLI, *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
    )


def one_error_line(result: subprocess.CompletedProcess[bytes]) -> str:
    """The result failed with exactly one 'error:' line on standard error and no traceback."""
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1, (result.returncode, err, result.stdout)
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(("error: ", "Error: ")), err
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("TBT_ALERT_")}
    out["TBT_ALERT_DATA_DIR"] = str(tmp_path / "data")
    return out


@pytest.fixture
def db_env(env: dict[str, str], db_url: str) -> dict[str, str]:
    return {**env, "TBT_ALERT_DATABASE_URL": db_url}


def symbols(db_url: str) -> list[str]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return sorted(session.exec(select(Notification.symbol)).all())
    finally:
        engine.dispose()


# ---------------------------------------------------------------- one line, no traceback


@pytest.mark.parametrize("command", [["import"], ["classify", "--input"], ["evaluate", "--gold"]])
def test_a_binary_file_is_one_line_naming_it(env, tmp_path, command):
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00\xd0\xff" * 50)
    line = one_error_line(cli(env, *command, str(binary)))
    assert "model.bin" in line and ("binary" in line or "UTF-8" in line)


def test_evaluate_without_gold_labels_says_what_is_missing(env, tmp_path):
    path = tmp_path / "plain.jsonl"
    path.write_text("\n".join(GOOD % (i, i) for i in range(20)) + "\n", "utf-8")
    line = one_error_line(cli(env, "evaluate", "--gold", str(path)))
    assert "no gold labels" in line and "gold_sectors" in line


def test_postgres_scheme_is_read_as_postgresql_and_mysql_is_refused_masked(env):
    unreachable = cli(
        {**env, "TBT_ALERT_DATABASE_URL": f"postgres://u:{SECRET}@127.0.0.1:9/x"}, "list"
    )
    line = one_error_line(unreachable)
    # read as PostgreSQL: the driver tried to connect and says why it could not
    assert "cannot reach the database" in line and "refused" in line.lower()
    assert SECRET not in line
    mysql = one_error_line(
        cli({**env, "TBT_ALERT_DATABASE_URL": f"mysql://u:{SECRET}@127.0.0.1:9/x"}, "list")
    )
    assert "'mysql' is not supported" in mysql and "u:***@" in mysql and SECRET not in mysql


def test_an_unwritable_data_directory_is_named(env, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a folder should be", "utf-8")
    line = one_error_line(cli({**env, "TBT_ALERT_DATA_DIR": str(blocked / "data")}, "init"))
    assert "cannot create the data directory" in line and "TBT_ALERT_DATA_DIR" in line


@pytest.mark.parametrize("command", ["run", "crawl"])
def test_a_reversed_or_future_window_is_refused_before_any_work(env, command):
    extra = ["--once"] if command == "run" else []
    reversed_ = cli(env, command, *extra, "--since", "2025-02-01", "--until", "2025-01-01")
    assert "window is reversed" in one_error_line(reversed_)
    future = (datetime.now(UTC).date() + timedelta(days=400)).isoformat()
    assert "in the future" in one_error_line(cli(env, command, *extra, "--since", future))
    assert not (Path(env["TBT_ALERT_DATA_DIR"]) / "tbt-alert.sqlite3").exists()


def test_init_never_prints_the_password_and_names_the_cause(env, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("a password lives in PostgreSQL URLs")
    with_password = db_url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")
    done = cli({**env, "TBT_ALERT_DATABASE_URL": with_password}, "init")
    assert done.returncode == 0 and SECRET not in done.stdout.decode() + done.stderr.decode()
    assert "postgres:***@" in done.stdout.decode()
    wrong_db = with_password.replace("/test?", "/no_such_database_here?")
    line = one_error_line(cli({**env, "TBT_ALERT_DATABASE_URL": wrong_db}, "list"))
    assert 'database "no_such_database_here" does not exist' in line and SECRET not in line


def test_a_newer_schema_gives_advice_that_works(db_env, db_url):
    assert cli(db_env, "init").returncode == 0
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    for command in ("list", "init"):
        line = one_error_line(cli(db_env, command))
        assert "9999 was written by a newer version" in line and "run 'tbt-alert init'" not in line


def test_a_read_only_database_is_one_line(db_env, db_url, tmp_path):
    assert cli(db_env, "init").returncode == 0
    good = tmp_path / "good.jsonl"
    good.write_text(GOOD % (1, 1) + "\n", "utf-8")
    if db_url.startswith("sqlite"):  # opened read-only (file permissions do not stop root)
        path = db_url.removeprefix("sqlite:///")
        read_only = f"sqlite:///file:{path}?mode=ro&uri=true"
    else:
        read_only = db_url + "%20-cdefault_transaction_read_only%3Don"
    line = one_error_line(cli({**db_env, "TBT_ALERT_DATABASE_URL": read_only}, "import", str(good)))
    assert "the database is read-only" in line
    assert symbols(db_url) == []


def test_a_lost_postgresql_connection_is_one_line(db_env, db_url, tmp_path):
    """The server ends the session of an import in mid-transaction: one line, nothing kept."""
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    import uuid

    assert cli(db_env, "init").returncode == 0
    name = f"tbt_ops_{uuid.uuid4().hex[:10]}"
    env = {**db_env, "TBT_ALERT_DATABASE_URL": f"{db_url}&application_name={name}"}
    reader, writer = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "import", "-", "--no-classify"],
        env=env,
        stdin=reader,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    os.close(reader)
    os.write(writer, ("\n".join(GOOD % (i, i) for i in range(5)) + "\n").encode())
    admin = make_engine(db_url)
    try:
        deadline = time.monotonic() + 90
        with admin.connect() as conn:
            while True:  # the import holds its transaction open, waiting for more lines
                state = conn.execute(
                    text("SELECT state FROM pg_stat_activity WHERE application_name = :n"),
                    {"n": name},
                ).scalar()
                conn.commit()
                if state == "idle in transaction":
                    break
                assert time.monotonic() < deadline, "the import never started its transaction"
                time.sleep(0.2)
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = :n"
                ),
                {"n": name},
            )
            conn.commit()
    finally:
        admin.dispose()
    os.write(writer, ("\n".join(GOOD % (i, i) for i in range(5, 10)) + "\n").encode())
    os.close(writer)
    out, err = process.communicate(timeout=60)
    line = one_error_line(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    # psycopg words it "terminating connection ..." or "server closed the connection ..."
    assert "lost the connection to the database" in line and "connection" in line.split("(")[1]
    assert symbols(db_url) == []


def wait_for_schema(db_url: str, seconds: float = 60) -> None:
    engine = make_engine(db_url)
    deadline = time.monotonic() + seconds
    try:
        while True:
            try:
                with engine.connect() as conn:
                    if conn.execute(text("SELECT count(*) FROM notification")).scalar() == 0:
                        return
            except Exception:
                assert time.monotonic() < deadline, "the command never created the schema"
            time.sleep(0.2)
    finally:
        engine.dispose()


def test_sigterm_unwinds_a_command_cleanly(db_env, db_url, tmp_path):
    """SIGTERM during an import: exit 143, one line, and the transaction rolled back."""
    reader, writer = os.pipe()
    process = subprocess.Popen(
        [sys.executable, "-c", RUN_CLI, "import", "-", "--no-classify"],
        env=db_env,
        stdin=reader,
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    os.close(reader)
    os.write(writer, ("\n".join(GOOD % (i, i) for i in range(5)) + "\n").encode())
    wait_for_schema(db_url)  # the command migrates, then reads standard input and waits on it
    time.sleep(1)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    os.close(writer)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert b"Traceback" not in err and b"stopped by SIGTERM" in err
    assert symbols(db_url) == []


def test_sources_shows_the_cause_of_a_failed_crawl(db_env, db_url):
    assert cli(db_env, "init").returncode == 0
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    error = "crawl of eping failed: the spider process failed\n" + "log line\n" * 20
    error += "twisted.internet.error.DNSLookupError: DNS lookup failed: epingalert.org"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO crawl_run (source, status, since, until, started_at, items, "
                "invalid, new, updated, error) VALUES ('eping', 'failed', :d, :d, :t, 0, 0, 0, 0,"
                " :e)"
            ),
            {"d": now.date(), "t": now, "e": error},
        )
    engine.dispose()
    shown = cli(db_env, "sources").stdout.decode()
    assert "DNS lookup failed: epingalert.org" in shown


# ---------------------------------------------------------------- bad input, line by line


def test_import_skips_bad_bytes_line_by_line_and_keeps_the_rest(db_env, db_url, tmp_path):
    path = tmp_path / "mixed.jsonl"
    lines = [
        b"\xef\xbb\xbf" + (GOOD % (1, 1)).encode(),  # a BOM before the first line
        (GOOD % (2, 2)).encode()[:-3] + b"\xff\xfe" + b'2"}',  # invalid UTF-8
        b'{"symbol": "G/TBT/N/EU/3", "member": "European Union", "title": "bad \\ud800 text"}',
        (GOOD % (4, 4)).encode(),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = cli(db_env, "import", str(path))
    err = result.stderr.decode()
    assert result.returncode == 1 and "Traceback" not in err, err
    assert (
        "line 2: not valid UTF-8" in err and "line 3: field 'title' holds a lone surrogate" in err
    )
    assert "2 new" in result.stdout.decode()
    assert symbols(db_url) == ["G/TBT/N/EU/1", "G/TBT/N/EU/4"]


def test_classify_reports_bad_bytes_per_line(env, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_bytes((GOOD % (1, 1)).encode() + b"\n\xff\xfe\n" + (GOOD % (2, 2)).encode() + b"\n")
    result = cli(env, "classify", "--input", str(path))
    out = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert result.returncode == 1 and b"Traceback" not in result.stderr
    assert [o.get("symbol") or o["error"][:6] for o in out] == [
        "G/TBT/N/EU/1",
        "line 2",
        "G/TBT/N/EU/2",
    ]


def test_an_impossible_date_is_a_warning_naming_the_field(db_env, db_url, tmp_path):
    path = tmp_path / "dates.jsonl"
    record = {"symbol": "G/TBT/N/EU/7", "member": "EU", "title": "Toys"}
    path.write_text(json.dumps({**record, "distribution_date": "2024-02-30"}) + "\n", "utf-8")
    result = cli(db_env, "import", str(path), "--no-classify")
    err = result.stderr.decode()
    assert result.returncode == 0, err
    assert "warning: line 1 (G/TBT/N/EU/7): field 'distribution_date': '2024-02-30'" in err
    assert "1 with warnings" in result.stdout.decode()
    assert symbols(db_url) == ["G/TBT/N/EU/7"]


def test_a_crawled_item_that_is_not_unicode_is_reported_not_dropped(tmp_path):
    from tbt_alert.crawl.runner import read_output

    items = tmp_path / "eping.jsonl"
    surrogate = '{"symbol": "G/TBT/N/EU/2", "member": "EU", "title": "x \\udc80"}'
    items.write_bytes(
        (GOOD % (1, 1)).encode() + b"\n" + surrogate.encode() + b"\n\xc3\x28 broken\n"
    )
    stats = tmp_path / "eping.jsonl.stats.json"
    stats.write_text("{}", "utf-8")
    out = read_output(items, tmp_path / "eping.log", stats)
    assert [r.symbol for r in out.records] == ["G/TBT/N/EU/1"] and out.invalid == 2
    assert "eping.jsonl:2: field 'title' holds a lone surrogate" in out.errors[0]
    assert "eping.jsonl:3: not valid UTF-8" in out.errors[1]


def test_a_crawl_error_with_nul_bytes_is_stored(engine, tmp_path):
    from tbt_alert.config import Config
    from tbt_alert.errors import CrawlError
    from tbt_alert.pipeline import crawl_and_ingest

    def crawler(*_args, **_kw):
        raise CrawlError("crawl of eping failed\nlog: \x00\x00 binary junk from the server")

    now = datetime.now(UTC)
    run, report = crawl_and_ingest(
        engine,
        Config(data_dir=tmp_path),
        source="eping",
        since=now.date(),
        until=now.date(),
        now=now,
        crawler=crawler,
    )
    assert report is None and run.status == "failed"
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT error FROM crawl_run")).scalar_one()
    assert "binary junk" in stored and "\x00" not in stored


# ---------------------------------------------------------------- fuzz: never a traceback

FUZZ_LINES = [
    b"{",
    b'{"symbol": ',
    b"[1, 2, 3]",
    b'"just a string"',
    b"null",
    b'{"symbol": {"nested": true}, "member": 7}',
    b'{"symbol": "G/TBT/N/EU/1", "member": "EU", "title": ["a"]}',
    b'{"symbol": "\\u0000", "member": "\\u0000", "title": "\\u0000"}',
    b'{"symbol": "G/TBT/N/EU/1", "member": "EU", "title": "' + b"x" * 300_000 + b'"}',
    b"\xff\xfe\x00\x00",
    b"\xed\xa0\x80",  # an encoded surrogate: not UTF-8
    b'{"symbol": "G/TBT/N/EU/1", "member": "EU", "title": "t", "hs_codes": 5}',
]


@pytest.mark.parametrize("seed", range(3))
def test_random_bytes_and_malformed_json_never_give_a_traceback(env, tmp_path, seed):
    import random

    rng = random.Random(seed)
    lines = [
        *FUZZ_LINES,
        *(bytes(rng.randrange(1, 256) for _ in range(rng.randrange(1, 80))) for _ in range(20)),
    ]
    rng.shuffle(lines)
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    for args in (["import", str(path)], ["classify", "--input", str(path)]):
        result = cli(env, *args)
        err = result.stderr.decode("utf-8", "replace")
        assert result.returncode == 1 and "Traceback" not in err, (args, err[-2000:])
    binary = tmp_path / "random.bin"
    binary.write_bytes(bytes(rng.randrange(0, 256) for _ in range(4096)) + b"\x00")
    for args in (["import", str(binary)], ["classify", "--input", str(binary)]):
        one_error_line(cli(env, *args))
