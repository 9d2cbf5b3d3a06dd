"""Load test of the write path: ``zaicun serve --workers 2`` on loopback, driven by wrk.

For SQLite and for PostgreSQL (a fresh database each, created and dropped here) it builds a
county of townships, villages and cadres, starts the real server, logs every cadre in, then
drives one phase per endpoint for ``--seconds`` at ``--connections`` concurrent connections,
with /healthz on the same server as the baseline of each:

    check-in     POST /api/v1/visits                   a new client_id per request, one per cadre
    replay       the stored check-ins' bodies again    → 200, and nothing stored twice
    check-out    POST /api/v1/visits/<client_id>/check-out   the visits the check-ins opened,
                 and as many again opened before the phase (set-up, not measured)
    visit        POST /api/v1/visits with check_in and check_out: a complete visit (a phone's
                 sync of an offline visit, a late entry), one per person-day — yesterday's
                 for every cadre, then the day before's — crediting a day each
    compliance   GET /api/v1/compliance/me

and prints req/s, p50, p99 and errors per phase, the ratios to /healthz and the targets
(check-in ≥ 0.30 × /healthz req/s on SQLite, ≥ 0.20 × on PostgreSQL; check-out and complete
visit ≥ 0.20 × on SQLite, ≥ 0.15 × on PostgreSQL; p99 ≤ 5 × the /healthz p99 for all three;
no errors). Every response but the phase's one expected status is an error, as is a socket
error, a timeout or a phase that ran out of requests.

On a shared machine the speed of the cores drifts from one minute to the next (the same
Python loop was seen to take 0.34 s and 0.58 s a minute apart), so a baseline measured
minutes before a phase says little about it. Each phase therefore runs in ``--rounds``
slots, with a /healthz slot of the same length before the first and after each: a round's
baseline is the better of the /healthz slots on either side of it (the faster rate, the lower
p99, so that it can flatter no ratio), and a phase's ratios are the median over its rounds of
(phase ÷ that baseline). A "once" phase sends each round a disjoint share of its requests.
A slot lasts a whole number of seconds (wrk's unit): ``--seconds`` ÷ ``--rounds``, at least 1.
The "server CPU ms/req" column (CPU of gunicorn and its workers over requests served) is
printed too; it moves with the cores' speed, the ORM-heavy writes more than /healthz.

wrk is a C client that spends little CPU, so on a 2-core machine the server keeps the cores;
a Python client would take one of them. Passwords are hashed cheaply here: logging thousands
of cadres in is set-up, not what is measured.

    .venv/bin/python benchmarks/load.py [--db sqlite|postgresql|both] [--seconds 10]

Needs wrk (``apt-get install -y wrk``) and, for PostgreSQL, a server at
``ZAICUN_BENCH_POSTGRES`` (default ``postgresql://postgres@127.0.0.1:5432``). The exit status
is 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from statistics import median

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import requests  # noqa: E402

from tests.live import fresh_postgres_database  # noqa: E402
from tests.server_process import zaicun_serve  # noqa: E402

PG_ADMIN = os.environ.get("ZAICUN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
PASSWORD = "bench-password-1"
CHEAP_HASH = "scrypt:1024:8:1"  # logins are set-up here, not what is measured
CST = timezone(timedelta(hours=8))
TARGET_RATIO = {  # phase → database → least × /healthz req/s
    "check-in": {"sqlite": 0.30, "postgresql": 0.20},
    "check-out": {"sqlite": 0.20, "postgresql": 0.15},
    "visit": {"sqlite": 0.20, "postgresql": 0.15},
}
VISIT_DAYS = 2  # complete visits on each of the last days for every cadre: more than needed
P99_LIMIT = 5.0
# Between slots: wrk stops with up to --connections requests in flight, which the server still
# finishes; a slot that began at once would time its first requests behind them.
SETTLE_S = 0.5
SERVER_SETTINGS = {
    # Every cadre logs in from 127.0.0.1 before the phases; the per-address login limit
    # (a township office) would otherwise turn the set-up into a throttling test.
    "login_address_limit_per_minute": "1000000",
}


@dataclass
class Cadre:
    username: str
    village_code: str
    lat: float
    lon: float
    token: str = ""
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class PhaseResult:
    name: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict[str, int]
    notes: list[str] = field(default_factory=list)  # socket errors, running out of requests
    cpu_ms: float = 0.0  # server CPU per request
    rate_ratio: float = 1.0  # × /healthz req/s: the median over the rounds
    p99_ratio: float = 1.0   # × /healthz p99: the median over the rounds
    rounds: list[tuple[PhaseResult, PhaseResult]] = field(default_factory=list)  # (phase, healthz)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def detail(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return "; ".join([counts, *self.notes])


# --- databases ------------------------------------------------------------------------------

@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[str]:
    """A new empty database of the kind; a PostgreSQL one is dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'load.sqlite3'}"
        return
    with fresh_postgres_database(PG_ADMIN) as url:
        yield url


def build_county(url: str, cadres: int, townships: int) -> list[Cadre]:
    """Schema by the migrations, then a county, its townships, villages and cadres."""
    from flask_migrate import upgrade

    from server import create_app
    from server.extensions import db
    from server.org.services import create_unit, create_user, create_village

    app = create_app({"DATABASE_URL": url, "PASSWORD_HASH_METHOD": CHEAP_HASH})
    people = []
    with app.app_context():
        upgrade()
        create_unit(None, {"code": "99", "name": "压测省", "level": "province"})
        create_unit(None, {"code": "9901", "name": "压测县", "level": "county",
                           "parent_code": "99"})
        villages = []
        for t in range(townships):
            town = f"9901{t:03d}"
            create_unit(None, {"code": town, "name": f"压测镇{t}", "level": "township",
                               "parent_code": "9901"})
            for v in range(5):
                lat, lon = 31.0 + t * 0.05 + v * 0.01, 117.0 + v * 0.01
                villages.append(create_village(None, {
                    "code": f"{town}{v:05d}", "name": f"压测村{t}-{v}",
                    "township_code": town, "lat": lat, "lon": lon}))
        for i in range(cadres):
            village = villages[(i * 7) % len(villages)]
            username = f"cadre{i:05d}"
            create_user(None, {"username": username, "password": PASSWORD, "name": f"干部{i}",
                               "role": "cadre", "unit_code": village.township.code})
            people.append(Cadre(username, village.code, village.lat, village.lon))
        db.session.commit()
        db.engine.dispose()
    return people


def settle(url: str) -> None:
    """After set-up, before measuring: on PostgreSQL, gather the statistics autovacuum would
    and write the set-up's dirty pages out, so that neither runs in the middle of a phase (the
    thousands of new users and tokens are set-up, not what is measured). SQLite has no such
    background work, and its statistics are left as a deployment would have them (none)."""
    if not url.startswith("postgresql"):
        return
    import psycopg
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def stored_visits(url: str) -> dict[str, str]:
    """username → client_id of every visit the database holds, once requests wrk left in
    flight at the end of a phase have landed (two readings half a second apart agree)."""
    before = _stored_now(url)
    while True:
        time.sleep(0.5)
        now = _stored_now(url)
        if now == before:
            return now
        before = now


def _stored_now(url: str) -> dict[str, str]:
    from sqlalchemy import create_engine, text
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT u.username, v.client_id FROM visits v JOIN users u ON u.id = v.user_id"))
        found = {username: client_id for username, client_id in rows}
    engine.dispose()
    return found


def uncredited_visits(url: str, now: datetime) -> tuple[int, int]:
    """Of the visit phase's complete visits the database holds, how many there are and how
    many lack their verified status or their day's whole credit."""
    from sqlalchemy import and_, create_engine, func, or_, select

    from server.progress.models import DayCredit
    from server.visits.models import Visit
    stored = missing = 0
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn:
        for days_back in range(1, VISIT_DAYS + 1):
            start = datetime.fromisoformat(visit_body(Cadre("", "", 0, 0), now, days_back)
                                           ["check_in"]["at"])
            ours = and_(Visit.check_in_at == start,
                        Visit.check_out_at == start + timedelta(hours=7))
            stored += conn.scalar(select(func.count()).select_from(Visit).where(ours))
            missing += conn.scalar(select(func.count()).select_from(Visit).outerjoin(
                DayCredit, and_(DayCredit.user_id == Visit.user_id,
                                DayCredit.day == start.date())).where(
                ours, or_(Visit.status != "verified", DayCredit.halves.is_(None),
                          DayCredit.halves != 2)))
    engine.dispose()
    return stored, missing


# --- requests -------------------------------------------------------------------------------

def log_in_everyone(base_url: str, people: list[Cadre]) -> None:
    def log_in(person: Cadre) -> None:
        response = requests.post(f"{base_url}/api/v1/auth/login", timeout=60,
                                 json={"username": person.username, "password": PASSWORD})
        response.raise_for_status()
        person.token = response.json()["token"]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(log_in, people))


def open_visits(base_url: str, people: list[Cadre], now: datetime) -> None:
    """Check these people in, as set-up (not measured): visits for the check-out phase."""
    def check_in(person: Cadre) -> None:
        response = requests.post(f"{base_url}/api/v1/visits", timeout=60,
                                 json=check_in_body(person, now),
                                 headers={"Authorization": f"Bearer {person.token}"})
        response.raise_for_status()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(check_in, people))


def iso(moment: datetime) -> str:
    return moment.astimezone(CST).isoformat(timespec="seconds")


def check_in_body(person: Cadre, now: datetime) -> dict:
    return {"client_id": person.client_id, "village_code": person.village_code,
            "check_in": {"at": iso(now - timedelta(hours=7)),
                         "location": {"lat": person.lat, "lon": person.lon, "accuracy_m": 20}}}


def check_out_body(person: Cadre, now: datetime) -> dict:
    return {"at": iso(now - timedelta(minutes=5)),
            "location": {"lat": person.lat, "lon": person.lon, "accuracy_m": 25}}


def visit_body(person: Cadre, now: datetime, days_back: int) -> dict:
    """A complete visit, 08:00–15:00 local time ``days_back`` days ago: a whole village day,
    sent well within the late-sync threshold, so it counts and its day is credited."""
    day = now.astimezone(CST).date() - timedelta(days=days_back)
    start = datetime(day.year, day.month, day.day, 8, tzinfo=CST)
    point = {"lat": person.lat, "lon": person.lon, "accuracy_m": 20}
    return {"client_id": str(uuid.uuid4()), "village_code": person.village_code,
            "check_in": {"at": iso(start), "location": point},
            "check_out": {"at": iso(start + timedelta(hours=7)), "location": point}}


def request_line(method: str, path: str, token: str = "", body: dict | None = None) -> str:
    return "\t".join((method, path, token, json.dumps(body, ensure_ascii=False) if body else ""))


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- wrk ------------------------------------------------------------------------------------

def run_wrk(base_url: str, name: str, lines_file: Path, expected: int, mode: str,
            seconds: int, connections: int, threads: int) -> PhaseResult:
    """Drive one phase through wrk and read back the RESULT line its script prints."""
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
               "--timeout", "10s", "-s", str(HERE / "wrk_phase.lua"), base_url,
               "--", str(lines_file), str(expected), mode, str(threads)]
    done = subprocess.run(command, capture_output=True, text=True)
    line = next((out for out in done.stdout.splitlines() if out.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed in phase {name}:\n{done.stdout}\n{done.stderr}")
    r = json.loads(line[len("RESULT "):])
    socket_errors = r["connect"] + r["read"] + r["write"] + r["timeout"]
    errors = socket_errors + r["unexpected"] + r["exhausted_threads"]
    notes = []
    if socket_errors:
        notes.append(f"socket errors connect {r['connect']} read {r['read']} "
                     f"write {r['write']} timeout {r['timeout']}")
    if r["exhausted_threads"]:
        notes.append(f"{r['exhausted_threads']} threads ran out of requests (raise --cadres)")
    return PhaseResult(name, r["requests"], r["duration_us"] / 1e6, r["p50_us"] / 1000,
                       r["p99_us"] / 1000, errors, r["statuses"], notes)


# --- the run --------------------------------------------------------------------------------

def server_cpu_s(leader_pid: int) -> float:
    """CPU seconds used so far by the server's process group (gunicorn and its workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[2]) == leader_pid:  # the process group
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return total / ticks


def slot_seconds(args) -> int:
    return max(1, round(args.seconds / args.rounds))


class Phases:
    """The phases against one running server, each a file of requests replayed by wrk in
    rounds, with a /healthz round of the same length on either side of every round."""

    def __init__(self, server, workdir: Path, args):
        self.server, self.workdir, self.args = server, workdir, args
        self.results: list[PhaseResult] = []

    def _slot(self, name: str, lines: list[str], expected: int, mode: str) -> PhaseResult:
        path = write_lines(self.workdir / f"{name}.txt", lines)
        time.sleep(SETTLE_S)  # the requests wrk left in flight at the last slot's end finish
        cpu_before = server_cpu_s(self.server.process.pid)
        result = run_wrk(self.server.url, name, path, expected, mode,
                         slot_seconds(self.args), self.args.connections,
                         self.args.threads)
        result.cpu_ms = (server_cpu_s(self.server.process.pid) - cpu_before) * 1000 / max(
            result.requests, 1)
        return result

    def run(self, name: str, lines: list[str], expected: int, mode: str) -> PhaseResult:
        if not lines:
            raise RuntimeError(f"phase {name} has nothing to send")
        rounds = self.args.rounds
        shares = [lines[k::rounds] for k in range(rounds)] if mode == "once" else [lines] * rounds
        healthz = [request_line("GET", "/healthz")]
        before = self._slot("healthz", healthz, 200, "cycle")
        pairs = []
        for share in shares:
            phase = self._slot(name, share, expected, mode)
            after = self._slot("healthz", healthz, 200, "cycle")
            pairs.append((phase, better(before, after)))
            before = after
        result = combined(name, pairs)
        print(f"  {name}: {result.detail}; by round, req/s and p99 ms against /healthz's:",
              flush=True)
        for k, (phase, base) in enumerate(pairs, 1):
            print(f"    {k}: {phase.rate:7.1f} / {base.rate:7.1f} = {phase.rate / base.rate:.2f}"
                  f"   {phase.p99_ms:6.1f} / {base.p99_ms:5.1f} = "
                  f"{phase.p99_ms / base.p99_ms:.2f}", flush=True)
        self.results.append(result)
        return result


def better(one: PhaseResult, other: PhaseResult) -> PhaseResult:
    """Of the /healthz rounds on either side of a phase's round, the faster rate and the lower
    p50 and p99: a baseline that only a quiet moment sets, so it can flatter no ratio."""
    best = max(one, other, key=lambda r: r.rate)
    return dataclasses.replace(best, p50_ms=min(one.p50_ms, other.p50_ms),
                               p99_ms=min(one.p99_ms, other.p99_ms))


def combined(name: str, pairs: list[tuple[PhaseResult, PhaseResult]]) -> PhaseResult:
    """One phase's rounds as one result: its totals, the median of its rounds' p50 and p99,
    and the median of its ratios to the /healthz round beside each."""
    runs = [p for p, _ in pairs]
    statuses = sum((Counter(run.statuses) for run in runs), Counter())
    requests_ = sum(r.requests for r in runs)
    return PhaseResult(
        name, requests_, sum(r.seconds for r in runs), median(r.p50_ms for r in runs),
        median(r.p99_ms for r in runs), sum(r.errors for r in runs), statuses,
        sorted({note for run in runs for note in run.notes}),
        cpu_ms=sum(r.cpu_ms * r.requests for r in runs) / max(requests_, 1),
        rate_ratio=median(p.rate / h.rate for p, h in pairs),
        p99_ratio=median(p.p99_ms / h.p99_ms for p, h in pairs), rounds=pairs)


def run_database(kind: str, args, workdir: Path) -> list[PhaseResult]:
    """Every phase against one fresh database of ``kind``, each paired with /healthz."""
    with fresh_database(kind, workdir) as url:
        print(f"[{kind}] building {args.cadres} cadres in {args.townships} townships …",
              flush=True)
        people = build_county(url, args.cadres, args.townships)
        with zaicun_serve(url, workers=args.workers, **SERVER_SETTINGS) as server:
            print(f"[{kind}] logging everyone in on {server.url} …", flush=True)
            log_in_everyone(server.url, people)
            settle(url)
            by_name = {p.username: p for p in people}
            now = datetime.now(UTC)
            phases = Phases(server, workdir, args)
            phases.run("check-in", [request_line("POST", "/api/v1/visits", p.token,
                                                 check_in_body(p, now)) for p in people],
                       201, "once")
            stored = [by_name[u] for u in stored_visits(url)]
            replay = phases.run("replay", [request_line("POST", "/api/v1/visits", p.token,
                                                        check_in_body(p, now)) for p in stored],
                                200, "cycle")
            if len(stored_visits(url)) != len(stored):
                replay.errors += 1
                replay.notes.append("a replay stored a second visit")
            # A check-out can only close what the check-in phase opened; when check-outs are
            # about as fast as check-ins, that ran out. Open as many again first (set-up).
            wanted = min(len(people), 2 * len(stored))
            if len(stored) < wanted:
                have = {p.username for p in stored}
                extra = [p for p in people if p.username not in have][:wanted - len(stored)]
                print(f"[{kind}] opening {len(extra)} more visits for the check-out phase …",
                      flush=True)
                open_visits(server.url, extra, now)
                stored += extra
                settle(url)
            phases.run("check-out", [request_line(
                "POST", f"/api/v1/visits/{p.client_id}/check-out", p.token,
                check_out_body(p, now)) for p in stored], 200, "once")
            visit = phases.run("visit", [request_line("POST", "/api/v1/visits", p.token,
                                                      visit_body(p, now, days_back))
                                         for days_back in range(1, VISIT_DAYS + 1)
                                         for p in people], 201, "once")
            stored_visits(url)  # the requests wrk left in flight have landed
            stored, missing = uncredited_visits(url, now)
            print(f"  visit: {stored} complete visits stored, {stored - missing} of them "
                  f"verified and credited a whole day", flush=True)
            if missing or not stored:
                visit.errors += 1
                visit.notes.append(f"{missing} of {stored} complete visits not credited")
            phases.run("compliance", [request_line("GET", "/api/v1/compliance/me", p.token)
                                      for p in people], 200, "cycle")
    return [healthz_rounds(phases.results), *phases.results]


def healthz_rounds(results: list[PhaseResult]) -> PhaseResult:
    """The /healthz baselines of every round of the run as one row, for the table."""
    return combined("healthz", [(h, h) for r in results for _, h in r.rounds])


def report(kind: str, results: list[PhaseResult], args) -> bool:
    """Print the table and the targets; return whether every target was met."""
    print(f"\n{kind}: zaicun serve --workers {args.workers}, {args.connections} connections, "
          f"{args.rounds} rounds of {slot_seconds(args)} s per phase, a /healthz round as long on "
          f"either side of each (wrk -t{args.threads}); load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'phase':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"
          f"{'× healthz req/s':>17}{'× healthz p99':>15}{'server CPU ms/req':>19}  statuses")
    for r in results:
        print(f"{r.name:<12}{r.rate:>9.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.errors:>8}"
              f"{r.rate_ratio:>17.2f}{r.p99_ratio:>15.2f}{r.cpu_ms:>19.2f}  {r.detail}")
    print("× healthz: the median over the rounds of the phase against the better /healthz "
          "round beside it; p50 and p99: the median over the rounds")
    by_name = {r.name: r for r in results}
    verdicts = []
    for name, targets in TARGET_RATIO.items():
        phase = by_name[name]
        verdicts += [
            (f"{name} req/s ≥ {targets[kind]:.2f} × healthz", phase.rate_ratio >= targets[kind],
             f"{phase.rate_ratio:.2f}"),
            (f"{name} p99 ≤ {P99_LIMIT:.0f} × healthz p99", phase.p99_ratio <= P99_LIMIT,
             f"{phase.p99_ratio:.2f}")]
    errors = sum(r.errors for r in results)
    verdicts.append(("no errors in any phase", errors == 0, str(errors)))
    for text, ok, value in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}: {value}")
    return all(ok for _, ok, _ in verdicts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--seconds", type=int, default=10, help="per phase, all rounds")
    parser.add_argument("--rounds", type=int, default=5,
                        help="slots per phase, with a /healthz slot as long on either side")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--cadres", type=int, default=12000,
                        help="people (one check-in each: more than the check-in phase needs)")
    parser.add_argument("--townships", type=int, default=15)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is missing: apt-get install -y wrk", file=sys.stderr)
        return 2
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    met = True
    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix=f"zaicun-load-{kind}-") as tmp:
            results = run_database(kind, args, Path(tmp))
        met = report(kind, results, args) and met
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
