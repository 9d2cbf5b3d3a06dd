"""Fresh, throw-away databases of the same kind as the suite's (SQLite file or PostgreSQL)."""
from __future__ import annotations

import contextlib
import os
import uuid

from sqlalchemy.engine import make_url


@contextlib.contextmanager
def fresh_database(tmp_path):
    """Yield the URL of a new empty database; drop it afterwards."""
    base = os.environ.get("ZAICUN_TEST_DATABASE_URL")
    if not base or base.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path / f"fresh-{uuid.uuid4().hex[:8]}.sqlite3")
        return
    import psycopg
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"zaicun_fresh_{uuid.uuid4().hex[:10]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
