"""CSV imports of villages and users: every row is checked first, then all or none is written.

Villages: ``code,name,township_code,lat,lon[,radius_m][,crs]``.
Users: ``username,name,role,unit_code[,active_from][,active_until][,village_codes]``
(``village_codes`` separated by spaces or semicolons). Imported users get one-time passwords.

A file of up to ``MAX_ROWS`` rows goes through three steps, so that even 100,000 villages take
seconds and never hold the database's write lock for long:

1. **read** (``read_table``): the header (a missing, unknown or repeated column is a row 1
   error) and each row's shape (more fields than the header is that row's error);
2. **check** (``check_villages``, ``check_users``), with reads only: each row through the
   API's own schema, then every rule of ``create_village``/``create_user``/
   ``set_linked_villages`` (scope first and alike for unknown units, as ``find_unit``; the
   township level; role and unit; linked villages in the person's township; codes and
   usernames unique in the file and in the database) against units, villages and usernames
   read in a few queries for the whole file, not one per row. One-time passwords are hashed
   here, after every row passed and before anything is written;
3. **write** (``write_villages``, ``write_users``): one short transaction of Core
   ``executemany`` inserts. A key someone else took between 2 and 3 fails the transaction:
   nothing is written, and the rows are named (422) or, if none is, a 409.

Any error in 1 or 2 is reported with its row (the header is row 1) and column, and nothing is
written. The same functions serve the API (synchronously for small files, as a job for large
ones: ``server/org/jobs.py``) and the command line.
"""
from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from marshmallow import Schema, ValidationError
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.security import generate_password_hash

from .. import policy
from ..auth.models import FIELD_ROLES, User
from ..auth.passwords import check_policy, one_time_password
from ..auth.usernames import username_key
from ..clock import today
from ..closing import guard
from ..db_types import utcnow
from ..errors import ApiError, Conflict, InvalidInput
from ..extensions import db
from ..field_messages import localize
from ..messages import message, prefers_english
from . import posts
from .models import LinkedVillage, Post, Unit, Village
from .posts import check_role_unit, next_change
from .schemas import PostRowSchema, UserCreateSchema, VillageCreateSchema
from .services import check_found_unit, to_wgs84, unknown_village

VILLAGE_COLUMNS = ("code", "name", "township_code", "lat", "lon", "radius_m", "crs")
USER_COLUMNS = ("username", "name", "role", "unit_code", "active_from", "active_until",
                "village_codes")
POST_COLUMNS = ("username", "unit_code", "role", "from")
# (known, required)
COLUMNS = {"villages": (VILLAGE_COLUMNS, 5), "users": (USER_COLUMNS, 4), "posts": (POST_COLUMNS, 4)}
NUMERIC = {"villages": ("lat", "lon", "radius_m"), "users": (), "posts": ()}
MAX_ROWS = 100_000
LOOKUP_CHUNK = 2000  # values per ``IN (...)`` when reading what a file names

# One-time passwords are hashed with far fewer rounds than chosen passwords (config
# PASSWORD_HASH_METHOD, scrypt at ~0.15 s a hash: 600 users took the whole request's minute).
# A slow hash protects what people choose — short, guessable, reused. These are random: 12
# symbols from a 55-symbol alphabet, log2(55**12) ≈ 69 bits, so a stolen hash takes ~2**68
# guesses on average. PBKDF2-SHA256 with 1,000 rounds is 2,000 SHA-256 compressions a guess:
# a GPU doing 10**10 SHA-256 a second tries ~5 million a second, ~2.5 million GPU-years for
# one password. It costs ~1 ms here (5,000 users: seconds, not 12 minutes of CPU), and the
# password lives only until the first login, which must replace it (then scrypt as usual).
# Logging in needs nothing else: check_password_hash reads the method from the stored hash.
ONE_TIME_HASH_METHOD = "pbkdf2:sha256:1000"

Progress = Callable[[str, int, int], None]  # (phase, rows done, rows in all)


class CsvInvalid(InvalidInput):
    """The file has errors; ``errors`` lists each with its row and column."""

    def __init__(self, problems: list[dict]):
        problems = sorted(problems, key=lambda p: p["row"])  # stable: a row's errors in order
        super().__init__("csv_invalid", errors={"rows": problems}, count=len(problems))
        self.problems = problems


def row_error(row_no: int, column: str, *problems: str) -> dict:
    """A row's error, its problems worded in the request's language (``field_messages``): a
    job's rows are worded when it runs, in the language of the request that started it."""
    english = prefers_english()
    return {"row": row_no, "column": column,
            "message": ("; " if english else "；").join(localize(p, english) for p in problems)}


# --- 1. read ----------------------------------------------------------------------------------

@dataclass
class Table:
    """A CSV file as read: its column names and its rows, each with its row number."""

    kind: str
    header: list[str]
    rows: list[tuple[int, list[str]]]
    problems: list[dict] = field(default_factory=list)  # rows of the wrong shape

    def __len__(self) -> int:
        return len(self.rows)

    def cells(self, values: list[str]) -> dict[str, str]:
        """A row as ``{column: value}``, trimmed, leaving out empty cells."""
        cells = {}
        for name, value in zip(self.header, values):
            value = value.strip()
            if value:
                cells[name] = value
        return cells


def read_table(text: str, kind: str) -> Table:
    """Parse CSV text (a BOM is fine; any line ending) for an import of ``kind``.

    Header problems are row 1 errors and raise at once. A row with more fields than the header
    is that row's error (kept in ``problems``; nothing of it is guessed); a row with fewer
    leaves the last columns empty. A blank line is skipped but keeps its row number, so rows
    are numbered as a spreadsheet shows them. What the csv module cannot read is an error of
    the row it stopped at."""
    known, required = COLUMNS[kind]
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    row_no = 0
    try:
        header = [name.strip() for name in next(reader, [])]
        row_no = 1
        check_header(header, known[:required], known)
        table = Table(kind, header, [])
        width = len(header)
        for values in reader:
            row_no += 1
            if not values:
                continue
            if len(values) > width:
                table.problems.append(row_error(
                    row_no, "", f"more fields than the header ({len(values)} > {width})"))
            table.rows.append((row_no, values))
            if len(table.rows) > MAX_ROWS:
                raise CsvInvalid([row_error(row_no, "", f"too many rows (at most {MAX_ROWS:,})")])
    except csv.Error as exc:  # e.g. a field longer than the csv module takes, or U+0000
        raise CsvInvalid([row_error(row_no + 1, "", str(exc))]) from None
    return table


def check_header(header: list[str], required: tuple[str, ...], known: tuple[str, ...]) -> None:
    """Raise CsvInvalid naming every missing, unknown or repeated column (as row 1 errors)."""
    errors = [row_error(1, c, "missing column") for c in required if c not in header]
    errors += [row_error(1, c, "unknown column") for c in header if c not in known]
    errors += [row_error(1, c, f"column given {header.count(c)} times")
               for c in dict.fromkeys(header) if header.count(c) > 1]
    if errors:
        raise CsvInvalid(errors)


# --- 2. check ---------------------------------------------------------------------------------

_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def as_number(text: str):
    """A CSV cell as the number it spells, for schema fields that take JSON numbers only;
    anything else stays text, which the field refuses ("Not a valid number.")."""
    try:
        if _INTEGER.fullmatch(text):
            return int(text)
        if _DECIMAL.fullmatch(text):
            return float(text)
    except ValueError:  # more digits than int() reads
        pass
    return text


class _Ticker:
    """Calls ``progress`` every ``every`` rows of a phase (and at its start and end)."""

    def __init__(self, progress: Progress | None, phase: str, total: int, every: int = 500):
        self.progress, self.phase, self.total, self.every = progress, phase, total, every
        if progress is not None:
            progress(phase, 0, total)

    def __call__(self, done: int) -> None:
        if self.progress is not None and (done % self.every == 0 or done == self.total):
            self.progress(self.phase, done, self.total)


def _add_problem(problems: list[dict], row_no: int, exc: ApiError) -> None:
    text = message(exc.code, **exc.params)
    for column in (exc.errors or {"": None}):
        problems.append({"row": row_no, "column": column.split(".")[0], "message": text})


def _field_texts(messages, english: bool, prefix: str = "") -> Iterator[str]:
    """A field's messages as texts in the chosen language, a nested one's after its key."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            yield from _field_texts(value, english, f"{prefix}{key}{': ' if english else '：'}")
    elif isinstance(messages, list):
        for value in messages:
            yield from _field_texts(value, english, prefix)
    else:
        yield prefix + localize(str(messages), english)


def _load(schema: Schema, data: dict, row_no: int, problems: list[dict]) -> dict | None:
    try:
        return schema.load(data)
    except ValidationError as exc:
        english = prefers_english()
        for column, messages in exc.normalized_messages().items():
            problems.append(row_error(row_no, column, *_field_texts(messages, english)))
        return None


def _chunks(values: Iterable, size: int = LOOKUP_CHUNK):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _units_by_code(codes: set[str]) -> dict[str, Unit]:
    units = {}
    for chunk in _chunks(codes):
        units.update((u.code, u) for u in db.session.scalars(select(Unit).where(
            Unit.code.in_(chunk))))
    return units


def _stored(column, values: set) -> set:
    """Which of ``values`` the column already holds."""
    found = set()
    for chunk in _chunks(values):
        found.update(db.session.scalars(select(column).where(column.in_(chunk))))
    return found


def _rows(table: Table, schema: Schema, progress: Progress | None, problems: list[dict],
          extra: Callable[[dict], None] | None = None):
    """Yield ``(row number, loaded data, cells)`` for each row the schema takes."""
    shaped_wrong = {p["row"] for p in table.problems}
    tick = _Ticker(progress, "checking", len(table))
    numeric = NUMERIC[table.kind]
    for done, (row_no, values) in enumerate(table.rows, start=1):
        tick(done)
        if row_no in shaped_wrong:
            continue
        cells = table.cells(values)
        for name in numeric:
            if name in cells:
                cells[name] = as_number(cells[name])
        if extra is not None:
            extra(cells)
        data = _load(schema, {k: v for k, v in cells.items() if k != "village_codes"},
                     row_no, problems)
        if data is not None:
            yield row_no, data, cells


def _claim(seen: set, key, conflict: Callable[[], ApiError]) -> None:
    """The first row naming ``key`` claims it; a later row naming it again is a duplicate."""
    if key in seen:
        raise conflict()
    seen.add(key)


@dataclass
class VillagePlan:
    """Checked villages: the ``villages`` rows to insert and the file's row of each."""

    values: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)


def check_villages(actor: User | None, table: Table, progress: Progress | None = None
                   ) -> VillagePlan:
    """Check every row (reads only); return the villages to insert, or raise CsvInvalid
    naming every problem."""
    problems = list(table.problems)
    loaded = list(_rows(table, VillageCreateSchema(), progress, problems))
    units = _units_by_code({data["township_code"] for _, data, _ in loaded})
    stored = _stored(Village.code, {data["code"] for _, data, _ in loaded})
    seen: set[str] = set()
    now = utcnow()
    plan = VillagePlan()
    for row_no, data, _ in loaded:
        code = data["code"]

        def duplicate(code=code):
            return Conflict("duplicate", errors={"code": ["duplicate"]}, what="village",
                            value=code)
        try:
            _claim(seen, code, duplicate)
            township = _township(actor, units, data["township_code"])
            if code in stored:
                raise duplicate()
        except ApiError as exc:
            _add_problem(problems, row_no, exc)
            continue
        lat, lon = to_wgs84(data["lat"], data["lon"], data.get("crs"))
        plan.values.append({"code": code, "name": data["name"], "township_id": township.id,
                            "lat": lat, "lon": lon, "radius_m": data.get("radius_m") or 1000,
                            "created_at": now})
        plan.rows.append(row_no)
    if problems:
        raise CsvInvalid(problems)
    return plan


def _township(actor: User | None, units: dict[str, Unit], code: str) -> Unit:
    """``township_for_village`` on a unit already read."""
    township = check_found_unit(units.get(code), code, "township_code", actor)
    if township.level != "township":
        raise InvalidInput("unit_not_township", errors={"township_code": ["not a township"]},
                           code=code)
    return township


@dataclass
class UserPlan:
    """Checked users: the ``users`` rows, their one-time passwords, linked village ids and
    the file's row of each."""

    users: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    passwords: list[str] = field(default_factory=list)
    links: list[list[int]] = field(default_factory=list)
    undated: list[bool] = field(default_factory=list)  # no active_from in the file


def check_users(actor: User | None, table: Table, progress: Progress | None = None
                ) -> UserPlan:
    """Check every row (reads only), then hash the one-time passwords; raise CsvInvalid
    naming every problem before anything is hashed."""
    problems = list(table.problems)

    def give_password(cells: dict) -> None:
        cells["password"] = one_time_password()
    loaded = list(_rows(table, UserCreateSchema(), progress, problems, give_password))
    for _, _, cells in loaded:
        cells["village_codes"] = list(dict.fromkeys(
            cells.get("village_codes", "").replace(";", " ").split()))
    units = _units_by_code({data["unit_code"] for _, data, _ in loaded if data.get("unit_code")})
    keys = {row_no: username_key(data["username"]) for row_no, data, _ in loaded}
    stored = _stored(User.username_key, set(keys.values()))
    villages = _villages_by_code({c for _, _, cells in loaded for c in cells["village_codes"]})
    seen: set[str] = set()
    plan = UserPlan()
    now = utcnow()
    closed = guard.in_force()
    for row_no, data, cells in loaded:
        key = keys[row_no]

        def duplicate(username=data["username"]):
            return Conflict("duplicate", errors={"username": ["duplicate"]}, what="username",
                            value=username)
        try:
            _claim(seen, key, duplicate)
            code = data.get("unit_code")
            unit = None if code is None else check_found_unit(units.get(code), code, actor=actor)
            check_role_unit(data["role"], unit)
            policy.ensure_may_place(actor, unit)
            undated = data.get("active_from") is None
            if undated:
                data["active_from"] = guard.opening_day(closed, [unit])
            else:
                guard.refuse_closed(closed, guard.years_between(
                    data["active_from"], data.get("active_until")), [unit])
            check_policy(data["username"], data["password"])
            if key in stored:
                raise duplicate()
            links = _links(data["role"], unit, cells["village_codes"], villages)
        except ApiError as exc:
            _add_problem(problems, row_no, exc)
            continue
        plan.users.append({
            "username": data["username"], "username_key": key, "name": data["name"],
            "role": data["role"], "unit_id": unit.id if unit else None,
            "active_from": data.get("active_from"), "active_until": data.get("active_until"),
            "active": True, "password_hash": None, "must_change_password": True,
            "created_at": now, "several_posts": False, "post_changes_on": next_change(
                [(data.get("active_from"), data.get("active_until"))], today())})
        plan.passwords.append(data["password"])
        plan.links.append(links)
        plan.undated.append(undated)
        plan.rows.append(row_no)
    if problems:
        raise CsvInvalid(problems)
    tick = _Ticker(progress, "hashing", len(plan.users), every=100)
    for done, (user, password) in enumerate(zip(plan.users, plan.passwords), start=1):
        user["password_hash"] = generate_password_hash(password, method=ONE_TIME_HASH_METHOD)
        tick(done)
    return plan


def _villages_by_code(codes: set[str]) -> dict[str, tuple[int, int]]:
    """``{code: (village id, township id)}`` of the stored villages among ``codes``."""
    found = {}
    for chunk in _chunks(codes):
        found.update((code, (vid, township_id)) for code, vid, township_id in db.session.execute(
            select(Village.code, Village.id, Village.township_id).where(Village.code.in_(chunk))))
    return found


def _links(role: str, unit: Unit | None, codes: list[str],
           villages: dict[str, tuple[int, int]]) -> list[int]:
    """``set_linked_villages``'s rules on villages already read: field roles only, every
    village known and in the person's township."""
    if not codes:
        return []
    if role not in FIELD_ROLES:
        raise InvalidInput("not_field_user", errors={"village_codes": ["not a field role"]})
    ids = []
    for code in codes:
        if code not in villages:
            raise unknown_village(code, "village_codes")
        village_id, township_id = villages[code]
        if unit is None or township_id != unit.id:
            raise InvalidInput("linked_village_outside_township",
                               errors={"village_codes": ["outside township"]}, code=code)
        ids.append(village_id)
    return ids


# --- 3. write ---------------------------------------------------------------------------------

class ImportCancelled(Exception):
    """The job was given up (reported failed) before its rows could be committed."""


Finish = Callable[[Connection, int], bool]  # in the write transaction; False: roll back


def _write(insert_all: Callable[[Connection], int], finish: Finish | None,
           recheck: Callable[[], list[dict]], progress: Progress | None, total: int) -> int:
    """Run the inserts in one transaction and commit; all rows or none.

    ``finish`` runs last in the same transaction (a job marks itself done there, so a job
    reported failed meanwhile keeps nothing). On a unique key taken by someone else since the
    check, ``recheck`` names the rows (422); if it names none, 409."""
    if progress is not None:
        progress("writing", 0, total)
    session = db.session
    session.commit()  # ends the checks' read transaction (it holds nothing to write)
    try:
        connection = session.connection()
        count = insert_all(connection)
        if finish is not None and not finish(connection, count):
            session.rollback()
            raise ImportCancelled()
        session.commit()
    except IntegrityError:
        session.rollback()
        problems = recheck()
        if problems:
            raise CsvInvalid(problems) from None
        raise Conflict("conflict") from None
    except BaseException:
        session.rollback()
        raise
    return count


def bulk_insert(connection: Connection, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts holding every column but ``id``) into ``table`` as fast as the
    database takes them, within the connection's transaction: COPY on PostgreSQL, the driver's
    ``executemany`` on SQLite. Values go through the columns' own bind processing (UTC
    timestamps, dates, booleans), once per column for a value every row shares."""
    if not rows:
        return
    dialect = connection.dialect
    names = [c.name for c in table.columns if c.name != "id"]
    processors = [table.c[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names]
    shared = {}
    for name, process in zip(names, processors):
        value = rows[0][name]
        if process is not None and all(row[name] is value for row in rows):
            shared[name] = process(value)  # e.g. created_at, the same for the whole file
    plain = [(i, n, p) for i, (n, p) in enumerate(zip(names, processors)) if n not in shared]

    def values(row: dict) -> tuple:
        out = [shared.get(n) for n in names]
        for i, name, process in plain:
            value = row[name]
            out[i] = process(value) if process is not None and value is not None else value
        return tuple(out)
    if dialect.name == "postgresql":
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
        driver = connection.connection.driver_connection
        try:
            with driver.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows:
                    copy.write_row(values(row))
        except dialect.loaded_dbapi.Error as exc:  # as SQLAlchemy would have raised it
            raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from exc
    elif dialect.name == "sqlite":
        marks = ", ".join("?" * len(names))
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})",
            [values(row) for row in rows])
    else:
        connection.execute(insert(table), rows)


def write_villages(plan: VillagePlan, finish: Finish | None = None,
                   progress: Progress | None = None) -> int:
    """Insert checked villages (one transaction); return how many."""
    def insert_all(connection: Connection) -> int:
        bulk_insert(connection, Village.__table__, plan.values)
        return len(plan.values)

    def recheck() -> list[dict]:
        taken = _stored(Village.code, {v["code"] for v in plan.values})
        return [{"row": row_no, "column": "code", "message": message(
            "duplicate", what="village", value=v["code"])}
            for v, row_no in zip(plan.values, plan.rows) if v["code"] in taken]
    return _write(insert_all, finish, recheck, progress, len(plan.values))


def _date_after_closings(plan: UserPlan) -> None:
    """Check the users' dates again against the closings in force now, in the writing
    transaction and under the closings' lock (a year may have been closed since the check)."""
    guard.hold_every_year()
    closed = guard.in_force()
    if not closed:
        return
    units = {unit.id: unit for unit in db.session.scalars(select(Unit).where(
        Unit.id.in_({u["unit_id"] for u in plan.users if u["unit_id"] is not None})))}
    for user, undated in zip(plan.users, plan.undated, strict=True):
        unit = units.get(user["unit_id"])
        if undated:
            user["active_from"] = guard.opening_day(closed, [unit])
            user["post_changes_on"] = next_change(
                [(user["active_from"], user["active_until"])], today())
        else:
            guard.refuse_closed(closed, guard.years_between(
                user["active_from"], user["active_until"]), [unit])


def write_users(plan: UserPlan, finish: Finish | None = None,
                progress: Progress | None = None) -> dict[str, str]:
    """Insert checked users and their linked villages (one transaction); return each new
    username's one-time password."""
    users = User.__table__

    def insert_all(connection: Connection) -> int:
        if not plan.users:
            return 0
        _date_after_closings(plan)
        bulk_insert(connection, users, plan.users)
        ids = {}
        for chunk in _chunks(u["username_key"] for u in plan.users):
            ids.update((key, user_id) for key, user_id in connection.execute(select(
                users.c.username_key, users.c.id).where(users.c.username_key.in_(chunk))))
        now = utcnow()
        bulk_insert(connection, Post.__table__, [
            {"user_id": ids[user["username_key"]], "unit_id": user["unit_id"],
             "role": user["role"], "starts_on": user["active_from"],
             "ends_on": user["active_until"], "created_at": now} for user in plan.users])
        bulk_insert(connection, LinkedVillage.__table__, [
            {"user_id": ids[user["username_key"]], "village_id": village_id, "linked_at": now,
             "starts_on": None, "ends_on": None}
            for user, village_ids in zip(plan.users, plan.links) for village_id in village_ids])
        return len(plan.users)

    def recheck() -> list[dict]:
        taken = _stored(User.username_key, {u["username_key"] for u in plan.users})
        return [{"row": row_no, "column": "username", "message": message(
            "duplicate", what="username", value=u["username"])}
            for u, row_no in zip(plan.users, plan.rows) if u["username_key"] in taken]
    _write(insert_all, finish, recheck, progress, len(plan.users))
    return {u["username"]: p for u, p in zip(plan.users, plan.passwords)}


# --- the whole import ---------------------------------------------------------------------------

def as_table(text_or_table: str | Table, kind: str) -> Table:
    return text_or_table if isinstance(text_or_table, Table) else read_table(text_or_table, kind)


def import_villages(actor: User | None, text: str | Table, progress: Progress | None = None,
                    finish: Finish | None = None) -> int:
    """Import villages from CSV text (or a table already read); return how many."""
    plan = check_villages(actor, as_table(text, "villages"), progress)
    return write_villages(plan, finish, progress)


def import_users(actor: User | None, text: str | Table, progress: Progress | None = None,
                 finish: Finish | None = None) -> dict[str, str]:
    """Import users from CSV text (or a table already read); return each new username's
    one-time password."""
    plan = check_users(actor, as_table(text, "users"), progress)
    return write_users(plan, finish, progress)


IMPORTERS = {"villages": import_villages, "users": import_users}


# --- 换届: new posts in bulk ---------------------------------------------------------------------

def _side(post) -> dict:
    return {"unit_code": post.unit_code if post else None,
            "unit_name": post.unit_name if post else None, "role": post.role if post else None}


def _may_move(actor: User | None, person: User) -> bool:
    """Whether an admin may record a new post for the person (the command line may)."""
    if actor is None:
        return True
    posts.refresh_summary(person)
    return policy.can_write_org(actor, person.unit) or (
        actor.role == "admin" and actor.unit_id is None)


def import_posts(actor: User | None, text: str | Table, dry_run: bool = False) -> list[dict]:
    """One new post a row (``username,unit_code,role,from``): a transfer or a change of role
    for each person named, as ``POST /users/<id>/posts`` makes it. Every row is checked
    before anything is written, and any error refuses the whole file (CsvInvalid, each error
    with its row and column). Returns who moves where; ``dry_run`` writes nothing."""
    table = as_table(text, "posts")
    problems = list(table.problems)
    loaded = list(_rows(table, PostRowSchema(), None, problems))
    units = _units_by_code({data["unit_code"] for _, data, _ in loaded})
    keys = {row_no: username_key(data["username"]) for row_no, data, _ in loaded}
    people = {}
    for chunk in _chunks(set(keys.values())):
        people.update((u.username_key, u) for u in db.session.scalars(
            select(User).where(User.username_key.in_(chunk))))
    seen: set[str] = set()
    checked = []
    closed = guard.in_force()
    for row_no, data, _ in loaded:
        try:
            person = people.get(keys[row_no])
            if person is None or not _may_move(actor, person):  # out of scope: as unknown
                raise InvalidInput("unknown_user", errors={"username": ["unknown"]},
                                   username=data["username"])
            _claim(seen, keys[row_no], lambda name=data["username"]: InvalidInput(
                "duplicate_row", errors={"username": ["given twice"]}, value=name))
            unit = check_found_unit(units.get(data["unit_code"]), data["unit_code"],
                                    "unit_code", actor)
            check_role_unit(data["role"], unit)
            posts.check_change(person, data["starts_on"])
            guard.refuse_closed(closed, [data["starts_on"].year],
                                guard.person_units(person, [data["starts_on"].year], unit))
            for cut in posts.cut_by(person, data["starts_on"]):
                policy.ensure_may_place(actor, cut.unit)
        except ApiError as exc:
            _add_problem(problems, row_no, exc)
            continue
        checked.append((row_no, person, unit, data))
    if problems:
        raise CsvInvalid(problems)
    moves = [{"row": row_no, "user_id": person.id, "username": person.username,
              "name": person.name, "before": _side(posts.in_effect(person.posts, data["starts_on"])),
              "after": {"unit_code": unit.code, "unit_name": unit.name, "role": data["role"]},
              "from": data["starts_on"]} for row_no, person, unit, data in checked]
    if not dry_run:
        for _, person, unit, data in checked:
            posts.change_post(actor, person, unit, data["role"], data["starts_on"])
    return moves


def printed_progress(echo: Callable[[str], None], every_s: float = 2.0) -> Progress:
    """A ``progress`` for the command line: a line every few seconds, and when a phase ends
    (files that take less than ``every_s`` print nothing)."""
    started = time.monotonic()
    last = [started]

    def progress(phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= every_s or (done == total and now - started >= every_s):
            last[0] = now
            echo(f"{phase}: {done:,} of {total:,} rows ({now - started:.0f} s)")
    return progress
