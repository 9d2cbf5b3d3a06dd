"""How fast is a compliance roll-up, compared with a plain GROUP BY over the same visits?

Builds a synthetic county (300 people, a year of visits) on SQLite and on PostgreSQL, and a
synthetic province (100,000 people, 20 million visits, loaded with COPY) on PostgreSQL; then
times the roll-up service call (SQL and arithmetic, no serialisation), warm, median of several
runs, as of 30 June, and prints it as a ratio to

    SELECT user_id, count(*) FROM visits GROUP BY user_id

over the same people in the same run. ``--scale 0.01`` builds a province of 1,000 people.

    python benchmarks/compliance_bench.py [--scale S] [--runs N] [--skip-province] [--reuse]
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, text

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from server import TestConfig, create_app  # noqa: E402
from server.auth.models import User  # noqa: E402
from server.extensions import db  # noqa: E402

PG_ADMIN = os.environ.get("ZAICUN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
AS_OF = date(2026, 6, 30)
CST = timezone(timedelta(hours=8))
YEAR_START = datetime(2026, 1, 1, tzinfo=CST)
PEOPLE_PER_TOWNSHIP = 15
VILLAGES_PER_TOWNSHIP = 12


class Synthetic:
    """Deterministic people and visits: weekday-heavy, one visit a day at most per person."""

    def __init__(self, people: int, visits_per_person: int, seed: int = 7):
        self.people = people
        self.visits_per_person = visits_per_person
        self.rnd = random.Random(seed)
        self.townships = max(1, people // PEOPLE_PER_TOWNSHIP)

    def days_for_person(self) -> list[int]:
        """Day offsets in 2026 (weekdays preferred), distinct."""
        weekdays = [d for d in range(365) if (YEAR_START + timedelta(days=d)).weekday() < 5]
        weekend = [d for d in range(365) if d not in set(weekdays)]
        count = min(self.visits_per_person, 365)
        from_weekend = min(len(weekend), count // 20)
        chosen = self.rnd.sample(weekdays, min(len(weekdays), count - from_weekend))
        return chosen + self.rnd.sample(weekend, count - len(chosen))

    def visits(self, user_id: int, village_ids: list[int]):
        """(check_in, check_out, village_id) per visit, and the day credits they make."""
        rows, credits = [], []
        for offset in self.days_for_person():
            start = YEAR_START + timedelta(days=offset, hours=8, minutes=self.rnd.randint(0, 90))
            seconds = self.rnd.choice((2, 3, 4, 5, 6, 7, 8)) * 3600 + self.rnd.randint(0, 1800)
            rows.append((start, start + timedelta(seconds=seconds), self.rnd.choice(village_ids)))
            halves = 2 if seconds >= 21600 else 1 if seconds >= 10800 else 0
            credits.append((start.date(), seconds, halves))
        return rows, credits


def build_schema(url: str) -> None:
    from flask_migrate import upgrade
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def build_org(townships: int) -> tuple[list[int], dict[int, list[int]]]:
    """A province › city › county › townships, villages; returns township and village ids."""
    db.session.execute(insert(db.metadata.tables["units"]), [
        {"id": 1, "code": "34", "name": "省", "level": "province", "parent_id": None,
         "path": "/34/", "created_at": YEAR_START},
        {"id": 2, "code": "3411", "name": "市", "level": "city", "parent_id": 1,
         "path": "/34/3411/", "created_at": YEAR_START}])
    counties = max(1, townships // 15)
    rows, town_ids, villages = [], [], {}
    for c in range(counties):
        cid = 3 + c
        code = f"34{c:04d}"
        rows.append({"id": cid, "code": code, "name": f"县{c}", "level": "county",
                     "parent_id": 2, "path": f"/34/3411/{code}/", "created_at": YEAR_START})
    next_id = 3 + counties
    for t in range(townships):
        county = rows[t % counties]
        code = f"{county['code']}{t:05d}"
        rows.append({"id": next_id, "code": code, "name": f"镇{t}", "level": "township",
                     "parent_id": county["id"], "path": f"{county['path']}{code}/",
                     "created_at": YEAR_START})
        town_ids.append(next_id)
        next_id += 1
    db.session.execute(insert(db.metadata.tables["units"]), rows)
    vrows, vid = [], 1
    for t, town in enumerate(town_ids):
        villages[town] = []
        for v in range(VILLAGES_PER_TOWNSHIP):
            vrows.append({"id": vid, "code": f"{t:09d}{v:03d}", "name": f"村{vid}",
                          "township_id": town, "lat": 31 + t * 0.001, "lon": 117 + v * 0.01,
                          "radius_m": 1000, "created_at": YEAR_START})
            villages[town].append(vid)
            vid += 1
    db.session.execute(insert(db.metadata.tables["villages"]), vrows)
    db.session.commit()
    return town_ids, villages


def build_people(synthetic: Synthetic, towns: list[int], hashed: str) -> list[tuple[int, int]]:
    """Cadres and one secretary per township; returns (user_id, township_id)."""
    rows, people = [], []
    for i in range(synthetic.people):
        town = towns[i % len(towns)]
        uid = i + 1
        rows.append({"id": uid, "username": f"u{uid}", "username_key": f"u{uid}",
                     "name": _name(i), "role":
                     "secretary" if i < len(towns) else "cadre", "unit_id": town,
                     "active": True, "password_hash": hashed, "must_change_password": False,
                     "created_at": YEAR_START})
        people.append((uid, town))
    rows.append({"id": synthetic.people + 1, "username": "boss", "username_key": "boss",
                 "name": "部长",
                 "role": "admin", "unit_id": None, "active": True, "password_hash": hashed,
                 "must_change_password": False, "created_at": YEAR_START})
    for start in range(0, len(rows), 5000):
        db.session.execute(insert(db.metadata.tables["users"]), rows[start:start + 5000])
    db.session.commit()
    return people


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // 20) % len(GIVEN)] + GIVEN[(i // 400) % 20]


VISIT_COLUMNS = ("client_id", "user_id", "village_id", "check_in_at", "check_in_at_original",
                 "check_out_at", "check_out_at_original", "check_out_manual", "status",
                 "flags", "request_digest", "received_at", "version", "updated_at")


DAY_COLUMNS = ("user_id", "day", "seconds", "halves", "month_seconds_to_date",
               "month_halves_to_date")
MONTH_COLUMNS = ("user_id", "month", "seconds", "halves", "year_seconds_to_date",
                 "year_halves_to_date")


def visit_rows(synthetic: Synthetic, people, villages):
    """Yield visit tuples and collect day credits and month sums per person."""
    for uid, town in people:
        visits, credits = synthetic.visits(uid, villages[town])
        for cin, cout, vid in visits:
            yield ("visit", (str(uuid.UUID(int=synthetic.rnd.getrandbits(128))), uid, vid, cin,
                             cin, cout, cout, False, "verified", "[]", "0" * 64, cout, 1, cout))
        months: dict[date, list[int]] = {}
        for day, seconds, halves in sorted(credits):
            m = months.setdefault(day.replace(day=1), [0, 0])
            m[0] += seconds
            m[1] += halves
            yield ("day", (uid, day, seconds, halves, m[0], m[1]))
        running = [0, 0]
        for number in range(1, 13):  # every month of a credited year has a row
            seconds, halves = months.get(date(2026, number, 1), (0, 0))
            running = [running[0] + seconds, running[1] + halves]
            yield ("month", (uid, date(2026, number, 1), seconds, halves, *running))


def load_postgres(url: str, synthetic: Synthetic, people, villages) -> None:
    """COPY the visits and their credits in one pass over the generator."""
    import psycopg
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY visits ({', '.join(VISIT_COLUMNS)}) FROM STDIN") as cv, \
                _Buffered(cur, f"day_credits ({', '.join(DAY_COLUMNS)})") as days, \
                _Buffered(cur, f"month_credits ({', '.join(MONTH_COLUMNS)})") as months:
            for kind, row in visit_rows(synthetic, people, villages):
                if kind == "visit":
                    cv.write_row(row)
                elif kind == "day":
                    days.add(row)
                else:
                    months.add(row)
        conn.commit()
        cur.execute("ANALYZE")


class _Buffered:
    """Rows for a second table, COPYed in chunks after the visits' COPY (one COPY at a time)."""

    def __init__(self, cur, target: str):
        self.cur, self.target = cur, target
        fd, self.path = tempfile.mkstemp(suffix=".tsv")
        self.file = os.fdopen(fd, "w")

    def add(self, row) -> None:
        self.file.write("\t".join(str(v) for v in row) + "\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()
        self.pending = True
        _after_visits.append(self)


_after_visits: list[_Buffered] = []


def flush_buffered(url: str) -> None:
    import psycopg
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn, conn.cursor() as cur:
        for buffered in _after_visits:
            with open(buffered.path) as source, cur.copy(
                    f"COPY {buffered.target} FROM STDIN") as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            os.unlink(buffered.path)
        conn.commit()
        cur.execute("ANALYZE")
    _after_visits.clear()


def load_sqlite(synthetic: Synthetic, people, villages) -> None:
    batches = {"visit": [], "day": [], "month": []}
    tables = {"visit": ("visits", VISIT_COLUMNS),
              "day": ("day_credits", DAY_COLUMNS), "month": ("month_credits", MONTH_COLUMNS)}
    for kind, row in visit_rows(synthetic, people, villages):
        batches[kind].append(dict(zip(tables[kind][1], row)))
        if len(batches[kind]) >= 5000:
            db.session.execute(insert(db.metadata.tables[tables[kind][0]]), batches[kind])
            batches[kind] = []
    for kind, rows in batches.items():
        if rows:
            db.session.execute(insert(db.metadata.tables[tables[kind][0]]), rows)
    db.session.commit()


def median_ms(action, runs: int) -> float:
    action()  # warm: caches, plans, buffers
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(url: str, label: str, runs: int) -> None:
    from server.progress.services import unit_rows
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATABASE_URL": url})
    with app.app_context():
        admin = db.session.scalar(db.select(User).where(User.username == "boss"))
        visits = db.session.scalar(text("SELECT count(*) FROM visits"))
        people = db.session.scalar(text("SELECT count(*) FROM users")) - 1

        def group_by():
            db.session.execute(text("SELECT user_id, count(*) FROM visits GROUP BY user_id")).all()

        rows: list = []

        def rollup():
            rows[:] = unit_rows(admin, None, AS_OF)[1]

        baseline = median_ms(group_by, runs)
        ours = median_ms(rollup, runs)
        assert len(rows) == people, (len(rows), people)
        print(f"{label}: {people:,} people, {visits:,} visits, as of {AS_OF}")
        print(f"  plain GROUP BY   {baseline:10.1f} ms (median of {runs}, warm)")
        print(f"  roll-up          {ours:10.1f} ms")
        print(f"  ratio            {ours / baseline:10.2f} x the GROUP BY")
        db.engine.dispose()


def _built(name: str) -> bool:
    """Whether a database of that name exists with the benchmark's admin in it."""
    import psycopg
    try:
        with psycopg.connect(f"{PG_ADMIN}/{name}") as conn:
            return conn.execute("SELECT count(*) FROM users WHERE username = 'boss'"
                                ).fetchone()[0] == 1
    except psycopg.Error:
        return False


def fresh_postgres(name: str) -> str:
    import psycopg
    with psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{PG_ADMIN}/{name}"


def build(url: str, synthetic: Synthetic, postgres: bool) -> None:
    from werkzeug.security import generate_password_hash
    build_schema(url)
    app = create_app({**{k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()},
                      "DATABASE_URL": url})
    with app.app_context():
        towns, villages = build_org(synthetic.townships)
        people = build_people(synthetic, towns, generate_password_hash("bench-pass-1"))
        started = time.perf_counter()
        if postgres:
            load_postgres(url, synthetic, people, villages)
            flush_buffered(url)
        else:
            load_sqlite(synthetic, people, villages)
        print(f"  (loaded in {time.perf_counter() - started:.0f} s)", file=sys.stderr)
        db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="province size factor")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-province", action="store_true")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the province database a previous run built, if any")
    args = parser.parse_args()

    county = Synthetic(people=300, visits_per_person=130)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/county.sqlite3"
        build(url, county, postgres=False)
        measure(url, "county on SQLite", args.runs)
    url = fresh_postgres("zaicun_bench_county")
    build(url, Synthetic(people=300, visits_per_person=130), postgres=True)
    measure(url, "county on PostgreSQL", args.runs)
    if not args.skip_province:
        people = max(100, int(100_000 * args.scale))
        name = f"zaicun_bench_province_{people}"
        if not (args.reuse and _built(name)):
            url = fresh_postgres(name)
            build(url, Synthetic(people=people, visits_per_person=200), postgres=True)
        url = f"{PG_ADMIN}/{name}"
        measure(url, f"province on PostgreSQL (scale {args.scale})", max(3, args.runs // 2))


if __name__ == "__main__":
    main()
