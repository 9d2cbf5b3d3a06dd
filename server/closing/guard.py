"""Refusing writes to a closed year (RULES.md §9), and the lock a write and a closing share.

A write and a closing never interleave. Each guarded write first takes year Y's lock shared,
then looks for a closing; a closing takes it exclusively before it looks at anything, so it
waits for the writes in flight to commit (and counts them), and writes that come after it wait
for its commit and are refused. On PostgreSQL the lock is a transaction-scoped advisory lock;
on a SQLite file it is the app's one writers' turn (``server/sqlite_writers.py``), taken before
the first read. Either way a check-out racing a closing lands wholly before it or is refused.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import ARRAY, Integer, bindparam, func, select

from .. import clock
from ..auth.models import User
from ..db_types import core_rows, held_locks
from ..errors import ApiError, Conflict
from ..extensions import db
from ..org.models import Unit
from ..schemas import FIRST_DAY
from .models import Closing

if TYPE_CHECKING:
    from ..visits.models import Visit

LOCK_CLASS = 0x5A43  # the first key of the advisory locks (one per year) closings take: "ZC"


# One statement takes the locks of several years, in order (shared; a closing's: exclusive).
_YEARS = func.unnest(bindparam("years", type_=ARRAY(Integer))).table_valued("y").render_derived(
    name="years")
_KEY = bindparam("key", type_=Integer)
_HOLD_SHARED = select(func.pg_advisory_xact_lock_shared(_KEY, _YEARS.c.y))
_HOLD_EXCLUSIVE = select(func.pg_advisory_xact_lock(_KEY, _YEARS.c.y))
# One year's lock, shared: as a column, another statement takes it with its row (a check-out
# with the read of its visit: one round trip less; call ``lock_taken`` then). Nearly every
# write touches one year: its lock without an array to send (which cost a check-in on
# PostgreSQL a third of a millisecond more).
HOLD_COLUMN = func.pg_advisory_xact_lock_shared(
    bindparam("hold_key", type_=Integer), bindparam("hold_year", type_=Integer)).label("held")
_HOLD_ONE_SHARED = select(HOLD_COLUMN)


def hold_column_params(year: int) -> dict:
    """The parameters of ``HOLD_COLUMN``; call ``lock_taken`` once its row was read."""
    return {"hold_key": LOCK_CLASS, "hold_year": year}


def lock_taken(year: int) -> None:
    """A statement with ``HOLD_COLUMN`` gave its row: the year's lock is held."""
    held_locks(db.session(), "closing").add(year)


def hold(years, exclusive: bool = False) -> None:
    """Order this transaction against closings of ``years`` (see the module's docstring)."""
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        held = held_locks(db.session(), "closing")  # shared, by year
        years = sorted(set(years) - (set() if exclusive else held))
        if not years:
            return
        if len(years) == 1 and not exclusive:
            connection.execute(_HOLD_ONE_SHARED, hold_column_params(years[0]))
        else:
            connection.execute(_HOLD_EXCLUSIVE if exclusive else _HOLD_SHARED,
                               {"key": LOCK_CLASS, "years": years})
        if not exclusive:
            held.update(years)
        return
    take_turn = getattr(connection.connection.dbapi_connection, "take_turn", None)
    if take_turn is not None:
        take_turn()


# --- refusing writes to a closed year ---------------------------------------------------------

def hold_every_year() -> None:
    """``hold`` every year a closing could be of (before reading every closing in force)."""
    hold(range(FIRST_DAY.year, clock.today().year + 1))


# Composed once, at import (composing a statement costs a write more than running it): every
# closing in force, a handful of rows a county a year, filtered by year here.
_IN_FORCE = (select(Closing.__table__.c.year, Unit.__table__.c.path, Closing.__table__.c.as_of)
             .join(Unit.__table__, Closing.__table__.c.unit_id == Unit.__table__.c.id)
             .where(Closing.__table__.c.reopened_at.is_(None))
             .order_by(Closing.__table__.c.year))


def in_force(years=None) -> list[tuple[int, str, date]]:
    """The closings in force (of ``years``, or all): year, the county's path, as-of date."""
    rows = core_rows(db.session(), _IN_FORCE, {})
    wanted = None if years is None else set(years)
    return [tuple(row) for row in rows if wanted is None or row[0] in wanted]


def refuse_closed(closings, years, units) -> None:
    """409 ``period_closed`` when one of ``years`` is closed (in ``closings``, from
    ``in_force``) for a county holding one of ``units``."""
    wanted = set(years)
    paths = [unit.path for unit in units if unit is not None]
    for year, county, _ in closings:
        if year in wanted and any(path.startswith(county) for path in paths):
            raise Conflict("period_closed", body={"year": year})


# How many closings in force there are of the years first..last: a scalar subquery a write's
# own statement returns, when the write is made before the check is finished (``Held``).
COUNT_IN_FORCE = (select(func.count()).select_from(Closing.__table__)
                  .where(Closing.__table__.c.reopened_at.is_(None),
                         Closing.__table__.c.year.between(
                             bindparam("closing_first", type_=Integer),
                             bindparam("closing_last", type_=Integer)))
                  .scalar_subquery())


class Held:
    """A write's closing check with its lock held and the closings not yet read.

    A write can be made before the check is finished (in the same transaction, which a refusal
    rolls back): its own statement returns ``COUNT_IN_FORCE`` bound with ``params``, read after
    the lock like a query of its own would be, and ``settle(count)`` finishes the check; only
    when a closing of those years is in force are the closings read and compared with the
    units. This saves a write on PostgreSQL a round trip. ``settle()`` with no count reads
    them: ``ahead()`` does so before a refusal raised in its block, so that a closed year is
    said first whatever else is wrong.
    """

    __slots__ = ("years", "_units")

    def __init__(self, years: list[int], units):
        self.years = years
        self._units = units  # the units, or a callable giving them (read only when needed)

    @property
    def params(self) -> dict:
        if not self.years:  # nothing to count: an empty range
            return {"closing_first": 1, "closing_last": 0}
        return {"closing_first": self.years[0], "closing_last": self.years[-1]}

    def settle(self, count: int | None = None) -> None:
        """Refuse (``period_closed``) when a closing of these years is in force for a county
        holding one of the units; ``count``: what ``COUNT_IN_FORCE`` returned (None: not read)."""
        if not self.years or count == 0:
            return
        units = self._units() if callable(self._units) else self._units
        refuse_closed(in_force(self.years), self.years, units)

    def again(self) -> None:
        """The whole check anew, the lock taken again (after a rollback released it)."""
        if self.years:
            hold(self.years)
        self.settle()

    @contextmanager
    def ahead(self):
        """A refusal raised in the block is preceded by this check's."""
        try:
            yield
        except ApiError:
            self.settle()
            raise


def hold_open(years, units) -> Held:
    """Take the closing lock of ``years`` for a write in ``units`` (``ensure_open``), leaving
    the closings to be read later (``Held``)."""
    years = sorted({y for y in years if y is not None and y <= clock.today().year})
    if years:  # a year to come cannot be closed yet
        hold(years)
    return Held(years, units)


def ensure_open(years, units) -> None:
    """Refuse (409 ``period_closed``) a write touching ``years`` for someone in ``units`` (the
    units of the posts of the person whose results it changes, or the county whose calendar
    it is) when one of those years is closed for a county holding one of the units."""
    hold_open(years, units).settle()


def opening_day(closings, units) -> date | None:
    """1 January of the year after the latest closed year of a county holding one of
    ``units``: where a new person's post or first links would otherwise hold "from always"
    (and so change the closed years), they start then (docs/decisions.md, "Closing a year")."""
    paths = [unit.path for unit in units if unit is not None]
    years = [year for year, county, _ in closings if any(p.startswith(county) for p in paths)]
    return date(max(years) + 1, 1, 1) if years else None


def changed_years(old: date | None, new: date | None, *, end: bool) -> range:
    """The years whose results a moved date (a post's start, or with ``end`` its end) changes:
    every year between the old and the new one (an open start: from the first year; an open
    end: through next year)."""
    if old == new:
        return range(0)
    open_end = date(clock.today().year + 1, 12, 31) if end else FIRST_DAY
    dates = [d if d is not None else open_end for d in (old, new)]
    return range(min(dates).year, max(dates).year + 1)


def _touches(first: date | None, last: date | None, years) -> bool:
    return any((first is None or first.year <= y) and (last is None or y <= last.year)
               for y in years)


def person_units(person: User, years, *more: Unit | None) -> list[Unit | None]:
    """The units of the person's posts in ``years`` (one post: their unit, no query), and
    ``more``: a person who left a county before its closed year is not held by it."""
    if person.several_posts:
        held = [post.unit for post in person.posts
                if _touches(post.starts_on, post.ends_on, years)]
    else:
        held = [person.unit] if _touches(person.active_from, person.active_until, years) else []
    return [*held, *more]


def hold_person(person: User, years, *more: Unit | None) -> Held:
    """``hold_open`` for a write that changes ``person``'s results in ``years``."""
    years = list(years)
    return hold_open(years, lambda: person_units(person, years, *more))


def ensure_person_open(person: User, years, *more: Unit | None) -> None:
    """``ensure_open`` for a write that changes ``person``'s results in ``years``."""
    hold_person(person, years, *more).settle()


def years_between(first: date | None, last: date | None) -> range:
    """The years a span of dates touches (an open end: up to the year after today)."""
    start = (first or FIRST_DAY).year
    end = (last.year if last is not None else clock.today().year + 1)
    return range(start, end + 1)


def visit_years(check_in_at, check_out_at=None) -> range:
    """The years a visit's credits fall in: from its check-in date to its check-out's."""
    last = max(check_out_at or check_in_at, check_in_at)
    return range(clock.local_date(check_in_at).year, clock.local_date(last).year + 1)


def hold_visit(visit: Visit, check_out_at=None) -> Held:
    """A visit's writes are of the years its credits fall in, in its person's units."""
    return hold_person(visit.user, visit_years(visit.check_in_at,
                                               check_out_at or visit.check_out_at))


def ensure_visit_open(visit: Visit, check_out_at=None) -> None:
    """``hold_visit``, the check finished at once."""
    hold_visit(visit, check_out_at).settle()


def ensure_calendar_open(year: int, county: Unit | None) -> None:
    """A county's calendar of a closed year is fixed; so is the deployment-wide one of a year
    any county has closed (a county without its own calendar uses it)."""
    if county is not None:
        ensure_open([year], [county])
        return
    hold([year])
    if in_force([year]):
        raise Conflict("period_closed", body={"year": year})
