"""The roll-up of a unit: every person's results, fast enough for a province.

Most people share everything but what they did: the same rules, no active dates, no
absences, no opening balance. For them a result is a shared ``Frame`` (computed once per rule
and role) applied to sums the database adds up from month and day credits — all read in one
statement. Everyone else, and every rule that needs the visits themselves, goes through the
same exact path as a single person's results (``facts_for_people`` + ``evaluate``), and a
test holds both paths to the same answers.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from operator import itemgetter

from pypinyin import lazy_pinyin
from sqlalchemy import Date, and_, bindparam, func, literal, or_, select, true, union, union_all

from .. import policy
from ..auth.models import FIELD_ROLES, User
from ..cache import BoundedCache
from ..clock import zone
from ..compliance.engine import (
    Person,
    RuleResult,
    evaluate,
    frame,
    period_containing,
    rules_known_on,
)
from ..compliance.rules import Rule
from ..extensions import db
from ..org import posts
from ..org.models import Dated, Post, Unit
from ..reports.models import ThematicReport
from .facts import COUNTING_REPORTS, facts_for_people, working_calendar
from .models import DEPLOYMENT_WIDE, Absence, CalendarDay, DayCredit, MonthCredit, OpeningBalance

SUMMED_METRICS = ("village_days", "village_hours", "thematic_reports")


_FIELDS = ("id", "name", "username", "role", "unit_id", "active_from", "active_until",
           "unit_code", "unit_name", "unit_path", "special", "post_ended")
SUMS_AT = len(_FIELDS)


class PersonRow(tuple):
    """A person of the roll-up as the statement returns them: the fields above by name, then
    halves, seconds and reports for each summed period start, in ``starts`` order (``sums``).
    A tuple, because a province makes 10^5 of them and each costs one copy of the row."""

    __slots__ = ()
    id: int
    name: str
    username: str
    role: str
    unit_id: int
    active_from: date | None
    active_until: date | None
    unit_code: str
    unit_name: str
    unit_path: str
    special: bool
    post_ended: bool  # shown under their last post, which ended before as_of (RULES.md §8)

    @property
    def sums(self) -> tuple:
        return self[SUMS_AT:]

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "username": self.username, "role": self.role,
                "unit_code": self.unit_code, "unit_name": self.unit_name}


for _at, _name in enumerate(_FIELDS):
    setattr(PersonRow, _name, property(itemgetter(_at)))


@lru_cache(maxsize=200_000)
def pinyin_key(name: str) -> tuple[str, ...]:
    """The name's pinyin, for sorting; cached because names repeat and never change."""
    return tuple(lazy_pinyin(name))


@dataclass(frozen=True, slots=True)
class _Through:
    """Where credits from 1 January through a day are kept: the year's running total in the
    month row before the day's month (``month``; every month of a credited year has one), plus,
    within the day's own month, the month's running total at the last credited day (``days``,
    first to last; the largest, since running totals never fall). At a month's end the month
    row alone says it. A township reads a few index entries; a province one scan."""
    month: date | None
    days: tuple[date, date] | None

    @classmethod
    def of(cls, through: date) -> _Through:
        if (through + timedelta(days=1)).day == 1:
            return cls(through.replace(day=1), None)
        before = None if through.month == 1 else date(through.year, through.month - 1, 1)
        return cls(before, (through.replace(day=1), through))

    @property
    def shape(self) -> tuple[bool, bool]:
        return self.month is not None, self.days is not None


def _totals_through(people, name: str, shape: tuple[bool, bool], seconds: bool):
    """Per person, credits from 1 January through a day read as ``_Through`` says, with its
    dates left as parameters named after ``name``."""
    in_month, in_year = ((DayCredit.month_seconds_to_date, MonthCredit.year_seconds_to_date)
                         if seconds else
                         (DayCredit.month_halves_to_date, MonthCredit.year_halves_to_date))
    by_month, by_days = shape
    parts = []
    if by_month:
        parts.append(select(MonthCredit.user_id.label("uid"), in_year.label("total")).where(
            _among(MonthCredit.user_id, people),
            MonthCredit.month == bindparam(f"{name}_month", type_=Date)))
    if by_days:
        parts.append(select(DayCredit.user_id.label("uid"), func.max(in_month).label("total"))
                     .where(_among(DayCredit.user_id, people),
                            DayCredit.day >= bindparam(f"{name}_first", type_=Date),
                            DayCredit.day <= bindparam(f"{name}_last", type_=Date))
                     .group_by(DayCredit.user_id))
    if len(parts) == 1:
        return parts[0]
    both = union_all(*parts).subquery()
    return select(both.c.uid, func.sum(both.c.total).label("total")).group_by(both.c.uid)


def _through_params(name: str, through: _Through) -> dict:
    params = {}
    if through.month is not None:
        params[f"{name}_month"] = through.month
    if through.days is not None:
        params[f"{name}_first"], params[f"{name}_last"] = through.days
    return params


def _among(column, people):
    """``column IN people``; everyone (None) needs no filter."""
    return true() if people is None else column.in_(people)


@dataclass(frozen=True, slots=True)
class _Window:
    """Credits from ``start`` through ``as_of`` (one year): what is kept through ``as_of``
    less what is kept through the day before ``start`` (nothing when it is 1 January)."""
    start: date
    to: _Through
    before: _Through | None

    @classmethod
    def of(cls, start: date, as_of: date) -> _Window:
        first = start.month == 1 and start.day == 1
        return cls(start, _Through.of(as_of),
                   None if first else _Through.of(start - timedelta(days=1)))

    @property
    def shape(self) -> tuple:
        return self.to.shape, self.before.shape if self.before else None

    def params(self, name: str) -> dict:
        params = {f"{name}_start": self.start, **_through_params(f"{name}_to", self.to)}
        if self.before is not None:
            params.update(_through_params(f"{name}_before", self.before))
        return params


def _credits_between(people, name: str, shape: tuple, seconds: bool):
    """Per person: halves (or seconds) within a ``_Window`` of that shape."""
    to_shape, before_shape = shape
    total = _totals_through(people, f"{name}_to", to_shape, seconds).subquery()
    if before_shape is None:
        return total
    earlier = _totals_through(people, f"{name}_before", before_shape, seconds).subquery()
    return select(total.c.uid, (total.c.total - func.coalesce(earlier.c.total, 0))
                  .label("total")).outerjoin(earlier, earlier.c.uid == total.c.uid).subquery()


def _reports_between(people, name: str):
    return select(ThematicReport.user_id.label("uid"), func.count().label("total")).where(
        _among(ThematicReport.user_id, people), ThematicReport.status.in_(COUNTING_REPORTS),
        ThematicReport.reported_on.between(bindparam(f"{name}_start", type_=Date),
                                           bindparam("as_of", type_=Date))).group_by(
        ThematicReport.user_id).subquery()


def _special(people):
    """People whose results need the exact path: absences or an opening balance this year."""
    return union(
        select(Absence.user_id.label("uid")).where(
            _among(Absence.user_id, people), Absence.status == "approved",
            Absence.end_date >= bindparam("year_start", type_=Date),
            Absence.start_date <= bindparam("year_end", type_=Date)),
        select(OpeningBalance.user_id).where(_among(OpeningBalance.user_id, people),
                                             OpeningBalance.year == bindparam("year")),
    ).subquery()


def _in_scope(query, actor: User, unit: Unit | None):
    """Field users of the unit (or of the actor's whole scope) the actor may read, who hold
    one post begun by as_of (people with several are placed by ``_moved_people``)."""
    query = query.where(User.role.in_(FIELD_ROLES), User.several_posts.is_(False),
                        or_(User.active_from.is_(None),
                            User.active_from <= bindparam("as_of", type_=Date)))
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    return policy.readable_people(actor, policy.readable_units(actor, query), User.id,
                                  moved=False)


def read_people(actor: User, unit: Unit | None, as_of: date, starts: list[date],
                hours: bool = False, reports: bool = True) -> list[PersonRow]:
    """Everyone in the roll-up with their unit and totals, in one statement.

    The statement depends on who asks, for which unit, and on the shape of the dates (which
    month rows and day ranges to read), never on the dates themselves: those are parameters.
    So it is built once and reused, and the database driver's prepared plan with it.
    """
    windows = [_Window.of(start, as_of) for start in starts]
    scope = (actor.id, actor.role, actor.unit_id, actor.unit.path if actor.unit else None,
             unit.path if unit is not None else None)
    statement = _people_statement(scope, tuple(w.shape for w in windows), hours, reports,
                                  actor, unit)
    params = {"as_of": as_of, "year": as_of.year, "year_start": date(as_of.year, 1, 1),
              "year_end": date(as_of.year, 12, 31)}
    for i, window in enumerate(windows):
        params.update(window.params(f"w{i}"))
    make = tuple.__new__
    return [make(PersonRow, row)
            for row in db.session.connection().execute(statement, params)]


# Statements by (scope, date shapes, hours, reports): see ``read_people``.
_statements: BoundedCache = BoundedCache(256)


def _people_statement(scope: tuple, shapes: tuple, hours: bool, reports: bool, actor: User,
                      unit: Unit | None):
    """The roll-up's one statement for a scope and date shapes (kept; see ``read_people``)."""
    return _statements.get_or_make((scope, shapes, hours, reports),
                                   lambda: _build_statement(shapes, hours, reports, actor, unit))


def _build_statement(shapes: tuple, hours: bool, reports: bool, actor: User, unit: Unit | None):
    people = _in_scope(select(User.id).join(Unit, User.unit_id == Unit.id), actor, unit)
    if unit is None and actor.role == "admin" and actor.unit_id is None:
        people = None  # everyone: the derived tables need no filter; the outer query has one
    special = _special(people)
    ended = and_(User.active_until.is_not(None),
                 User.active_until < bindparam("as_of", type_=Date))
    columns = [User.id, User.name, User.username, User.role, User.unit_id, User.active_from,
               User.active_until, Unit.code, Unit.name, Unit.path, special.c.uid.is_not(None),
               ended]
    query = select(User).join(Unit, User.unit_id == Unit.id).outerjoin(
        special, special.c.uid == User.id)
    for i, shape in enumerate(shapes):
        parts = [_credits_between(people, f"w{i}", shape, seconds=False),
                 _credits_between(people, f"w{i}", shape, seconds=True) if hours else None,
                 _reports_between(people, f"w{i}") if reports else None]
        for part in parts:
            if part is None:
                columns.append(literal(0))
                continue
            query = query.outerjoin(part, part.c.uid == User.id)
            columns.append(func.coalesce(part.c.total, 0))
    return _in_scope(query.with_only_columns(*columns), actor, unit)


def _county_of(rows: list[PersonRow], needed: bool) -> dict[str, str | None]:
    """unit path → county code; only read when some county has rules or a calendar of its
    own."""
    if not needed:
        return {}
    counties = dict(db.session.execute(select(Unit.path, Unit.code).where(
        Unit.level == "county")).all())
    found = {}
    for path in {r.unit_path for r in rows}:
        found[path] = next((code for county_path, code in counties.items()
                            if path.startswith(county_path)), None)
    return found


def _counties_with_calendars() -> list[str]:
    """The counties that loaded a calendar of their own (most deployments: none)."""
    return list(db.session.scalars(select(CalendarDay.county_code).distinct().where(
        CalendarDay.county_code != DEPLOYMENT_WIDE)))


def rollup(actor: User, unit: Unit | None, as_of: date,
           ruleset) -> list[tuple[PersonRow, list[RuleResult]]]:
    """One row per person in the unit (or the actor's whole scope) with results, sorted by
    unit code and the name's pinyin."""
    collecting = gc.isenabled()
    gc.disable()  # a province allocates ~10^6 small objects that all live until the answer
    try:
        return _rollup(actor, unit, as_of, ruleset)
    finally:
        if collecting:
            gc.enable()


def _rollup(actor: User, unit: Unit | None, as_of: date,
            ruleset) -> list[tuple[PersonRow, list[RuleResult]]]:
    all_rules = {r for book in [ruleset.default, *ruleset.by_county.values()]
                 for r in book.rules}
    fast = {r for r in all_rules if r.metric in SUMMED_METRICS and not r.filtered}
    starts = sorted({period_containing(r.period, as_of).start for r in fast})
    hours = any(r.metric == "village_hours" for r in fast)
    reports = any(r.metric == "thematic_reports" for r in fast)
    people = read_people(actor, unit, as_of, starts, hours, reports)
    people.extend(_moved_people(actor, unit, as_of, len(starts)))
    own_calendars = _counties_with_calendars()
    counties = _county_of(people, bool(ruleset.by_county or own_calendars))
    calendars = {None: working_calendar()}
    calendars.update((code, working_calendar(code)) for code in own_calendars)
    slow = bool(all_rules - fast)
    exact, held = _exact_facts([p for p in people if slow or p.special or p.active_from
                                or p.active_until], all_rules, as_of)
    # Within this call a county fixes the book and the calendar, so the plan for a person is
    # one per (county, role): looked up here per person, made (or found in ``_plans``) once.
    plans: dict[tuple[str | None, str], list[_Step]] = {}
    rows = []
    by_county = bool(ruleset.by_county)
    for person in sorted(people, key=_order):
        county = counties.get(person.unit_path)
        if person.id in exact:
            book = ruleset.for_county(county) if by_county else ruleset.default
            calendar = calendars.get(county, calendars[None])
            results = _exact_results(person, held.get(person.id, ()), book, exact[person.id],
                                     calendar, as_of)
        else:
            plan = plans.get((county, person.role))
            if plan is None:
                book = ruleset.for_county(county) if by_county else ruleset.default
                calendar = calendars.get(county, calendars[None])
                plan = plans[county, person.role] = _plan(book, person.role, starts, calendar,
                                                          as_of)
            results = [_shared_result(step, person) for step in plan]
        if results:
            rows.append((person, results))
    return rows


def _order(person: PersonRow) -> tuple:
    """RULES.md §6: by unit code, then the name's pinyin (the name and id break ties)."""
    return person.unit_code, pinyin_key(person.name), person.name, person.id


@dataclass(slots=True)
class _Step:
    """One rule for everyone sharing a frame: which column of a person's row it reads, in what
    unit, and the results already made (people with the same sum share one; hours in
    seconds can take many values, so they are bounded)."""
    frame: object
    column: int
    per_unit: int
    made: BoundedCache[RuleResult]


_COLUMN = {"village_days": (0, 2), "village_hours": (1, 3600), "thematic_reports": (2, 1)}


# Plans by (the role's rules, role, period starts, calendar, date). Rules are frozen and
# hashable by content. A WorkingCalendar compares by identity; the key holds the calendar
# itself, so it cannot be freed (and its id reused) while the plan is kept, and
# ``working_calendar`` hands out one calendar per content while that is kept.
_plans: BoundedCache[list[_Step]] = BoundedCache(64)


def _plan(book, role: str, starts: list[date], calendar, as_of: date) -> list[_Step]:
    """The steps for the rules of the book that apply to the role.

    Frames and results are pure functions of the rule, the role, the calendar and the date, so
    a plan is kept for the next roll-up with the same ones (a supervisor's overview is read
    again and again on the same day); only the sums come fresh from the database each time.
    """
    rules = tuple(book.rules_for(role))
    return _plans.get_or_make((rules, role, tuple(starts), calendar, as_of),
                              lambda: _make_plan(rules, role, starts, calendar, as_of))


def _make_plan(rules: tuple[Rule, ...], role: str, starts: list[date], calendar,
               as_of: date) -> list[_Step]:
    planned = []
    for rule in rules:
        shape = frame(rule, Person(role), (), calendar, as_of)
        if shape is not None:
            offset, per_unit = _COLUMN[rule.metric]
            at = SUMS_AT + 3 * starts.index(shape.period.start) + offset
            planned.append(_Step(shape, at, per_unit, BoundedCache(100_000)))
    return planned


def _shared_result(step: _Step, person: PersonRow) -> RuleResult:
    value = person[step.column]
    made = step.made.get(value)
    if made is None:
        made = step.made.put(value, step.frame.result(Fraction(value, step.per_unit)))
    return made


def _exact_facts(people: list[PersonRow], rules: set[Rule], as_of: date) -> tuple[dict, dict]:
    """Facts and posts of the people who go through the exact path."""
    if not people:
        return {}, {}
    chosen = [p.id for p in people]
    ids = select(User.id).where(User.id.in_(chosen))
    return (facts_for_people(ids, chosen, sorted(rules, key=lambda r: r.id), as_of, zone()),
            posts.held(ids))


def _exact_results(person: PersonRow, held, book, facts, calendar, as_of) -> list[RuleResult]:
    who = Person(person.role, person.active_from, person.active_until, held)
    results = (evaluate(rule, who, facts, calendar, as_of, zone(), book.thresholds)
               for rule in rules_known_on(book.rules, who, as_of))
    return [r for r in results if r is not None]


@dataclass(frozen=True, slots=True)
class _PostRow(Dated):
    """A post as the roll-up reads it: with its unit's code, name and path, and its holder."""
    id: int
    user_id: int
    role: str
    starts_on: date | None
    ends_on: date | None
    unit_id: int | None
    unit_code: str | None
    unit_name: str | None
    unit_path: str | None
    name: str
    username: str


# The posts of people with several, touching the year up to as_of, of those with such a post
# within the roll-up's unit (a few per county; one statement, built once). Unit paths hold
# codes and "/" only, so LIKE needs no escaping.
_TOUCHING = and_(or_(Post.starts_on.is_(None), Post.starts_on <= bindparam("as_of", type_=Date)),
                 or_(Post.ends_on.is_(None), Post.ends_on >= bindparam("year_start", type_=Date)))
_MOVED = (select(Post.id, Post.user_id, Post.role, Post.starts_on, Post.ends_on, Post.unit_id,
                 Unit.code, Unit.name, Unit.path, User.name, User.username)
          .join(User, User.id == Post.user_id).outerjoin(Unit, Unit.id == Post.unit_id)
          .where(User.several_posts.is_(True), _TOUCHING, Post.user_id.in_(
              select(Post.user_id).join(Unit, Unit.id == Post.unit_id).where(
                  _TOUCHING, Unit.path.startswith(bindparam("within")))))
          .order_by(Post.user_id, Post.id))


def _moved_people(actor: User, unit: Unit | None, as_of: date, sums: int) -> list[PersonRow]:
    """People with several posts, placed where their post as of ``as_of`` puts them (RULES.md
    §8): under the unit of the post held then, or — ended — of their last post in that year.
    Their results go through the exact path, so their sums are left at 0. Only the posts in
    the roll-up's unit are read: where someone was shown elsewhere, a post of theirs there
    is what places them."""
    within = unit.path if unit is not None else actor.unit.path if actor.unit else "/"
    by_user: dict[int, list[_PostRow]] = {}
    for row in db.session.connection().execute(_MOVED, {
            "as_of": as_of, "year_start": date(as_of.year, 1, 1), "within": within}):
        by_user.setdefault(row.user_id, []).append(_PostRow(*row))
    rows = []
    for held in by_user.values():
        post, ended = posts.shown_on(held, as_of)
        if post is None or post.unit_path is None:
            continue
        if unit is not None and not post.unit_path.startswith(unit.path):
            continue
        if not _may_read(actor, post.unit_id, post.unit_path):
            continue
        ordered = posts.in_order(held)
        rows.append(tuple.__new__(PersonRow, (
            post.user_id, post.name, post.username, post.role, post.unit_id,
            ordered[0].starts_on, ordered[-1].ends_on, post.unit_code, post.unit_name,
            post.unit_path, True, ended) + (0,) * (3 * sums)))
    return rows


def _may_read(actor: User, unit_id: int, unit_path: str) -> bool:
    """Whether ``actor`` reads people shown under a unit (a secretary: their township)."""
    if actor.role == "secretary":
        return actor.unit_id == unit_id
    return policy.path_in_scope(actor, unit_path)
