"""One active daemon per database (a second daemon waits): a file lock on SQLite, a session-level
advisory lock on PostgreSQL; both die with the process that holds them."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import text

from tbt_alert.daemon.leader import (
    AdvisoryLeadership,
    AlreadyRunning,
    LeadershipLost,
    acquire_leadership,
    lock_path,
)
from tbt_alert.errors import StorageError, TbtAlertError
from tbt_alert.store.engine import make_engine

HOLDER = textwrap.dedent("""
    import sys, time
    from tbt_alert.store.engine import make_engine
    from tbt_alert.daemon.leader import acquire_leadership
    with acquire_leadership(make_engine(sys.argv[1])) as held:
        print("held", held.description, flush=True)
        time.sleep(120)
""")


@pytest.fixture
def holder(db_url):
    """A separate process that holds the lock until it is killed."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, db_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    line = proc.stdout.readline()
    assert line.startswith("held"), proc.stderr.read()
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait(10)


def acquire_within(engine, seconds):
    """The lock, retried: a PostgreSQL backend notices its client's death within moments."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return acquire_leadership(engine)
        except AlreadyRunning:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_second_acquisition_fails_until_the_first_is_released(db_url):
    first_engine, second_engine = make_engine(db_url), make_engine(db_url)
    with acquire_leadership(first_engine) as first:
        with pytest.raises(AlreadyRunning, match="already running for this database"):
            acquire_leadership(second_engine)
        first.check()  # still held
        with pytest.raises(AlreadyRunning):  # also from the same engine (PG: another session)
            acquire_leadership(first_engine)
    with acquire_leadership(second_engine):  # released: free again
        pass
    with acquire_leadership(first_engine):
        pass
    assert issubclass(AlreadyRunning, TbtAlertError)
    first_engine.dispose()
    second_engine.dispose()


def test_another_process_holding_the_lock_excludes_us_and_kill_9_frees_it(db_url, holder):
    engine = make_engine(db_url)
    with pytest.raises(AlreadyRunning) as caught:
        acquire_leadership(engine)
    if db_url.startswith("sqlite"):
        assert f"pid {holder.pid}" in str(caught.value)
    else:
        assert "advisory lock" in str(caught.value) and "server process" in str(caught.value)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(10)
    with acquire_within(engine, 10) as leadership:
        leadership.check()
    engine.dispose()


def test_the_sqlite_lock_file_sits_next_to_the_database_and_names_its_holder(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'alerts.sqlite3'}")
    with acquire_leadership(engine) as leadership:
        path = tmp_path / "alerts.sqlite3.daemon.lock"
        assert lock_path(engine) == path and str(path) in leadership.description
        assert path.read_text().strip() == str(os.getpid())
    assert path.exists()  # never deleted: deleting a lock file races with a newcomer
    engine.dispose()


def test_an_in_memory_sqlite_database_cannot_hold_a_daemon():
    with pytest.raises(StorageError, match="in-memory"):
        acquire_leadership(make_engine("sqlite://"))


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_schemas_of_one_postgresql_database_do_not_exclude_each_other(db_url):
    from tests.conftest import PG_URL

    with acquire_leadership(make_engine(db_url)), acquire_leadership(make_engine(PG_URL)) as other:
        assert "schema public" in other.description


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_terminated_postgresql_session_is_noticed_as_lost_leadership(db_url):
    engine = make_engine(db_url)
    leadership = acquire_leadership(engine)
    assert isinstance(leadership, AdvisoryLeadership)
    admin = make_engine(db_url)
    with admin.begin() as conn:
        killed = (
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'"
                    " AND classid = :a AND objid = :b"
                ),
                {"a": leadership.key[0], "b": leadership.key[1]},
            )
            .scalars()
            .all()
        )
    assert killed == [True]
    with pytest.raises(LeadershipLost):
        leadership.check()
    leadership.release()  # does not raise on a dead session
    with acquire_within(engine, 10):
        pass
    engine.dispose()
    admin.dispose()
