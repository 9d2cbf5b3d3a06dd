"""The check-in fast path (server/visits/fastpath.py) stores the very row the ORM would.

An open check-in is written with a Core INSERT whose missing columns are filled from the model,
as reflected at import, not by a flush. Should a column, a default or a type change in a way that
reflection misses, the two paths would drift apart quietly: these tests write the same values
both ways and compare every column of ``visits``.

Two columns are set aside, each for a reason of its own:

- ``id``: the primary key; each row gets its own.
- ``user_id``: the ORM's copy is stored for another person of the same township. The person's
  own copy could not be stored at all while the fast path's is there: the database keeps at
  most one open visit per person (``uq_visits_one_open_per_user``), and one visit per person
  and ``client_id``. Stored for someone else, even ``client_id`` is compared as it is.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm.attributes import instance_state

from server import clock
from server.extensions import db
from server.visits import services
from server.visits.models import Visit
from tests.conftest import new_id, token_for

CST = timezone(timedelta(hours=8))
VISITS = Visit.__table__
SET_ASIDE = {"id", "user_id"}  # see the module's docstring
COMPARED = [column.key for column in VISITS.c if column.key not in SET_ASIDE]
# Columns whose value a row gets when the values leave them out: the model's defaults and the
# version the mapper starts at.
DEFAULTED = {column.key for column in VISITS.c
             if column.default is not None or column is Visit.__mapper__.version_id_col}


NOTHING_CLOSED = {"closing_first": 1, "closing_last": 0}  # the closing count: of no year


def event_of(person, action: str = "created") -> dict:
    return {"actor_id": person.id, "at": None, "action": action, "from_status": None,
            "to_status": "open", "changes": {}, "comment": None}


def insert_visit(values: dict, org):
    """Store ``values`` as a check-in's write does, with its event; the visit it gives."""
    visit, written = services.writes.insert_visit(values, event_of(org.cadre), NOTHING_CLOSED,
                                                  user=org.cadre, village=org.village)
    assert written.closings == 0 and written.following is None
    return visit


def store_changes(visit: Visit, changes: dict, person) -> None:
    """Store ``changes`` of ``visit`` as a check-out's write does, with its event."""
    services.writes.store_changes(visit, changes, event_of(person, "checked_out"),
                                  NOTHING_CLOSED)


def stored(visit_id: int, connection=None) -> dict:
    """Every column of the stored row, as the database gives it back."""
    statement = select(VISITS).where(VISITS.c.id == visit_id)
    if connection is None:
        with db.engine.connect() as fresh:  # what was committed, not what a session holds
            return dict(fresh.execute(statement).mappings().one())
    return dict(connection.execute(statement).mappings().one())


def through_the_orm(values: dict, person) -> dict:
    """Store ``values`` as ``Visit(**values)`` flushed by the session, for ``person``; return
    the stored row. The transaction is left open: the caller rolls it back."""
    visit = Visit(**{**values, "user_id": person.id})
    db.session.add(visit)
    db.session.flush()
    return stored(visit.id, db.session.connection())


def differences(fast: dict, orm: dict) -> dict:
    """The compared columns where the two rows differ: {column: (fast path, ORM)}."""
    assert set(fast) == set(orm) == {column.key for column in VISITS.c}
    return {key: (fast[key], orm[key]) for key in COMPARED if fast[key] != orm[key]}


def point_at(village, metres: float) -> tuple[float, float]:
    """A point ``metres`` north of the village."""
    return village.lat + metres / 111_320, village.lon


def check_in(village, *, location=True, metres=0.0, **extra) -> dict:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    body = {"client_id": new_id(), "village_code": village.code,
            "check_in": {"at": start.astimezone(CST).isoformat()}, **extra}
    if location:
        lat, lon = point_at(village, metres)
        body["check_in"]["location"] = {"lat": lat, "lon": lon, "accuracy_m": 20.0}
    return body


@pytest.fixture
def written(monkeypatch):
    """Each visit a check-in's write stored: the values it was given and the visit it gave."""
    calls = []
    real = services.writes.insert_visit

    def spy(values, *args, **kwargs):
        visit, done = real(values, *args, **kwargs)
        calls.append((dict(values), visit))
        return visit, done
    monkeypatch.setattr(services.writes, "insert_visit", spy)
    return calls


# name → (body, headers, what the stored row shows of the input)
INPUTS = {
    "at the village": lambda org: (
        check_in(org.village), {}, {"flags": [], "check_in_distance_m": 0.0}),
    "without a location": lambda org: (
        check_in(org.village, location=False), {},
        {"flags": ["no_location"], "check_in_lat": None, "check_in_distance_m": None}),
    "far away, with an activity, households and a note": lambda org: (
        check_in(org.village, metres=5000, activity="household_visit", households=4,
                 note="入户走访 \u00e9\U0001f600"), {},
        {"flags": ["outside_geofence"], "activity": "household_visit", "households": 4}),
    "from a device clock an hour behind": lambda org: (
        check_in(org.village),
        {"X-Client-Time": (datetime.now(UTC) - timedelta(hours=1)).isoformat()},
        {"flags": ["clock_skew"]}),
}


@pytest.mark.parametrize("name", INPUTS)
def test_a_check_in_stores_the_row_the_orm_would(client, org, written, name):
    body, headers, shows = INPUTS[name](org)
    response = client.post("/api/v1/visits", json=body,
                           headers={**token_for(client, org.cadre), **headers})
    assert response.status_code == 201, response.get_json()
    assert len(written) == 1, "an open check-in takes the fast path"
    values, visit = written[0]
    fast = stored(response.get_json()["id"])
    assert fast["user_id"] == org.cadre.id
    assert {key: fast[key] for key in shows} == shows
    assert (fast["clock_offset_s"] is not None) == ("X-Client-Time" in headers)
    # Columns the check-in left to the defaults are part of the comparison.
    assert DEFAULTED - set(values) >= {"check_out_manual", "version"}

    orm = through_the_orm(values, org.colleague)
    db.session.rollback()

    assert differences(fast, orm) == {}
    # The visit the request answered with holds exactly what was stored.
    held = instance_state(visit).dict
    assert {key: held[key] for key in fast} == fast


# Only what a visit cannot be stored without: every other column is left to the defaults.
REQUIRED = ("client_id", "village_id", "check_in_at", "check_in_at_original", "request_digest")


@pytest.mark.parametrize("given", [
    {},
    # As in the ORM, None given for a column with a default leaves it to the default, except
    # where the type stores None as a value of its own (JSON's null).
    {"check_out_manual": None, "status": None, "received_at": None, "flags": None},
], ids=["left out", "given as None"])
def test_every_default_is_the_one_the_orm_gives(app, org, given):
    moment = datetime(2026, 3, 2, 1, 2, 3, 456789, tzinfo=UTC)
    values = {"client_id": new_id(), "village_id": org.village.id,
              "check_in_at": moment - timedelta(hours=1),
              "check_in_at_original": moment - timedelta(hours=1),
              "request_digest": "d" * 64, **given}
    assert set(REQUIRED) | set(given) == set(values)
    # Each default is compared, beyond the plain NULLs.
    assert DEFAULTED >= {"check_out_manual", "status", "flags", "received_at", "updated_at",
                         "version"}
    with clock.frozen_at(moment):  # the time defaults are the same instant in both rows
        visit = insert_visit({**values, "user_id": org.cadre.id}, org)
        fast = stored(visit.id, db.session.connection())
        orm = through_the_orm(values, org.colleague)
    db.session.rollback()

    assert differences(fast, orm) == {}
    assert fast["received_at"] == fast["updated_at"] == moment
    assert fast["version"] == 1 and fast["check_out_manual"] is False
    assert fast["flags"] == ([] if "flags" not in given else None)
    assert fast["status"] == "open"
    held = instance_state(visit).dict
    assert {key: held[key] for key in fast} == fast


def test_the_comparison_covers_every_column():
    """Nothing of ``visits`` escapes the comparison but the two columns set aside."""
    assert set(COMPARED) | SET_ASIDE == {column.key for column in VISITS.c}
    assert len(COMPARED) == len(VISITS.c) - len(SET_ASIDE)


# --- a check-out: one version-checked UPDATE ------------------------------------------------

CHECK_OUT = {"check_out_at_original": None, "check_out_lat": 31.5, "check_out_lon": 117.2,
             "check_out_accuracy_m": 12.0, "check_out_distance_m": 40.0,
             "check_out_manual": True, "households": 3, "note": "走访 3 户",
             "status": "verified", "flags": ["manual_time"], "check_out_digest": "e" * 64}


def open_visit(org, moment: datetime) -> Visit:
    """An open visit of the cadre's, loaded in the session as a check-out loads it."""
    values = {"client_id": new_id(), "user_id": org.cadre.id, "village_id": org.village.id,
              "check_in_at": moment - timedelta(hours=7),
              "check_in_at_original": moment - timedelta(hours=7), "request_digest": "d" * 64}
    with clock.frozen_at(moment - timedelta(hours=7)):
        inserted = insert_visit(values, org)
    return services.fastpath.visit_by_id(inserted.id)


def test_a_check_out_stores_the_row_a_flush_would(app, org):
    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    changes = {**CHECK_OUT, "check_out_at": moment, "check_out_at_original": moment,
               "check_out_received_at": moment, "updated_at": moment}
    visit = open_visit(org, moment)
    savepoint = db.session.begin_nested()
    for key, value in changes.items():
        setattr(visit, key, value)
    db.session.flush()
    orm = stored(visit.id, db.session.connection())
    savepoint.rollback()

    visit = services.fastpath.visit_by_id(visit.id)
    assert visit.check_out_at is None and visit.version == 1
    store_changes(visit, changes, org.cadre)
    assert visit not in db.session.dirty, "nothing is left for a flush to write"
    db.session.flush()
    fast = stored(visit.id, db.session.connection())
    held = dict(instance_state(visit).dict)
    db.session.rollback()

    assert differences(fast, orm) == {}
    assert fast["version"] == orm["version"] == 2
    assert {key: held[key] for key in fast} == fast


def test_a_check_out_that_lost_a_race_changes_nothing(app, org):
    """Another request changed the visit after it was loaded: the UPDATE finds no row of the
    version it read and raises, as a flush would (the commit point runs the request again)."""
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    moment = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    visit = open_visit(org, moment)
    db.session.connection().execute(update(VISITS).where(VISITS.c.id == visit.id)
                                    .values(version=VISITS.c.version + 1, status="withdrawn"))
    with pytest.raises(StaleDataError):
        store_changes(visit, {"check_out_at": moment}, org.cadre)
    row = stored(visit.id, db.session.connection())
    db.session.rollback()
    assert (row["status"], row["check_out_at"], row["version"]) == ("withdrawn", None, 2)


def test_a_visits_write_on_postgresql_is_short_enough_for_psycopg_to_prepare():
    """psycopg converts and prepares a statement once only when it is at most 4,096
    characters with at most 50 parameters; a visit's write with every column a check-in or
    check-out can set, its event, the read that follows and the person's lock stays within
    both."""
    import psycopg._queries
    from sqlalchemy.dialects.postgresql.psycopg import dialect

    reviewed = {"id", "explanation", "reviewed_at", "reviewed_by_id", "review_comment"}
    checked_out = {"check_out_at", "check_out_at_original", "check_out_lat", "check_out_lon",
                   "check_out_accuracy_m", "check_out_distance_m", "check_out_manual",
                   "check_out_received_at", "households", "note", "check_out_digest", "flags",
                   "status", "updated_at", "version"}
    assert checked_out <= set(VISITS.c.keys())
    for kind, keys in (("insert", [c.key for c in VISITS.c if c.key not in reviewed]),
                       ("update", [c.key for c in VISITS.c if c.key in checked_out])):
        statement = services.writes._compose(kind, tuple(keys), True, True)
        compiled = statement.compile(dialect=dialect())
        assert len(str(compiled)) <= psycopg._queries.MAX_CACHED_STATEMENT_LENGTH, kind
        assert len(compiled.params) <= psycopg._queries.MAX_CACHED_STATEMENT_PARAMS, kind


def test_a_persons_credit_lock_comes_before_their_visit_rows_are_written(client, org):
    """On PostgreSQL a person's credit lock is taken before any of their visit rows is written,
    by a check-out's own statement and by a review's flush alike: taken after a row, a
    check-out that re-flags the next visit and a review of that visit could deadlock. (SQLite
    has one writer at a time and takes no such lock.)"""
    from sqlalchemy import event

    cadre, supervisor = token_for(client, org.cadre), token_for(client, org.supervisor)
    body = check_in(org.village, metres=5000)  # outside the village: reviewed
    assert client.post("/api/v1/visits", json=body, headers=cadre).status_code == 201
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        out = client.post(f"/api/v1/visits/{body['client_id']}/check-out", headers=cadre,
                          json={"at": datetime.now(CST).isoformat()})
        assert out.status_code == 200 and out.get_json()["status"] == "pending_review"
        checked_out, seen[:] = list(seen), []
        review = client.post(f"/api/v1/visits/{out.get_json()['id']}/review", headers=supervisor,
                             json={"decision": "approve"})
        assert review.status_code == 200, review.get_json()
        reviewed, seen[:] = list(seen), []
        whole = check_in(org.village, metres=10)
        whole["check_in"]["at"] = (datetime.now(CST) - timedelta(days=1)).isoformat()
        whole["check_out"] = {**whole["check_in"], "at": (
            datetime.now(CST) - timedelta(days=1, hours=-6)).isoformat()}
        assert client.post("/api/v1/visits", json=whole, headers=cadre).status_code == 201
        synced = list(seen)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)

    def first(statements, *words):
        return next((i for i, s in enumerate(statements) if all(w in s for w in words)), None)
    if db.engine.dialect.name != "postgresql":
        assert first(checked_out + reviewed + synced, "pg_advisory_xact_lock") is None
        return
    # The check-out's read of its visit takes the year's closing lock and the person's credit
    # lock, so that its write, the next statement, reads the next visit after both.
    read = first(checked_out, "FROM visits JOIN villages")
    assert "pg_advisory_xact_lock_shared(" in checked_out[read]
    assert "pg_advisory_xact_lock(" in checked_out[read]
    assert first(checked_out, "UPDATE visits") > read
    assert [i for i, s in enumerate(checked_out) if "pg_advisory_xact_lock" in s] == [read]
    # A complete visit's first read (of the village and the person's visits) takes both.
    read = first(synced, "FROM villages LEFT OUTER JOIN")
    assert "pg_advisory_xact_lock_shared(" in synced[read]
    assert "pg_advisory_xact_lock(" in synced[read]
    assert first(synced, "INSERT INTO visits") > read
    assert [i for i, s in enumerate(synced) if "pg_advisory_xact_lock" in s] == [read]
    lock, update = first(reviewed, "pg_advisory_xact_lock("), first(reviewed, "UPDATE visits")
    assert lock is not None and update is not None and lock < update
