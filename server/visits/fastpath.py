"""The check-in fast path: how a check-in is read and written lean, behind one seam.

Check-ins are most of what the server is sent (the phone checks in on arrival) and the write
path with a target (docs/performance.md). On it, the ORM's own costs (composing a statement,
building row processors on every query, a unit-of-work flush) are larger than the SQL, so here
a check-in

- reads with statements composed once, at import, and only the columns it needs (``Arrivals``);
- writes with Core INSERTs that store the very row the ORM would store (``Writes``;
  tests/api/test_fastpath.py holds them to it, column by column), and a check-out with one
  Core UPDATE checked against the visit's version as a flush would be; on PostgreSQL the
  visit's write, its audit event and the reads that follow it are one statement;
- hands back detached instances that hold every column, built from the values written; the
  answer is dumped from them before the request's commit point commits (docs/decisions.md,
  "One commit point"), and being detached, the commit expires nothing of them.

``services.py`` decides what is read and written (RULES.md §1); this module only how. Its
interface:

    Arrivals(latest_ended, ended_by, locks)(user_id, client_id, check_in_at, village_code,
                                            lock_params)
                                        -> (Village | None, KnownVisits)
    visit_by_id(id), own_visit(user_id, client_id) -> Visit | None, holding its village
    first_visit(visit_query(*also, by_id=), params) -> the same, reading ``also`` with it
    Writes(closings, following, beside)
        .insert_visit(values, event, params, user=, village=, follow=) -> (Visit, Written)
        .store_changes(visit, changes, event, params, follow=) -> Written
    attach(instance) -> the instance in the session
"""
from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, bindparam, insert, select, true, union_all, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from ..auth.models import User
from ..cache import BoundedCache
from ..db_types import attach_loaded, attribute_keys, core_rows, loaded
from ..extensions import db
from ..org.models import Village
from .models import IS_OPEN, Visit, VisitEvent

# --- the session ----------------------------------------------------------------------------

def attach(instance):
    """A detached instance this module built (a village ``Arrivals`` read) in the session, as
    a query's result would be, for a write through the ORM; one the session holds wins."""
    return attach_loaded(db.session(), instance)


# --- reading visits with their villages -----------------------------------------------------

_VISITS = Visit.__table__
_VISIT_KEYS = attribute_keys(Visit, _VISITS)
_VILLAGES = Village.__table__
_VILLAGE_KEYS = attribute_keys(Village, _VILLAGES)


def _with_village(*criteria):
    """Visits with their villages in the same rows (every answer shows the village), read as
    columns: an ORM query's entity loading cost a check-out more than its SQL."""
    return (select(_VISITS, _VILLAGES)
            .join(_VILLAGES, _VISITS.c.village_id == _VILLAGES.c.id).where(*criteria))


def visit_query(*also, by_id: bool = False) -> Select:
    """The statement ``own_visit`` (with ``by_id``: ``visit_by_id``) runs, with ``also``:
    columns read with the visit's row (a lock to take with it), for ``first_visit``."""
    if by_id:
        return _with_village(_VISITS.c.id == bindparam("id")).add_columns(*also)
    return _with_village(_VISITS.c.user_id == bindparam("user_id"),
                         _VISITS.c.client_id == bindparam("client_id")).add_columns(*also)


# Built once, at import: composing a statement costs more than running it.
_OWN_VISIT = visit_query()
_VISIT_BY_ID = visit_query(by_id=True)


def first_visit(statement, params: dict) -> Visit | None:
    """The first visit of a ``visit_query`` statement, in the session as a query would put
    it (an instance the session already holds wins), holding its village."""
    session = db.session()
    row = core_rows(session, statement, params).first()
    if row is None:
        return None
    width, village_width = len(_VISIT_KEYS), len(_VILLAGE_KEYS)
    visit = attach_loaded(session, loaded(Visit, dict(zip(_VISIT_KEYS, row[:width]))))
    village = attach_loaded(session, loaded(Village, dict(zip(
        _VILLAGE_KEYS, row[width:width + village_width]))))
    set_committed_value(visit, "village", village)  # not only in the weak identity map
    return visit


def visit_by_id(visit_id: int) -> Visit | None:
    """The visit with this id, holding its village."""
    return first_visit(_VISIT_BY_ID, {"id": visit_id})


def own_visit(user_id: int, client_id: str) -> Visit | None:
    """The person's visit stored under ``client_id``, holding its village."""
    return first_visit(_OWN_VISIT, {"user_id": user_id, "client_id": client_id})


# --- what a check-in reads first ------------------------------------------------------------

@dataclass(frozen=True)
class KnownVisits:
    """What a new check-in must know of the person's visits."""
    own: Visit | None      # the visit stored under this client_id: the request is a replay
    open: tuple | None     # the open visit (its client_id), which a new open one may not join
    before: tuple | None   # the visit this check-in follows (its check-out), for the travel check


# Only the columns a new check-in reads: most check-ins are new, so whole visits (and their
# villages) would be loaded to be thrown away; a replay loads its visit whole afterwards.
_KNOWN_COLUMNS = (Visit.id, Visit.client_id, Visit.status, Visit.check_out_at,
                  Visit.check_out_lat, Visit.check_out_lon, Visit.check_out_accuracy_m)
_KnownRow = namedtuple("_KnownRow", [column.key for column in _KNOWN_COLUMNS])
class Arrivals:
    """What a check-in reads before anything is decided: the village it names and the
    person's visits it must know of, in one round trip (two when no village has the code).

    ``latest_ended`` is the query for the visit a check-in follows, with bound ``user_id`` and
    ``check_in_at``; ``ended_by(row, moment)`` says whether a visit is one it looks among.
    ``locks``: columns that take locks, read with the village when asked (``lock_params``).
    All are the domain's; the statements are composed from them once, here.
    """

    def __init__(self, latest_ended: Select, ended_by: Callable[[object, datetime], bool],
                 locks: tuple = ()):
        self._ended_by = ended_by
        # Three lookups, each along its own index, in one round trip: one WHERE joining them
        # with OR would walk every visit the person ever made.
        self.known_visits = union_all(
            select(*_KNOWN_COLUMNS).where(Visit.user_id == bindparam("user_id"),
                                          Visit.client_id == bindparam("client_id")),
            select(*_KNOWN_COLUMNS).where(Visit.user_id == bindparam("user_id"),
                                          Visit.status == IS_OPEN),
            select(latest_ended.with_only_columns(*_KNOWN_COLUMNS).subquery()))
        # The village beside each of those visits: no row when no village has the code, one
        # with empty visit columns when the person has no such visit.
        known = self.known_visits.subquery()
        self.village_and_known = (
            select(_VILLAGES, known).select_from(_VILLAGES.outerjoin(known, true()))
            .where(_VILLAGES.c.code == bindparam("village_code")))
        self._locking = self.village_and_known.add_columns(*locks)

    def __call__(self, user_id: int, client_id: str, check_in_at: datetime,
                 village_code: str, lock_params: dict | None = None,
                 ) -> tuple[Village | None, KnownVisits]:
        """The village named, detached (None when no village has the code), and what the
        person's visits say of a check-in at ``check_in_at``. With ``lock_params``, the
        ``locks`` are taken too when the village is found."""
        params = {"user_id": user_id, "client_id": client_id, "check_in_at": check_in_at}
        session = db.session()
        statement = self.village_and_known if lock_params is None else self._locking
        rows = core_rows(session, statement,
                         {**params, "village_code": village_code, **(lock_params or {})}).all()
        if not rows:  # no such village, but a replay of a stored visit is still answered
            known = core_rows(session, self.known_visits, params).all()
            return None, self._known(known, client_id, check_in_at)
        width, known_width = len(_VILLAGE_KEYS), len(_KNOWN_COLUMNS)
        known = [_KnownRow(*row[width:width + known_width]) for row in rows
                 if row[width] is not None]
        village = loaded(Village, dict(zip(_VILLAGE_KEYS, rows[0][:width])))
        return village, self._known(known, client_id, check_in_at)

    def _known(self, rows: list, client_id: str, check_in_at: datetime) -> KnownVisits:
        own = next((r for r in rows if r.client_id == client_id), None)
        ended = [r for r in rows if r.client_id != client_id and self._ended_by(r, check_in_at)]
        return KnownVisits(
            own=visit_by_id(own.id) if own is not None else None,
            open=next((r for r in rows if r.status == "open"), None),
            before=max(ended, key=lambda r: (r.check_out_at, r.id), default=None))


# --- writing --------------------------------------------------------------------------------

class _CoreInsert:
    """The row of one model that a flush of the ORM would INSERT, for a Core INSERT.

    ``values`` are columns by attribute name. As in the ORM, a column left out, or given None,
    takes its default (a scalar, or a callable called once per row); None is stored only where
    the type stores None as a value (JSON's ``null``); the version column takes the mapper's
    first version. What is known before the INSERT is reflected from the model at import; a
    default computed by the database is refused here (it needs the ORM path, which reads it
    back), and the primary key is the database's.
    """

    def __init__(self, model: type):
        mapper, table = model.__mapper__, model.__table__
        keys = attribute_keys(model, table)
        if any(key != column.key for key, column in zip(keys, table.c)):
            raise TypeError(f"{table.name}: values are bound by attribute name, which must be "
                            "the column's key")
        primary = set(mapper.primary_key)
        self._blank = {key: None for key, column in zip(keys, table.c) if column not in primary}
        self._defaults = []  # (key, value or callable, whether to call it)
        for key, column in zip(keys, table.c):
            default = column.default
            if column.server_default is not None:
                raise TypeError(f"{table.name}.{key}: a server default needs the ORM path")
            if default is None or column in primary or column is mapper.version_id_col:
                continue
            if not (default.is_scalar or default.is_callable):
                raise TypeError(f"{table.name}.{key}: a SQL default needs the ORM path")
            self._defaults.append((key, default.arg, default.is_callable))
        self.none_stored = frozenset(key for key, column in zip(keys, table.c)
                                     if column.type.should_evaluate_none)
        self._version = None
        if mapper.version_id_col is not None and mapper.version_id_generator is not False:
            self._version = (mapper.get_property_by_column(mapper.version_id_col).key,
                             mapper.version_id_generator)
        self.statement = insert(table)

    def row(self, values: dict) -> dict:
        """Every column of the row (but those the database fills) as the ORM would write it."""
        row = self._blank | values
        for key, default, call in self._defaults:
            if row[key] is None and (key not in self.none_stored or key not in values):
                # the callable of a column default takes the INSERT's context: here there is none
                row[key] = default(None) if call else default
        if self._version is not None:
            key, generate = self._version
            row[key] = generate(None)
        return row

    def written(self, row: dict) -> dict:
        """The columns of ``row`` to bind: a NULL is left out where leaving it out stores the
        same, as each bound value costs a type conversion."""
        return {key: value for key, value in row.items()
                if value is not None or key in self.none_stored}

    def execute(self, values: dict) -> None:
        """INSERT the row in the session's transaction."""
        db.session.connection().execute(self.statement, self.written(self.row(values)))


_VISIT_INSERT = _CoreInsert(Visit)
_EVENT_INSERT = _CoreInsert(VisitEvent)
_EVENTS = VisitEvent.__table__
_EVENT_KEYS = tuple(key for key in attribute_keys(VisitEvent, _EVENTS)
                    if key not in ("id", "visit_id"))
_VERSION_KEY = Visit.__mapper__.get_property_by_column(Visit.__mapper__.version_id_col).key
# SET takes the columns the parameters name; the WHERE's own parameters are named apart.
_VISIT_UPDATE = update(_VISITS).where(_VISITS.c.id == bindparam("where_id"),
                                      _VISITS.c.version == bindparam("where_version"))


# --- a write with what follows it -----------------------------------------------------------

class Written(NamedTuple):
    """What a visit's write returned beside the visit."""
    closings: int                 # the count the domain's ``closings`` expression returned
    following: tuple | None       # the row of the domain's ``following`` read, None: no row
    beside: tuple | None = None   # the ``beside`` columns; None where none were read


class Writes:
    """A visit's write (a check-in's INSERT, a check-out's UPDATE), its audit event, and what
    the domain must read right after it, in as few round trips as the database allows.

    ``closings`` is a scalar subquery the write returns (read in the write's own statement, so
    after every lock taken before it); ``following`` a query whose first row is read with the
    write when asked, its parameter ``next_of`` bound to the written visit's id. Its rows must
    not depend on the written visit's own row: on PostgreSQL they are read in the same
    statement, which sees the table as it was before the write; it has one FROM (a join of
    subqueries), and no WHERE, ORDER BY or LIMIT of its own. ``beside``: scalar subqueries
    read with ``following`` on PostgreSQL only (SQLite reads them not at all: ``Written.beside``
    is None), under the same rule. The visit's columns are bound by their names, so no other
    parameter may be named as a column of ``visits``.

    Its rows must be read after every lock the request takes: on PostgreSQL a statement sees
    what was committed when it began, so a lock it waits for would hide the very change it
    waited for. Take the locks in an earlier statement.

    On PostgreSQL the visit's write, the event's INSERT and the read are one statement (the
    writes as data-modifying WITH queries); on SQLite, where those are not allowed and a round
    trip costs little, they are three. Either way the rows stored are those a flush would
    store (tests/api/test_fastpath.py).
    """

    def __init__(self, closings, following: Select, beside: tuple = ()):
        if len(following.get_final_froms()) != 1 or any((
                following.whereclause is not None, following._order_by_clauses,
                following._group_by_clauses, following._having_criteria, following._distinct,
                following._limit_clause is not None, following._offset_clause is not None)):
            raise TypeError("following: one FROM (a join) and nothing else, its conditions in "
                            "the joins (the statement joins its FROM to the written row)")
        self._closings = closings.label("closings")
        self._following = following
        self._beside = beside
        self._row = namedtuple("Following", following.selected_columns.keys())
        self._statements: BoundedCache = BoundedCache(64)  # by the columns written

    def insert_visit(self, values: dict, event: dict, params: dict, *, user: User,
                     village: Village, follow: bool = False) -> tuple[Visit, Written]:
        """Store a visit and its event (``event``: its columns but ``visit_id``) and read
        ``closings`` and, with ``follow``, ``following`` (``params``: their parameters).

        ``values`` are the visit's columns by attribute; the stored row is the one
        ``Visit(**values)`` flushed through the session would be. Nothing the session would do
        on a flush runs (no credit upkeep, no other listener). The visit returned is detached
        and holds every column, with ``user`` and ``village`` (given here) as its only
        relationships; anything else it would load lazily is not there.
        """
        row = _VISIT_INSERT.row(values)
        visit_id, done = self._run("insert", _VISIT_INSERT.written(row), {}, event, params,
                                   follow)
        row["id"] = visit_id
        return loaded(Visit, row | {"user": user, "village": village}), done

    def store_changes(self, visit: Visit, changes: dict, event: dict, params: dict, *,
                      follow: bool = False) -> Written:
        """Store ``changes`` (columns by attribute name) of a loaded, persistent visit as the
        ORM's flush would store them set on it, with the event, reading as ``insert_visit``
        does: the version raised by one and checked, so that a concurrent change of the same
        visit fails (``StaleDataError``; the request's commit point runs the request again
        on the visit as it now is). The instance then holds the values as stored, as if it
        had been loaded with them: nothing is left for a flush to write.

        Nothing the session would do on a flush runs: ``onupdate`` defaults are not applied
        (set ``updated_at`` yourself) and the credits listener does not see it (call
        ``credits.note_stay``).
        """
        version = visit.version
        changes = {**changes, _VERSION_KEY: version + 1}
        _, done = self._run("update", changes, {"where_id": visit.id, "where_version": version},
                            {**event, "visit_id": visit.id}, params, follow,
                            visit_id=visit.id)
        for key, value in changes.items():
            set_committed_value(visit, key, value)
        return done

    def _run(self, kind: str, columns: dict, where: dict, event: dict, params: dict,
             follow: bool, *, visit_id: int | None = None) -> tuple[int, Written]:
        connection = db.session.connection()
        together = connection.dialect.name == "postgresql"
        statement = self._statements.get_or_make(
            (kind, tuple(columns), follow, together),
            lambda: self._compose(kind, tuple(columns), follow, together))
        bound = {**columns, **where, **params}
        if together:
            event_row = _EVENT_INSERT.row(event)
            bound.update({f"e_{key}": event_row[key] for key in _EVENT_KEYS})
            # The new row is not in what the statement's read sees: no id to leave out.
            result = connection.execute(statement, {**bound, "next_of": visit_id or 0}).first()
            if result is None:
                raise _stale(visit_id, where)
            if not follow:
                return result[0], Written(result[1], None)
            width = len(self._row._fields)
            following = self._row(*result[2:2 + width]) if result[2] is not None else None
            beside = tuple(result[2 + width:]) if self._beside else None
            return result[0], Written(result[1], following, beside)
        result = connection.execute(statement, bound).first()
        if result is None:
            raise _stale(visit_id, where)
        _EVENT_INSERT.execute({**event, "visit_id": result[0]})
        following = None
        if follow:
            found = connection.execute(self._following, {**params, "next_of": result[0]}).first()
            following = self._row(*found) if found is not None else None
        return result[0], Written(result[1], following)

    def _compose(self, kind: str, keys: tuple, follow: bool, together: bool):
        binds = {key: bindparam(key, type_=_VISITS.c[key].type) for key in keys}
        write = (insert(_VISITS) if kind == "insert" else _VISIT_UPDATE).values(binds)
        write = write.returning(_VISITS.c.id, self._closings)
        if not together:
            return write
        written = write.cte("written")
        event = insert(_EVENTS).from_select(["visit_id", *_EVENT_KEYS], select(
            written.c.id, *(bindparam(f"e_{key}", type_=_EVENTS.c[key].type)
                            for key in _EVENT_KEYS))).cte("event")
        if not follow:
            return select(written.c.id, written.c.closings).add_cte(event)
        # ``following``'s own FROM joined to the written row, not a subquery of it: the
        # statement is then short enough for psycopg to keep it converted (test_fastpath.py).
        following, = self._following.get_final_froms()
        return (select(written.c.id, written.c.closings, *self._following.selected_columns,
                       *self._beside)
                .select_from(written.outerjoin(following, true())).add_cte(event))


def _stale(visit_id, where: dict) -> StaleDataError:
    return StaleDataError(f"visit {visit_id} was changed by another request "
                          f"(expected version {where.get('where_version')})")
