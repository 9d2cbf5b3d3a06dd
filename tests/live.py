"""Helpers for tests against live ``zaicun serve`` processes and their databases.

    with fresh_postgres_database() as url:        # PostgreSQL, even in the SQLite run
        prepare_database(url, home)                # migrations + an admin, by the CLI
        with zaicun_serve(url, **FAST_HASHES) as server:
            team = FieldTeam.create(server.url, cadres=3)
            retrying_post(server.url + "/api/v1/visits", body, team.auth(server.url))

    with PrivateCluster(free_port()) as cluster:  # a PostgreSQL server to stop and start
        url = cluster.create_database("drill")

Everything goes through the command line and the HTTP API, as a deployment would: the test
process never opens an app of its own against these databases.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import requests

from tests.server_process import serve_environment, zaicun_command

POSTGRES_BASE = os.environ.get("ZAICUN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("ZAICUN_TEST_REDIS", "redis://127.0.0.1:6379/0")
ADMIN, ADMIN_PASSWORD = "root-admin", "root-admin-password-1"
PASSWORD = "field-password-1"
FAST_HASHES = {"password_hash_method": "scrypt:1024:8:1"}  # like TestConfig: quick logins
CST = timezone(timedelta(hours=8))


# --- databases ------------------------------------------------------------------------------

def postgres_problem(base: str = POSTGRES_BASE) -> str | None:
    """Why PostgreSQL at ``base`` cannot be used, or None when it answers."""
    import psycopg
    try:
        psycopg.connect(f"{base}/postgres", connect_timeout=3).close()
    except Exception as exc:  # any failure to connect is "not there"
        return f"PostgreSQL does not answer at {base} ({exc}); set ZAICUN_TEST_POSTGRES"
    return None


@contextlib.contextmanager
def fresh_postgres_database(base: str = POSTGRES_BASE) -> Iterator[str]:
    """A new empty PostgreSQL database on ``base`` (dropped afterwards), whatever database
    the rest of the suite runs on. Fails, never skips, when PostgreSQL does not answer."""
    import psycopg
    problem = postgres_problem(base)
    if problem:
        raise AssertionError(problem)
    name = f"zaicun_live_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def zaicun_cli(database_url: str, *args: str, home: str | os.PathLike,
               **settings: str) -> str:
    """Run ``zaicun ARGS`` against the database; return its output (AssertionError if it fails)."""
    env = serve_environment(database_url, Path(home) / "instance", **settings)
    done = subprocess.run(zaicun_command() + list(args), cwd=home, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"zaicun {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def prepare_database(database_url: str, home: str | os.PathLike) -> None:
    """The schema by the migrations and an administrator with no unit (sees everything)."""
    zaicun_cli(database_url, "init-db", home=home)
    zaicun_cli(database_url, "create-user", "--username", ADMIN, "--password", ADMIN_PASSWORD,
               "--name", "管理员", "--role", "admin", home=home, **FAST_HASHES)


# --- people and requests ----------------------------------------------------------------------

def log_in(base_url: str, username: str, password: str = PASSWORD) -> dict:
    """Log in and return the Authorization header."""
    response = requests.post(f"{base_url}/api/v1/auth/login", timeout=30,
                             json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@dataclass
class FieldTeam:
    """A county, a township with one village and ``cadres`` cadres, made through the API."""

    village_code: str
    usernames: list[str]
    tokens: dict[str, dict] = field(default_factory=dict)
    lat: float = 32.30
    lon: float = 118.30

    @classmethod
    def create(cls, base_url: str, cadres: int = 1) -> FieldTeam:
        tag = uuid.uuid4().hex[:6]
        county = "99" + str(uuid.uuid4().int)[:4]
        town = county + "100"
        admin = log_in(base_url, ADMIN, ADMIN_PASSWORD)

        def post(path: str, body: dict) -> None:
            response = requests.post(base_url + path, json=body, headers=admin, timeout=30)
            assert response.status_code == 201, (path, response.text)
        post("/api/v1/units", {"code": county, "name": f"演练县{tag}", "level": "county"})
        post("/api/v1/units", {"code": town, "name": f"演练镇{tag}", "level": "township",
                               "parent_code": county})
        village = town + "201"
        post("/api/v1/villages", {"code": village, "name": f"演练村{tag}", "township_code": town,
                                  "lat": cls.lat, "lon": cls.lon})
        names = [f"drill{tag}{n}" for n in range(cadres)]
        for name in names:
            post("/api/v1/users", {"username": name, "password": PASSWORD, "name": name,
                                   "role": "cadre", "unit_code": town})
        return cls(village, names)

    def auth(self, base_url: str, n: int = 0) -> dict:
        """The Authorization header of cadre ``n`` (logged in once, on ``base_url``)."""
        name = self.usernames[n]
        if name not in self.tokens:
            self.tokens[name] = log_in(base_url, name)
        return self.tokens[name]

    def visit(self, hours_ago: float, hours: float | None = None) -> dict:
        """A check-in ``hours_ago`` hours ago at the village (a whole visit when ``hours``)."""
        start = datetime.now(UTC) - timedelta(hours=hours_ago)
        where = {"lat": self.lat, "lon": self.lon, "accuracy_m": 15}
        body = {"client_id": str(uuid.uuid4()), "village_code": self.village_code,
                "check_in": {"at": iso(start), "location": where}}
        if hours is not None:
            body["check_out"] = {"at": iso(start + timedelta(hours=hours)), "location": where}
        return body


    def check_out(self, hours_ago: float) -> dict:
        """A check-out at the village ``hours_ago`` hours ago."""
        return {"at": iso(datetime.now(UTC) - timedelta(hours=hours_ago)),
                "location": {"lat": self.lat, "lon": self.lon, "accuracy_m": 15}}


def iso(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


RETRYABLE = {408, 429, 500, 502, 503, 504}


def retrying_post(url: str, body: dict, headers: dict, deadline_s: float = 90.0,
                  seen: Callable[[int | str], None] | None = None) -> requests.Response:
    """POST like the phone's outbox: the same body again after a connection error or a
    retryable status, until the server gives a final answer or the deadline passes."""
    give_up = time.monotonic() + deadline_s
    while True:
        try:
            response = requests.post(url, json=body, headers=headers, timeout=30)
            outcome: int | str = response.status_code
        except requests.RequestException as exc:
            response, outcome = None, type(exc).__name__
        if seen is not None:
            seen(outcome)
        if response is not None and response.status_code not in RETRYABLE:
            return response
        assert time.monotonic() < give_up, f"no final answer for {body['client_id']}: {outcome}"
        time.sleep(0.2)


# --- a PostgreSQL server of the test's own ----------------------------------------------------

class PrivateCluster:
    """A PostgreSQL server this test starts and stops at will (``initdb`` in a temporary
    folder, its own port and socket folder), never the shared one other tests use.

    Run as the ``postgres`` user when the tests run as root, as CI does.
    """

    def __init__(self, port: int):
        self.port = port
        self.home = Path(tempfile.mkdtemp(prefix="zaicun-pg-"))
        self.data = self.home / "data"
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.home, owner.pw_uid, owner.pw_gid)
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        else:
            self.as_owner = []

    @staticmethod
    def bin_dir() -> Path:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                       key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                       else 0)
        assert found, "PostgreSQL's initdb is missing (apt-get install postgresql)"
        return found[-1].parent

    def _run(self, tool: str, *args: str) -> None:
        done = subprocess.run(self.as_owner + [str(self.bin_dir() / tool), *args],
                              cwd=self.home, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{tool} failed:\n{done.stdout}\n{done.stderr}"

    def init(self) -> PrivateCluster:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        return self

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c full_page_writes=off")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.home / "server.log"),
                  "-o", options, "-w", "-t", "60", "start")

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server; ``immediate`` drops every connection at once, like a crash."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def log(self) -> str:
        path = self.home / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def create_database(self, name: str) -> str:
        import psycopg
        base = f"postgresql://postgres@127.0.0.1:{self.port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"{base}/{name}"

    def remove(self) -> None:
        with contextlib.suppress(AssertionError):
            self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            self.init().start()
        except BaseException:
            self.remove()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()
