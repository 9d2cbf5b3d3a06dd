"""Keeping ``day_credits`` and ``month_credits`` equal to what the visits say.

Every flush that creates or changes a closed visit notes the person and the local dates it
spans (before and after the change); just before the commit those dates — and only those —
are recomputed from the person's counting visits that touch them, and the running totals that
depend on them are shifted by the difference, so the credits change in the same transaction
as the visits, whichever code path wrote them, at a cost that does not grow with the person's
history:

- the day rows of the changed dates are inserted, updated or deleted, and the running totals
  of the month's later days shift by the month's difference (rows read: the month's, ≤ 31);
- the month row of each changed month and the year's running totals of it and the later months
  of the year shift by the same difference (one UPDATE per changed month); a year's first
  credit writes its twelve month rows, and a year left without any credit loses them.

``recompute_all`` rebuilds everything from the visits the long way (``refresh``); a test holds
the kept credits equal to it after random histories.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask_sqlalchemy.session import Session
from sqlalchemy import (
    Date,
    Integer,
    and_,
    bindparam,
    case,
    cast,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.visitors import replacement_traverse

from ..auth.models import User
from ..cache import BoundedCache
from ..clock import local_date, local_day_bounds, zone
from ..compliance.crediting import Stay, credit_for, seconds_by_date
from ..db_types import held_locks
from ..extensions import db
from ..rulebooks import rulebook_for
from ..visits.models import COUNTING_STATUSES, Visit
from .models import DayCredit, MonthCredit

SPANS_KEY = "zaicun_credit_spans"
READS_KEY = "zaicun_credit_reads"  # user id → (the spans noted, what was read for them)
# The statements below are built once, at import: composing one costs more than running it.
_VISITS, _DAYS, _MONTHS = Visit.__table__, DayCredit.__table__, MonthCredit.__table__
# Written into the SQL rather than bound (an expanding IN is rendered anew on every run).
_COUNTING = _VISITS.c.status.in_([literal_column(f"'{s}'") for s in COUNTING_STATUSES])
# The namespace of the people's credit locks (below); on SQLite the writers' lock, already
# held by then, does the same.
LOCK_NAMESPACE = 0x7A63  # "zc"


def _widen(spans: dict, user_id: int, first: date, last: date) -> None:
    spans.setdefault(user_id, []).append((first, last))


def _visit_changed(visit: Visit) -> bool:
    state = inspect(visit)
    if state.pending:
        return True
    return any(state.attrs[name].history.has_changes()
               for name in ("status", "check_in_at", "check_out_at"))


def _old_times(session, visit: Visit) -> tuple | None:
    """The check-in and check-out times the visit had before this flush's changes, when they
    changed: from the attributes' history, or from its row when the history never saw them
    (a change to an expired attribute)."""
    history = [inspect(visit).attrs[name].history for name in ("check_in_at", "check_out_at")]
    if not any(h.has_changes() for h in history):
        return None
    if any(h.added and not h.deleted for h in history):  # the old value was not loaded
        return session.connection().execute(
            select(_VISITS.c.check_in_at, _VISITS.c.check_out_at)
            .where(_VISITS.c.id == inspect(visit).identity[0])).first()
    return tuple(h.deleted[0] if h.deleted else getattr(visit, name)
                 for h, name in zip(history, ("check_in_at", "check_out_at")))


def _note(spans: dict, user_id: int, check_in_at, check_out_at) -> None:
    if check_in_at is not None and check_out_at is not None:
        _widen(spans, user_id, local_date(check_in_at), local_date(check_out_at))


def note_stay(session, user_id: int, check_in_at, check_out_at,
              read: ReadBeside | None = None) -> None:
    """Have the credits of a stay's dates brought up to date before the session commits: for
    code that writes or changes a closed visit's row past the ORM (a Core INSERT or UPDATE),
    which the flush listener below does not see. Call it with the old times too when a
    change moves them.

    ``read``: what the statement that wrote the stay read beside it (``READ_BESIDE``). When
    these are the first dates of the person's noted in the transaction and stay the only ones
    until the commit, the commit reads nothing more for them."""
    spans = session.info.setdefault(SPANS_KEY, {})
    first_noted = user_id not in spans
    _note(spans, user_id, check_in_at, check_out_at)
    if read is not None and first_noted:
        reads = session.info.setdefault(READS_KEY, {})
        reads[user_id] = (list(spans[user_id]), read.parsed(check_in_at, check_out_at))


# --- the person's credit lock ----------------------------------------------------------------
#
# On PostgreSQL two transactions changing one person's visits take turns at the credits'
# read-modify-write by a transaction-scoped advisory lock per person. It is taken before any of
# the person's visit rows is written: by the flush below before it writes them, and by a Core
# write in a statement before it (``person_lock_column``, read with the visit or the year's
# closing lock). Taken after a row, it could deadlock with a transaction that holds it and then
# writes that row (a check-out whose late arrival re-flags the next visit, and a review of that
# visit).


def person_lock_column(user_id):
    """The person's credit lock as a column of another statement's row (``user_id``: a
    column or a bound parameter); call ``person_locked`` once its row was read."""
    return func.pg_advisory_xact_lock(LOCK_NAMESPACE, user_id).label("person_locked")


PERSON_LOCK = select(person_lock_column(bindparam("lock_user_id", type_=Integer)))


def lock_person(session, user_id: int) -> None:
    """Take the person's credit lock in this transaction, unless it is held already."""
    locks = held_locks(session, "credit")
    if user_id in locks:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(PERSON_LOCK, {"lock_user_id": user_id})
    locks.add(user_id)


def person_locked(session, user_id: int) -> None:
    """A statement with ``person_lock_column`` read its row: the person's lock is held."""
    held_locks(session, "credit").add(user_id)


@event.listens_for(Session, "before_flush")
def _note_changed_visits(session, _flush_context, _instances) -> None:
    spans = session.info.setdefault(SPANS_KEY, {})
    changed = set()
    for obj in list(session.new) + list(session.dirty):
        if not isinstance(obj, Visit) or not _visit_changed(obj):
            continue
        changed.add(obj.user_id)
        _note(spans, obj.user_id, obj.check_in_at, obj.check_out_at)
        if not inspect(obj).pending:  # times moved or a check-out undone: the old dates too
            old = _old_times(session, obj)
            if old is not None:
                _note(spans, obj.user_id, *old)
    for obj in session.deleted:
        if isinstance(obj, Visit):
            changed.add(obj.user_id)
            _note(spans, obj.user_id, obj.check_in_at, obj.check_out_at)
    for user_id in sorted(changed):  # before the flush writes their rows
        lock_person(session, user_id)


@event.listens_for(Session, "before_commit")
def _refresh_noted_credits(session) -> None:
    session.flush()
    spans = session.info.pop(SPANS_KEY, {})
    reads = session.info.pop(READS_KEY, {})
    for user_id in sorted(spans):  # one order, so two transactions' locks cannot deadlock
        noted, read = reads.get(user_id, (None, None))
        update_dates(user_id, spans[user_id], read if noted == spans[user_id] else None)
    if spans:
        session.flush()
        session.info.pop(SPANS_KEY, None)
        session.info.pop(READS_KEY, None)


@event.listens_for(Session, "after_rollback")
def _forget_noted_credits(session) -> None:
    session.info.pop(SPANS_KEY, None)
    session.info.pop(READS_KEY, None)


def counting_stays(user_id: int, first: date, last: date) -> list[Stay]:
    """The person's counting stays that touch the local dates first..last (the stays of
    ``_read``'s statement, alone), the session's pending changes included (a Core statement
    does not flush them by itself)."""
    db.session.flush()
    start, end = local_day_bounds(first, last)
    rows = db.session.execute(_STAYS_TOUCHING, {"user_id": user_id, "start": start, "end": end})
    return [Stay(row.start, row.end) for row in rows]


def _thresholds(user_id: int):
    return rulebook_for(db.session.get(User, user_id)).thresholds


# --- incremental upkeep ----------------------------------------------------------------------

# The person's counting stays that touch the changed dates, the day rows of the months they
# fall in, and the December row of each year those fall in (whose running total is the year's:
# whether the year has its month rows yet, and whether a change leaves it without credit, are
# then known without asking again), read in one statement: rows of one shape, told apart by
# ``kind`` (the first select gives the columns their types).
_NO_TIME = cast(null(), _VISITS.c.check_in_at.type)
_STAYS = select(literal_column("'stay'").label("kind"), _VISITS.c.check_in_at.label("start"),
                _VISITS.c.check_out_at.label("end"), cast(null(), Date).label("day"),
                *(cast(null(), Integer).label(f"v{i}") for i in range(4))).where(
    _VISITS.c.user_id == bindparam("user_id"), _COUNTING)
_MONTH_DAYS = select(literal_column("'day'"), _NO_TIME, _NO_TIME, _DAYS.c.day, _DAYS.c.seconds,
                     _DAYS.c.halves, _DAYS.c.month_seconds_to_date,
                     _DAYS.c.month_halves_to_date).where(_DAYS.c.user_id == bindparam("user_id"))
_DECEMBERS = select(literal_column("'year'"), _NO_TIME, _NO_TIME, _MONTHS.c.month,
                    _MONTHS.c.seconds, _MONTHS.c.halves, _MONTHS.c.year_seconds_to_date,
                    _MONTHS.c.year_halves_to_date).where(_MONTHS.c.user_id == bindparam("user_id"))
# Nearly every change is of dates in one month: its statement is composed once. The stays
# along ix_visits_user_id_check_out_at: the visits that end after the first date began, so a
# change today reads today's visits, one a month back the month's since.
_STAYS_TOUCHING = _STAYS.where(
    _VISITS.c.check_out_at > bindparam("start", type_=_VISITS.c.check_out_at.type),
    _VISITS.c.check_in_at < bindparam("end", type_=_VISITS.c.check_in_at.type))
_ONE_RANGE = union_all(
    _STAYS_TOUCHING,
    _MONTH_DAYS.where(_DAYS.c.day >= bindparam("first", type_=Date),
                      _DAYS.c.day <= bindparam("last", type_=Date)),
    _DECEMBERS.where(_MONTHS.c.month == bindparam("december", type_=Date)))
_DAY_KEYS = ("user_id", "day", "seconds", "halves", "month_seconds_to_date",
             "month_halves_to_date")
_MONTH_KEYS = ("user_id", "month", "seconds", "halves", "year_seconds_to_date",
               "year_halves_to_date")
# The values named (not left to the parameters given): a statement also runs as part of a
# larger one (``_run_writes``), whose parameters are not this statement's.
_INSERT_DAY = insert(_DAYS).values({key: bindparam(key, type_=_DAYS.c[key].type)
                                    for key in _DAY_KEYS})
_UPDATE_DAY = update(_DAYS).where(
    _DAYS.c.user_id == bindparam("b_user_id"), _DAYS.c.day == bindparam("b_day")).values(
    seconds=bindparam("b_seconds"), halves=bindparam("b_halves"),
    month_seconds_to_date=bindparam("b_month_seconds"),
    month_halves_to_date=bindparam("b_month_halves"))
_DELETE_DAY = delete(_DAYS).where(_DAYS.c.user_id == bindparam("b_user_id"),
                                  _DAYS.c.day == bindparam("b_day"))
_DELTA_S, _DELTA_H = bindparam("b_seconds", type_=Integer), bindparam("b_halves", type_=Integer)
_SHIFT_DAYS = update(_DAYS).where(
    _DAYS.c.user_id == bindparam("b_user_id"), _DAYS.c.day > bindparam("b_after", type_=Date),
    _DAYS.c.day <= bindparam("b_through", type_=Date)).values(
    month_seconds_to_date=_DAYS.c.month_seconds_to_date + _DELTA_S,
    month_halves_to_date=_DAYS.c.month_halves_to_date + _DELTA_H)
_MONTH = bindparam("b_month", type_=Date)
_SHIFT_MONTHS = update(_MONTHS).where(
    _MONTHS.c.user_id == bindparam("b_user_id"), _MONTHS.c.month >= _MONTH,
    _MONTHS.c.month <= bindparam("b_december", type_=Date)).values(
    seconds=_MONTHS.c.seconds + case((_MONTHS.c.month == _MONTH, _DELTA_S), else_=0),
    halves=_MONTHS.c.halves + case((_MONTHS.c.month == _MONTH, _DELTA_H), else_=0),
    year_seconds_to_date=_MONTHS.c.year_seconds_to_date + _DELTA_S,
    year_halves_to_date=_MONTHS.c.year_halves_to_date + _DELTA_H)
_INSERT_MONTHS = insert(_MONTHS).values({key: bindparam(key, type_=_MONTHS.c[key].type)
                                         for key in _MONTH_KEYS})
# A year's first credit, of one month, on PostgreSQL: its twelve month rows from five
# parameters (twelve rows of six would be too many for a statement written with others).
_SERIES = select(func.generate_series(1, 12).label("m")).subquery("months")
_CHANGED = _SERIES.c.m == bindparam("changed", type_=Integer)
_AT_OR_AFTER = _SERIES.c.m >= bindparam("changed", type_=Integer)
_S, _H = bindparam("seconds", type_=Integer), bindparam("halves", type_=Integer)
_FIRST_MONTH = insert(_MONTHS).from_select(list(_MONTH_KEYS), select(
    bindparam("user_id", type_=Integer),
    func.make_date(bindparam("year", type_=Integer), _SERIES.c.m, 1),
    case((_CHANGED, _S), else_=0), case((_CHANGED, _H), else_=0),
    case((_AT_OR_AFTER, _S), else_=0), case((_AT_OR_AFTER, _H), else_=0)))
_DELETE_YEAR = delete(_MONTHS).where(
    _MONTHS.c.user_id == bindparam("user_id"),
    _MONTHS.c.month.between(bindparam("january", type_=Date), bindparam("december", type_=Date)))


def _date_ranges(spans: Iterable[tuple[date, date]]) -> list[tuple[date, date]]:
    """The dates of the spans as sorted, disjoint, non-adjacent ranges."""
    ranges: list[list[date]] = []
    for first, last in sorted(spans):
        if ranges and first <= ranges[-1][1] + timedelta(days=1):
            ranges[-1][1] = max(ranges[-1][1], last)
        else:
            ranges.append([first, last])
    return [(first, last) for first, last in ranges]


def _month_ranges(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    """The whole months the date ranges touch, as sorted, disjoint ranges of dates."""
    return _date_ranges((first.replace(day=1), _month_end(last)) for first, last in ranges)


def _month_end(day: date) -> date:
    return _month_after(day.replace(day=1)) - timedelta(days=1)


def _read(connection, user_id: int, ranges: list[tuple[date, date]]):
    """What a change of the dates of ``ranges`` needs, in one query: the person's counting
    stays that touch them; their day rows in the months of the ranges (date → seconds, halves
    and the month's running totals); and the credited seconds of each year those months fall
    in that has month rows (year → seconds)."""
    months = _month_ranges(ranges)
    if len(months) == 1 and months[0][0].year == months[0][1].year:
        (first, last), = months
        # Several ranges in one month: the stays between them are read too, and add only to
        # dates that are not written.
        start, end = local_day_bounds(ranges[0][0], ranges[-1][1])
        rows = connection.execute(_ONE_RANGE, {
            "user_id": user_id, "start": start, "end": end, "first": first, "last": last,
            "december": date(first.year, 12, 1)})
    else:  # adjacent months are one range, which may cross a new year
        bounds = [local_day_bounds(first, last) for first, last in ranges]
        decembers = sorted({date(day.year, 12, 1) for month in months for day in month})
        rows = connection.execute(union_all(
            _STAYS.where(or_(*(and_(_VISITS.c.check_out_at > start, _VISITS.c.check_in_at < end)
                               for start, end in bounds))),
            _MONTH_DAYS.where(or_(*(_DAYS.c.day.between(first, last) for first, last in months))),
            _DECEMBERS.where(_MONTHS.c.month.in_(decembers))), {"user_id": user_id})
    stays, kept, years = [], {}, {}
    for kind, start, end, day, *values in rows:
        if kind == "stay":
            stays.append(Stay(start, end))
        elif kind == "day":
            kept[day] = tuple(values)
        else:
            years[day.year] = values[2]  # December's running total: the year's
    return stays, kept, years


def update_dates(user_id: int, spans: Iterable[tuple[date, date]], read=None) -> None:
    """Bring the person's credits up to date for the local dates of ``spans`` (pairs of
    first and last date), where visits changed: those dates' day rows, and the running totals
    that depend on them. ``read``: what ``_read`` would return for them, read already under
    the person's credit lock (``ReadBeside``)."""
    ranges = _date_ranges(spans)
    if not ranges:
        return
    lock_person(db.session(), user_id)
    connection = db.session.connection()
    thresholds = _thresholds(user_id)
    stays, kept, years = read or _read(connection, user_id, ranges)
    seconds = seconds_by_date(stays, zone())
    wanted: dict[date, tuple[int, int]] = {}
    for first, last in ranges:
        day = first
        while day <= last:
            s = max(seconds.get(day, 0), 0)
            wanted[day] = (s, int(credit_for(s, thresholds) * 2))
            day += timedelta(days=1)
    _write_days(connection, user_id, wanted, kept, years)


# --- the same read, in the statement that writes a stay --------------------------------------
#
# A check-out and a complete visit write one stay, of dates in one month nearly always. What
# ``_read`` would read for those dates at the commit is read by the statement that writes the
# visit instead (``fastpath.Writes``), as three columns of its row, which saves the commit a
# round trip. That statement comes after the person's credit lock was taken, so what it reads
# stays true until the commit; but it cannot see the row it writes, so the stay written is
# added as written. (An UPDATE's old row is seen: a check-out's is open and touches no date,
# and the old row of any other change is left out by its id.)

_V, _D, _M = _VISITS.alias("v"), _DAYS.alias("d"), _MONTHS.alias("m")
_BESIDE_USER = bindparam("cr_user", type_=Integer)
READ_BESIDE = (
    select(func.json_agg(func.json_build_array(_V.c.id, _V.c.check_in_at, _V.c.check_out_at)))
    .where(_V.c.user_id == _BESIDE_USER,
           _V.c.status.in_([literal_column(f"'{s}'") for s in COUNTING_STATUSES]),
           _V.c.check_out_at > bindparam("cr_start", type_=_VISITS.c.check_out_at.type),
           _V.c.check_in_at < bindparam("cr_end", type_=_VISITS.c.check_in_at.type))
    .scalar_subquery().label("credit_stays"),
    select(func.json_agg(func.json_build_array(
        _D.c.day, _D.c.seconds, _D.c.halves, _D.c.month_seconds_to_date,
        _D.c.month_halves_to_date)))
    .where(_D.c.user_id == _BESIDE_USER, _D.c.day.between(
        bindparam("cr_first", type_=Date), bindparam("cr_last", type_=Date)))
    .scalar_subquery().label("credit_days"),
    select(_M.c.year_seconds_to_date)
    .where(_M.c.user_id == _BESIDE_USER, _M.c.month == bindparam("cr_december", type_=Date))
    .scalar_subquery().label("credit_year"),
)
_BESIDE_KEYS = ("cr_user", "cr_start", "cr_end", "cr_first", "cr_last",
                "cr_december")


def beside_params(session, user_id: int, check_in_at, check_out_at) -> dict:
    """The parameters of ``READ_BESIDE`` for a write of the person's stay check_in_at ..
    check_out_at: what ``_read`` reads for its dates. They read nothing (all None) unless the
    person's credit lock is held already and the stay's dates are in one month."""
    first, last = local_date(check_in_at), local_date(check_out_at)
    if (first.year, first.month) != (last.year, last.month) or \
            user_id not in held_locks(session, "credit"):
        return dict.fromkeys(_BESIDE_KEYS)
    start, end = local_day_bounds(first, last)
    return {"cr_user": user_id, "cr_start": start, "cr_end": end,
            "cr_first": first.replace(day=1), "cr_last": _month_end(first),
            "cr_december": date(first.year, 12, 1)}


class ReadBeside(NamedTuple):
    """What a visit's write read with ``READ_BESIDE`` (``row``: its three columns) bound to
    ``params``, and the visit it wrote (its id and status as written)."""
    params: dict
    row: tuple
    visit_id: int
    status: str

    def parsed(self, check_in_at, check_out_at) -> tuple[list[Stay], dict, dict]:
        """What ``_read`` returns for the stay's dates, the stay written being as written."""
        stays_json, days_json, year_seconds = self.row
        stays = [Stay(datetime.fromisoformat(start), datetime.fromisoformat(end))
                 for visit_id, start, end in stays_json or () if visit_id != self.visit_id]
        if self.status in COUNTING_STATUSES:
            stays.append(Stay(check_in_at, check_out_at))
        kept = {date.fromisoformat(day): tuple(values) for day, *values in days_json or ()}
        december = self.params["cr_december"]
        return stays, kept, ({} if year_seconds is None else {december.year: year_seconds})


def _write_days(connection, user_id: int, wanted: dict, kept: dict, years: dict) -> None:
    """Write the wanted (seconds, halves) of the changed dates over the kept day rows
    (date → seconds, halves and the month's running totals) of the months they fall in;
    ``years``: the credited seconds of each of their years that has month rows."""
    by_month: dict[date, list[date]] = defaultdict(list)
    for day in wanted:
        by_month[day.replace(day=1)].append(day)
    kept_by_month: dict[date, list[date]] = defaultdict(list)
    for day in kept:
        kept_by_month[day.replace(day=1)].append(day)
    inserts, updates, deletes, shifts = [], [], [], []
    month_deltas: dict[int, list[tuple[date, int, int]]] = defaultdict(list)
    for month in sorted(by_month):
        last_changed = max(by_month[month])
        delta_s = delta_h = run_s = run_h = 0
        later = False
        for day in sorted(set(by_month[month]) | set(kept_by_month[month])):
            if day > last_changed:
                later = True
                break
            old = kept.get(day)
            if day in wanted:
                s, h = wanted[day]
                delta_s += s - (old[0] if old else 0)
                delta_h += h - (old[1] if old else 0)
            else:
                s, h = old[0], old[1]
            if s <= 0:
                if old is not None:
                    deletes.append({"b_user_id": user_id, "b_day": day})
                continue
            run_s, run_h = run_s + s, run_h + h
            if old is None:
                inserts.append({"user_id": user_id, "day": day, "seconds": s, "halves": h,
                                "month_seconds_to_date": run_s, "month_halves_to_date": run_h})
            elif old != (s, h, run_s, run_h):
                updates.append({"b_user_id": user_id, "b_day": day, "b_seconds": s,
                                "b_halves": h, "b_month_seconds": run_s,
                                "b_month_halves": run_h})
        if later and (delta_s or delta_h):
            shifts.append({"b_user_id": user_id, "b_after": last_changed,
                           "b_through": _month_end(month), "b_seconds": delta_s,
                           "b_halves": delta_h})
        if delta_s or delta_h:
            month_deltas[month.year].append((month, delta_s, delta_h))
    writes = [("delete_day", deletes), ("update_day", updates), ("insert_day", inserts),
              ("shift_days", shifts)]
    postgres = connection.dialect.name == "postgresql"
    for year, deltas in month_deltas.items():
        writes += _shift_year(user_id, year, deltas, years.get(year), postgres)
    _run_writes(connection, [(name, rows) for name, rows in writes if rows])


def _shift_year(user_id: int, year: int, deltas: list[tuple[date, int, int]],
                seconds: int | None, postgres: bool) -> list[tuple[str, list[dict]]]:
    """The writes that add each changed month's difference to its month row and to the
    year's running totals of it and the later months; that write the twelve rows of a year's
    first credit (``seconds``, the year's credited seconds, is None: it has no month rows);
    and that drop them when the year is left without any. (``postgres``: a first credit of
    one month is written by ``_FIRST_MONTH``, from five parameters.)"""
    december = date(year, 12, 1)
    if seconds is None:  # no month rows yet: none of the year's days had credit
        if len(deltas) == 1 and postgres:
            (month, delta_s, delta_h), = deltas
            return [("first_month", [{"user_id": user_id, "year": year, "changed": month.month,
                                      "seconds": delta_s, "halves": delta_h}])]
        sums = {m.month: (s, h) for m, s, h in deltas}
        return [("insert_months",
                 _dense_rows(user_id, year, [sums.get(k, (0, 0)) for k in range(1, 13)]))]
    writes = [("shift_months", [{
        "b_user_id": user_id, "b_month": month, "b_december": december,
        "b_seconds": delta_s, "b_halves": delta_h}]) for month, delta_s, delta_h in deltas]
    if seconds + sum(delta_s for _, delta_s, _ in deltas) <= 0:
        writes.append(("delete_year", [{"user_id": user_id, "january": date(year, 1, 1),
                                        "december": december}]))
    return writes


_WRITES = {"delete_day": _DELETE_DAY, "update_day": _UPDATE_DAY, "insert_day": _INSERT_DAY,
           "shift_days": _SHIFT_DAYS, "shift_months": _SHIFT_MONTHS,
           "insert_months": _INSERT_MONTHS, "first_month": _FIRST_MONTH,
           "delete_year": _DELETE_YEAR}
_TOGETHER: BoundedCache = BoundedCache(64)  # by the writes' names and numbers of rows


def _run_writes(connection, writes: list[tuple[str, list[dict]]]) -> None:
    """Run the writes in order. On PostgreSQL, when no two of them touch the same row, they are
    one statement (data-modifying WITH queries, one per row): the day rows written, deleted and
    shifted are apart by construction (a month's later days shift, its changed days are
    written), and so are one year's month rows with one month's shift. Two months of a year
    shifted, or a year's rows shifted and dropped, touch the same rows: those run in turn."""
    names = [name for name, _ in writes]
    apart = (names.count("shift_months") <= 1 and "delete_year" not in names
             and "insert_months" not in names)  # twelve rows: too many parameters
    if connection.dialect.name != "postgresql" or len(writes) < 2 or not apart:
        for name, rows in writes:
            connection.execute(_WRITES[name], rows)
        return
    shape = tuple((name, len(rows)) for name, rows in writes)
    statement = _TOGETHER.get_or_make(shape, lambda: _together(shape))
    params = {f"{key}_{i}_{j}": value for i, (_, rows) in enumerate(writes)
              for j, row in enumerate(rows) for key, value in row.items()}
    connection.execute(statement, params)


def _together(shape: tuple[tuple[str, int], ...]):
    """One statement of the writes of ``shape``: each row's write a WITH query of its own,
    its parameters named apart (``<name>_<write>_<row>``)."""
    ctes = []
    for i, (name, count) in enumerate(shape):
        for j in range(count):
            suffix = f"_{i}_{j}"

            def rename(element, suffix=suffix):
                if isinstance(element, BindParameter) and not element.unique:
                    return bindparam(element.key + suffix, type_=element.type)
                return None
            ctes.append(replacement_traverse(_WRITES[name], {}, rename).cte(f"w{i}_{j}"))
    return select(literal_column("1")).add_cte(*ctes)


# --- rebuilding from the visits (recompute-credits) --------------------------------------------

def refresh(user_id: int, first: date, last: date) -> None:
    """Recompute the person's credits for the whole months around first..last, with the
    running totals of each month and of each year they touch, from scratch."""
    first, last = first.replace(day=1), _month_end(last)
    thresholds = _thresholds(user_id)
    seconds = seconds_by_date(counting_stays(user_id, first, last), zone())
    db.session.execute(delete(DayCredit).where(
        DayCredit.user_id == user_id, DayCredit.day.between(first, last)))
    rows, month, running = [], None, [0, 0]
    for day, s in sorted(seconds.items()):
        if not first <= day <= last or s <= 0:
            continue
        if day.replace(day=1) != month:
            month, running = day.replace(day=1), [0, 0]
        halves = int(credit_for(s, thresholds) * 2)
        running = [running[0] + s, running[1] + halves]
        rows.append({"user_id": user_id, "day": day, "seconds": s, "halves": halves,
                     "month_seconds_to_date": running[0], "month_halves_to_date": running[1]})
    if rows:
        db.session.execute(insert(DayCredit), rows)
    for year in range(first.year, last.year + 1):
        _refresh_months(user_id, year)


def _refresh_months(user_id: int, year: int) -> None:
    """Rewrite the year's twelve month rows (sums and running totals) from its day rows.

    Every month of a year with any credit has a row, months without credit included, so the
    running total through any month is one row away.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    db.session.execute(delete(MonthCredit).where(
        MonthCredit.user_id == user_id, MonthCredit.month.between(start, end)))
    rows = dense_month_rows(user_id, year, db.session.execute(
        select(DayCredit.day, DayCredit.seconds, DayCredit.halves).where(
            DayCredit.user_id == user_id, DayCredit.day.between(start, end))))
    if rows:
        db.session.execute(insert(MonthCredit), rows)


def dense_month_rows(user_id: int, year: int, day_rows) -> list[dict]:
    """Twelve month rows with sums and running totals from (day, seconds, halves) rows;
    none when there are no day rows."""
    sums = [[0, 0] for _ in range(12)]
    seen = False
    for day, seconds, halves in day_rows:
        sums[day.month - 1][0] += seconds
        sums[day.month - 1][1] += halves
        seen = True
    if not seen:
        return []
    return _dense_rows(user_id, year, sums)


def _dense_rows(user_id: int, year: int, sums) -> list[dict]:
    """The twelve month rows of a year from each month's (seconds, halves)."""
    rows, running = [], [0, 0]
    for index, (seconds, halves) in enumerate(sums):
        running = [running[0] + seconds, running[1] + halves]
        rows.append({"user_id": user_id, "month": date(year, index + 1, 1), "seconds": seconds,
                     "halves": halves, "year_seconds_to_date": running[0],
                     "year_halves_to_date": running[1]})
    return rows


def _month_after(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def recompute_all(user_ids: Iterable[int], progress=None) -> None:
    """Rebuild every credit of these people from their visits (``recompute-credits``)."""
    session = db.session()
    for user_id in user_ids:
        lock_person(session, user_id)
        session.info.get(READS_KEY, {}).pop(user_id, None)  # read before the rows it rewrites
        span = db.session.execute(select(func.min(Visit.check_in_at), func.max(Visit.check_out_at))
                                  .where(Visit.user_id == user_id)).one()
        db.session.execute(delete(DayCredit).where(DayCredit.user_id == user_id))
        db.session.execute(delete(MonthCredit).where(MonthCredit.user_id == user_id))
        if span[0] is not None and span[1] is not None:
            refresh(user_id, local_date(span[0]), local_date(span[1]))
        if progress is not None:
            progress(user_id)
    db.session.commit()
