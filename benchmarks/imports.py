"""Large CSV imports against a real server: how long they take, and what a cadre notices.

For SQLite and/or PostgreSQL (a fresh database each, made and dropped here) it starts
``zaicun serve --workers 2``, builds a county of 100 townships, and then, while a cadre checks
in and out without pause (POST /visits, then its check-out, one after the other):

    baseline     no import, ``--baseline-s`` seconds
    villages     POST /imports/villages with ``--villages`` rows (default 100,000: the maximum)
    users        POST /imports/users with ``--users`` rows (default 5,000; a third of them
                 cadres linked to two villages of their township)

Both imports are jobs (202): the wall time runs from the POST until a poll of the status URL
(every 0.25 s) finds the job done; the users' one-time passwords are then fetched once and one
of them logs in. Printed per phase: the wall time, the cadre's requests (how many, median,
worst, how many not 2xx), and the longest write transaction seen meanwhile, measured from the
outside:

- SQLite: a probe connection takes the write lock (``BEGIN IMMEDIATE``, then ``ROLLBACK``)
  every 10 ms; the longest it had to wait is how long some writer held the lock (less a few
  ms of the probe's own polling);
- PostgreSQL: ``pg_stat_activity`` every 20 ms; the oldest transaction that has written
  (``backend_xid`` set) gives the longest write transaction. PostgreSQL has no database-wide
  write lock: a check-in waits for no other writer, this is shown for comparison.

The baseline row is the comparison for the others: the same cadre loop, the same server, no
import. Targets (exit status 1 when one is missed): each import within 60 s, every cadre
request answered within 5 s and 2xx, no write transaction holding SQLite's lock 5 s or more.

    .venv/bin/python benchmarks/imports.py [--db sqlite|pg|both] [--villages N] [--users N]

PostgreSQL at ``ZAICUN_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432``).
The cadre's and the admin's passwords are hashed cheaply (set-up, not what is measured);
the one-time passwords of imported users are hashed as in production (imports.py).
"""
from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import requests  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tests.live import (  # noqa: E402
    ADMIN,
    ADMIN_PASSWORD,
    FAST_HASHES,
    FieldTeam,
    fresh_postgres_database,
    log_in,
    prepare_database,
)
from tests.server_process import zaicun_serve  # noqa: E402

PG_ADMIN = os.environ.get("ZAICUN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
TOWNSHIPS = 100
IMPORT_LIMIT_S = 60.0
REQUEST_LIMIT_S = 5.0
LOCK_LIMIT_S = 5.0


@dataclass
class Phase:
    name: str
    wall_s: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: list[int | str] = field(default_factory=list)
    longest_write_s: float = 0.0
    note: str = ""

    @property
    def bad(self) -> int:
        return sum(1 for s in self.statuses if not (isinstance(s, int) and 200 <= s < 300))


# --- what is measured meanwhile ----------------------------------------------------------------

class CadreLoop:
    """Check in and out without pause, recording each request's time and status."""

    def __init__(self, base_url: str, team: FieldTeam):
        self.base, self.team = base_url + "/api/v1", team
        self.auth = team.auth(base_url)
        self.phase: Phase | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _post(self, path: str, body: dict) -> None:
        sent = time.monotonic()
        try:
            outcome: int | str = requests.post(self.base + path, json=body, headers=self.auth,
                                               timeout=30).status_code
        except requests.RequestException as exc:
            outcome = type(exc).__name__
        phase = self.phase
        if phase is not None:
            phase.latencies.append(time.monotonic() - sent)
            phase.statuses.append(outcome)

    def _run(self) -> None:
        while not self.stop.is_set():
            visit = self.team.visit(hours_ago=0.01)
            self._post("/visits", visit)
            self._post(f"/visits/{visit['client_id']}/check-out", self.team.check_out(0))


class WriteProbe:
    """The longest write transaction seen while ``phase`` is set (see the module's doc)."""

    def __init__(self, url: str):
        self.url = url
        self.phase: Phase | None = None
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _note(self, seconds: float) -> None:
        phase = self.phase
        if phase is not None:
            phase.longest_write_s = max(phase.longest_write_s, seconds)

    def _run(self) -> None:
        if self.url.startswith("sqlite"):
            self._sqlite(make_url(self.url).database)
        else:
            self._postgres()

    def _sqlite(self, path: str) -> None:
        connection = sqlite3.connect(path, timeout=60, isolation_level=None)
        while not self.stop.is_set():
            started = time.monotonic()
            connection.execute("BEGIN IMMEDIATE")
            self._note(time.monotonic() - started)
            connection.execute("ROLLBACK")
            time.sleep(0.01)
        connection.close()

    def _postgres(self) -> None:
        import psycopg
        with psycopg.connect(self.url, autocommit=True) as connection:
            while not self.stop.is_set():
                age = connection.execute(
                    "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)"
                    " FROM pg_stat_activity WHERE datname = current_database()"
                    " AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()").fetchone()[0]
                self._note(float(age))
                time.sleep(0.02)


# --- the county and the files ------------------------------------------------------------------

def build_townships(base: str, admin: dict) -> list[str]:
    county = "66" + str(uuid.uuid4().int)[:4]

    def post(body: dict) -> None:
        response = requests.post(base + "/units", json=body, headers=admin, timeout=30)
        assert response.status_code == 201, response.text
    post({"code": county, "name": "基准县", "level": "county"})
    towns = [f"{county}{t:03d}" for t in range(TOWNSHIPS)]
    for n, town in enumerate(towns):
        post({"code": town, "name": f"基准镇{n}", "level": "township", "parent_code": county})
    return towns


def villages_csv(towns: list[str], count: int) -> str:
    lines = ["code,name,township_code,lat,lon,radius_m,crs"]
    for n in range(count):
        town, v = towns[n % len(towns)], n // len(towns)
        crs = "gcj02" if n % 4 == 0 else ""
        lines.append(f"{town}{v:03d},基准村{n},{town},{30 + v / 1000:.4f},"
                     f"{117 + (n % len(towns)) / 100:.4f},{500 + n % 700},{crs}")
    return "\n".join(lines) + "\n"


def users_csv(towns: list[str], count: int, villages: int) -> str:
    per_town = max(1, villages // len(towns))
    lines = ["username,name,role,unit_code,active_from,active_until,village_codes"]
    for n in range(count):
        town = towns[n % len(towns)]
        if n % 3 == 0 and per_town >= 2:
            v = (n // len(towns)) % (per_town - 1)
            links = f"{town}{v:03d};{town}{v + 1:03d}"
            lines.append(f"bench{n},基准{n},cadre,{town},2026-01-01,,{links}")
        else:
            lines.append(f"bench{n},基准{n},{'secretary' if n % 3 == 1 else 'cadre'},{town},,,")
    return "\n".join(lines) + "\n"


# --- one database -------------------------------------------------------------------------------

@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'imports.sqlite3'}"
        return
    with fresh_postgres_database(PG_ADMIN) as url:
        yield url


def run_import(server_url: str, admin: dict, kind: str, text: str, phase: Phase) -> dict:
    started = time.monotonic()
    response = requests.post(f"{server_url}/api/v1/imports/{kind}", data=text.encode(),
                             headers={**admin, "Content-Type": "text/csv"}, timeout=120)
    accepted = time.monotonic() - started
    if response.status_code not in (201, 202):
        raise SystemExit(f"{kind}: {response.status_code} {response.text[:2000]}")
    job = response.json()
    if response.status_code == 202:
        url = server_url + response.headers["Location"]
        while job["status"] in ("queued", "running"):
            time.sleep(0.25)
            job = requests.get(url, headers=admin, timeout=30).json()
    phase.wall_s = time.monotonic() - started
    phase.note = f"answered 202 in {accepted:.2f} s; {job['status']}"
    if job["status"] != "done":
        raise SystemExit(f"{kind} import failed: {str(job.get('error'))[:2000]}")
    return job


def run_database(kind: str, args, workdir: Path) -> list[Phase]:
    phases = [Phase("baseline, no import"), Phase(f"{args.villages:,} villages"),
              Phase(f"{args.users:,} users")]
    with fresh_database(kind, workdir) as url:
        prepare_database(url, workdir)
        with zaicun_serve(url, workers=2, **FAST_HASHES) as server:
            base = server.url + "/api/v1"
            admin = log_in(server.url, ADMIN, ADMIN_PASSWORD)
            team = FieldTeam.create(server.url)
            towns = build_townships(base, admin)
            village_text = villages_csv(towns, args.villages)
            user_text = users_csv(towns, args.users, args.villages)
            cadre, probe = CadreLoop(server.url, team), WriteProbe(url)
            cadre.thread.start()
            probe.thread.start()
            try:
                baseline = phases[0]
                cadre.phase = probe.phase = baseline
                time.sleep(args.baseline_s)
                baseline.wall_s = args.baseline_s
                for phase, what, text in ((phases[1], "villages", village_text),
                                          (phases[2], "users", user_text)):
                    cadre.phase = probe.phase = phase
                    job = run_import(server.url, admin, what, text, phase)
                    cadre.phase = probe.phase = None
                    if what == "users":
                        passwords = job["result"]["one_time_passwords"]
                        name, password = next(iter(passwords.items()))
                        login = requests.post(base + "/auth/login", timeout=30, json={
                            "username": name, "password": password})
                        phase.note += (f"; {len(passwords):,} one-time passwords, "
                                       f"login {login.status_code}")
                    time.sleep(1.0)  # the cadre's requests in flight end before the next phase
            finally:
                cadre.stop.set()
                probe.stop.set()
                cadre.thread.join(timeout=35)
                probe.thread.join(timeout=35)
    return phases


def report(kind: str, phases: list[Phase]) -> bool:
    ok = True
    print(f"\n== {kind}: zaicun serve --workers 2; a cadre checking in and out meanwhile")
    print(f"{'phase':<22}{'wall s':>8}{'requests':>10}{'median ms':>11}{'worst ms':>10}"
          f"{'not 2xx':>9}{'longest write s':>17}")
    for phase in phases:
        median = statistics.median(phase.latencies) * 1000 if phase.latencies else 0.0
        worst = max(phase.latencies, default=0.0)
        print(f"{phase.name:<22}{phase.wall_s:>8.1f}{len(phase.latencies):>10}{median:>11.0f}"
              f"{worst * 1000:>10.0f}{phase.bad:>9}{phase.longest_write_s:>17.2f}")
        if phase.note:
            print(f"{'':<22}  {phase.note}")
        if phase.name.startswith("baseline"):
            continue
        ok &= phase.wall_s < IMPORT_LIMIT_S and worst < REQUEST_LIMIT_S and phase.bad == 0
        if kind == "sqlite":
            ok &= phase.longest_write_s < LOCK_LIMIT_S
    base = phases[0]
    if base.latencies:
        worst_base = max(base.latencies)
        median_base = statistics.median(base.latencies)
        for phase in phases[1:]:
            if phase.latencies:
                print(f"worst request during {phase.name}: {max(phase.latencies) / worst_base:.1f}"
                      f" × the baseline's worst ({worst_base * 1000:.0f} ms); median "
                      f"{statistics.median(phase.latencies) / median_base:.1f} × the baseline's")
    print("targets met" if ok else "TARGET MISSED: import ≥ 60 s, a request ≥ 5 s or not 2xx, "
          "or SQLite's write lock held ≥ 5 s")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=["sqlite", "pg", "both"], default="both")
    parser.add_argument("--villages", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=5_000)
    parser.add_argument("--baseline-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else \
        ["postgresql" if args.db == "pg" else "sqlite"]
    ok = True
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="zaicun-imports-") as workdir:
            ok &= report(kind, run_database(kind, args, Path(workdir)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
