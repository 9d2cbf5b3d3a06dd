"""Backing up and restoring the database: SQLite's online backup API, or pg_dump/pg_restore.

A SQLite backup is itself a SQLite database; a PostgreSQL backup is a ``pg_dump -Fc`` archive.
The first bytes of a file say which it is, so a restore refuses a file of the other kind (or of
no kind) before it touches anything.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL

from .extensions import db

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
KIND_NAMES = {"sqlite": "a SQLite database", "postgresql": "a PostgreSQL dump (pg_dump -Fc)"}


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def backup_kind(url: URL) -> str:
    """``sqlite`` or ``postgresql``: the kind of backup the configured database makes."""
    if url.get_backend_name() in KIND_NAMES:
        return url.get_backend_name()
    raise BackupError(f"cannot back up a {url.get_backend_name()} database")


def file_kind(path: Path) -> str | None:
    """What a backup file holds, judged by its first bytes: ``sqlite``, ``postgresql`` or None."""
    with open(path, "rb") as f:
        head = f.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    return None


def backup(url: URL, target: Path) -> str:
    """Write a consistent copy of the database to ``target`` (never over an existing file)."""
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if backup_kind(url) == "sqlite":
        with closing(_sqlite(url)) as source, closing(sqlite3.connect(target)) as copy:
            source.backup(copy)  # the online backup API: consistent while the app writes
    else:
        _check_client_version("pg_dump", url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target),
              "--dbname", _libpq(url)], "pg_dump")
    return f"backed up {_describe(url)} to {target} ({target.stat().st_size:,} bytes)"


def restore(url: URL, source: Path) -> str:
    """Replace the database's contents with the backup in ``source``, all or nothing.

    Stop the app processes first: a restore replaces every table under their feet.
    """
    expected, found = backup_kind(url), file_kind(source)
    if found != expected:
        what = KIND_NAMES.get(found, "not a zaicun backup (neither a SQLite database "
                                     "nor a PostgreSQL dump)")
        raise BackupError(f"{source} is {what}; this deployment uses "
                          f"{_describe(url)} and restores only {KIND_NAMES[expected]}")
    db.engine.dispose()  # no pooled connection may hold the tables being replaced
    if expected == "sqlite":
        _restore_sqlite(url, source)
    else:
        _check_client_version("pg_restore", url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", _libpq(url), str(source)], "pg_restore")
    return f"restored {source} into {_describe(url)}"


def _restore_sqlite(url: URL, source: Path) -> None:
    """Copy the backup over the database with the backup API: readers see the old contents
    or the new, never a mix, and an interrupted copy leaves the old."""
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup_file:
        if backup_file.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise BackupError(f"{source} is a damaged SQLite file; nothing was restored")
        tables = {row[0] for row in backup_file.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "users", "visits"} <= tables:
            raise BackupError(f"{source} is a SQLite database but not a zaicun one; "
                              "nothing was restored")
        with closing(_sqlite(url)) as database:
            backup_file.backup(database)


def _sqlite(url: URL) -> sqlite3.Connection:
    if url.database in (None, "", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return sqlite3.connect(url.database, timeout=30)


def _libpq(url: URL) -> str:
    """The SQLAlchemy URL as a libpq connection URI for pg_dump and pg_restore."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _describe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def _run(command: list[str], tool: str) -> None:
    if shutil.which(tool) is None:
        raise BackupError(f"{tool} is not installed; install the PostgreSQL client "
                          "(Debian: postgresql-client) of the server's major version")
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "PGCONNECT_TIMEOUT": "10"})
    if done.returncode != 0:
        raise BackupError(f"{tool} failed (exit {done.returncode}): {done.stderr.strip()}")


def _check_client_version(tool: str, url: URL) -> None:
    """pg_dump cannot dump a newer server; say so plainly instead of half-failing."""
    if shutil.which(tool) is None:
        return  # _run says what to install
    output = subprocess.run([tool, "--version"], capture_output=True, text=True).stdout
    client = int(re.search(r"\)\s*(\d+)", output).group(1))  # "pg_dump (PostgreSQL) 15.20"
    with db.engine.connect() as conn:
        server = int(conn.execute(text("SHOW server_version_num")).scalar()) // 10000
    db.engine.dispose()
    if client < server:
        raise BackupError(f"{tool} is version {client} but the server is {server}; install "
                          f"postgresql-client-{server}")
