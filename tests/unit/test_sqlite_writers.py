"""The app's SQLite connections take turns to write (server/sqlite_writers.py)."""
import sqlite3
import threading
import time

import pytest

from server.sqlite_writers import connection_class


def connect(path, timeout_ms=1000):
    conn = sqlite3.connect(path, factory=connection_class(str(path), timeout_ms),
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
    return conn


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "turns.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE t (n INTEGER)")
    return path


def test_a_second_writer_waits_for_the_first_to_commit_then_writes(path):
    first, second = connect(path), connect(path)
    first.execute("INSERT INTO t VALUES (1)")
    threading.Timer(0.3, first.commit).start()

    started = time.monotonic()
    second.execute("INSERT INTO t VALUES (2)")
    second.commit()

    assert time.monotonic() - started >= 0.25
    assert sorted(n for (n,) in second.execute("SELECT n FROM t")) == [1, 2]


def test_a_writer_gives_up_as_locked_after_the_busy_timeout(path):
    first, second = connect(path), connect(path, timeout_ms=300)
    first.execute("INSERT INTO t VALUES (1)")

    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        second.execute("INSERT INTO t VALUES (2)")
    first.rollback()
    second.execute("INSERT INTO t VALUES (3)")   # the turn is free again after a rollback
    second.commit()


def test_readers_never_wait_for_a_turn(path):
    first, second = connect(path), connect(path, timeout_ms=100)
    first.execute("INSERT INTO t VALUES (1)")

    assert second.execute("SELECT count(*) FROM t").fetchone() == (0,)
    first.commit()
