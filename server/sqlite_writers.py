"""Several app processes writing to one SQLite file take turns without SQLite's long sleeps.

SQLite lets one connection write at a time. A writer that finds the file busy sleeps in steps
of 1, 2, 5, 10, 15 … ms before looking again, so with two gunicorn workers writing, a check-in
often idles for milliseconds after the other worker's commit has long finished. Here every
connection first takes an exclusive ``flock`` on a file beside the database, looking again
every fraction of a millisecond, just before its first write of a transaction, and lets go
right after its commit or rollback. The lock only orders the app's own writers; SQLite's own
locking still decides (any other writer, a backup, the ``sqlite3`` shell) and its busy timeout
still applies. After the busy timeout without a turn the write fails as SQLite's would,
"database is locked", which the API answers with 503 and ``Retry-After``.
"""
from __future__ import annotations

import fcntl
import os
import sqlite3
import time

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")
POLL_S = 0.0002


def _writes(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(WRITES)


class TurnCursor(sqlite3.Cursor):
    """A cursor that waits for its connection's turn before a statement that writes."""

    def execute(self, sql, parameters=(), /):
        if _writes(sql):
            self.connection.take_turn()
        return super().execute(sql, parameters)

    def executemany(self, sql, seq_of_parameters, /):
        if _writes(sql):
            self.connection.take_turn()
        return super().executemany(sql, seq_of_parameters)


class TurnTakingConnection(sqlite3.Connection):
    """A SQLite connection holding the writers' lock from its first write to commit/rollback."""

    lock_path: str = ""
    timeout_s: float = 5.0

    def cursor(self, factory=TurnCursor):
        return super().cursor(factory)

    def take_turn(self) -> None:
        """Wait (up to the busy timeout) until no other app connection is writing."""
        if getattr(self, "_lock_fd", None) is not None:
            return
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._lock_fd = fd
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise sqlite3.OperationalError("database is locked") from None
                time.sleep(POLL_S)

    def _end_turn(self) -> None:
        fd, self._lock_fd = getattr(self, "_lock_fd", None), None
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the lock

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._end_turn()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._end_turn()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._end_turn()


def connection_class(database_path: str, busy_timeout_ms: int) -> type[TurnTakingConnection]:
    """A connection class for ``sqlite3.connect(factory=...)`` on the file at the path."""
    return type("TurnTakingConnection", (TurnTakingConnection,), {
        "lock_path": database_path + ".writers", "timeout_s": busy_timeout_ms / 1000})
