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

from pypinyin import lazy_pinyin
from sqlalchemy import func, literal, select, true, union, union_all

from .. import policy
from ..auth.models import User
from ..compliance.engine import Person, RuleResult, evaluate, frame, period_containing
from ..compliance.rules import Rule
from ..extensions import db
from ..org.models import Unit
from ..reports.models import ThematicReport
from .credits import zone
from .facts import COUNTING_REPORTS, facts_for_people, working_calendar
from .models import Absence, DayCredit, MonthCredit, OpeningBalance

FIELD_ROLES = ("cadre", "secretary")
SUMMED_METRICS = ("village_days", "village_hours", "thematic_reports")


@dataclass(frozen=True, slots=True)
class PersonRow:
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
    sums: tuple  # halves, seconds, reports for each summed period start, in ``starts`` order

    def summary(self) -> dict:
        return {"id": self.id, "name": self.name, "username": self.username, "role": self.role,
                "unit_code": self.unit_code, "unit_name": self.unit_name}


@lru_cache(maxsize=200_000)
def pinyin_key(name: str) -> tuple[str, ...]:
    """The name's pinyin, for sorting; cached because names repeat and never change."""
    return tuple(lazy_pinyin(name))


def _totals_through(people, through: date, seconds: bool):
    """Per person, credits from 1 January through ``through``: the year's running total in
    the month row before it (every month of a credited year has one) plus, within its own
    month, the month's running total at the last credited day — the largest, since running
    totals never fall. A township reads a few index entries; a province one scan."""
    in_month, in_year = ((DayCredit.month_seconds_to_date, MonthCredit.year_seconds_to_date)
                         if seconds else
                         (DayCredit.month_halves_to_date, MonthCredit.year_halves_to_date))
    month_ends = (through + timedelta(days=1)).day == 1
    whole_month = through.replace(day=1) if month_ends else _month_before(through)
    parts = []
    if whole_month is not None:
        parts.append(select(MonthCredit.user_id.label("uid"), in_year.label("total")).where(
            _among(MonthCredit.user_id, people), MonthCredit.month == whole_month))
    if not month_ends:
        parts.append(select(DayCredit.user_id.label("uid"), func.max(in_month).label("total"))
                     .where(_among(DayCredit.user_id, people),
                            DayCredit.day >= through.replace(day=1), DayCredit.day <= through)
                     .group_by(DayCredit.user_id))
    if len(parts) == 1:
        return parts[0]
    both = union_all(*parts).subquery()
    return select(both.c.uid, func.sum(both.c.total).label("total")).group_by(both.c.uid)


def _month_before(day: date) -> date | None:
    """The first of the previous month within the same year, or None in January."""
    return None if day.month == 1 else date(day.year, day.month - 1, 1)


def _among(column, people):
    """``column IN people``; everyone (None) needs no filter."""
    return true() if people is None else column.in_(people)


def _credits_between(people, start: date, as_of: date, seconds: bool):
    """Per person: halves (or seconds) from ``start`` through ``as_of`` within one year."""
    total = _totals_through(people, as_of, seconds).subquery()
    if start.month == 1 and start.day == 1:
        return total
    earlier = _totals_through(people, start - timedelta(days=1), seconds).subquery()
    return select(total.c.uid, (total.c.total - func.coalesce(earlier.c.total, 0))
                  .label("total")).outerjoin(earlier, earlier.c.uid == total.c.uid).subquery()


def _reports_between(people, start: date, as_of: date):
    return select(ThematicReport.user_id.label("uid"), func.count().label("total")).where(
        _among(ThematicReport.user_id, people), ThematicReport.status.in_(COUNTING_REPORTS),
        ThematicReport.reported_on.between(start, as_of)).group_by(
        ThematicReport.user_id).subquery()


def _special(people, as_of: date):
    """People whose results need the exact path: absences or an opening balance this year."""
    year_start, year_end = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    return union(
        select(Absence.user_id.label("uid")).where(
            _among(Absence.user_id, people), Absence.status == "approved",
            Absence.end_date >= year_start, Absence.start_date <= year_end),
        select(OpeningBalance.user_id).where(_among(OpeningBalance.user_id, people),
                                             OpeningBalance.year == as_of.year),
    ).subquery()


def _in_scope(query, actor: User, unit: Unit | None):
    """Field users of the unit (or of the actor's whole scope) the actor may read."""
    query = query.where(User.role.in_(FIELD_ROLES))
    if unit is not None:
        query = query.where(Unit.path.startswith(unit.path, autoescape=True))
    return policy.readable_people(actor, policy.readable_units(actor, query), User.id)


def read_people(actor: User, unit: Unit | None, as_of: date, starts: list[date],
                hours: bool = False, reports: bool = True) -> list[PersonRow]:
    """Everyone in the roll-up with their unit and totals, in one statement."""
    people = _in_scope(select(User.id).join(Unit, User.unit_id == Unit.id), actor, unit)
    everyone = unit is None and actor.role == "admin" and actor.unit_id is None
    if everyone:  # the derived tables need no filter; the outer query still has one
        people = None
    special = _special(people, as_of)
    columns = [User.id, User.name, User.username, User.role, User.unit_id, User.active_from,
               User.active_until, Unit.code, Unit.name, Unit.path, special.c.uid.is_not(None)]
    query = select(User).join(Unit, User.unit_id == Unit.id).outerjoin(
        special, special.c.uid == User.id)
    for start in starts:
        parts = [_credits_between(people, start, as_of, seconds=False),
                 _credits_between(people, start, as_of, seconds=True) if hours else None,
                 _reports_between(people, start, as_of) if reports else None]
        for part in parts:
            if part is None:
                columns.append(literal(0))
                continue
            query = query.outerjoin(part, part.c.uid == User.id)
            columns.append(func.coalesce(part.c.total, 0))
    query = _in_scope(query.with_only_columns(*columns), actor, unit)
    return [PersonRow(*row[:10], bool(row[10]), tuple(row[11:]))
            for row in db.session.execute(query)]


def _county_of(rows: list[PersonRow], ruleset) -> dict[str, str | None]:
    """unit path → county code; only read when some county has rules of its own."""
    if not ruleset.by_county:
        return {}
    counties = dict(db.session.execute(select(Unit.path, Unit.code).where(
        Unit.level == "county")).all())
    found = {}
    for path in {r.unit_path for r in rows}:
        found[path] = next((code for county_path, code in counties.items()
                            if path.startswith(county_path)), None)
    return found


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
    counties = _county_of(people, ruleset)
    calendar = working_calendar()
    slow = bool(all_rules - fast)
    exact = _exact_facts([p for p in people if slow or p.special or p.active_from
                          or p.active_until], all_rules, as_of)
    plan: dict = {}
    results_cache: dict = {}
    rows = []
    for person in sorted(people, key=lambda p: (p.unit_code, pinyin_key(p.name), p.name, p.id)):
        book = ruleset.for_county(counties.get(person.unit_path))
        if person.id in exact:
            results = _exact_results(person, book, exact[person.id], calendar, as_of)
        else:
            key = (id(book), person.role)
            if key not in plan:
                plan[key] = _frames(book.rules_for(person.role), person.role, fast, starts,
                                    calendar, as_of)
            results = [_cached_result(results_cache, shape, rule, index, person)
                       for rule, shape, index in plan[key]]
        if results:
            rows.append((person, results))
    return rows


def _frames(rules: list[Rule], role: str, fast, starts, calendar, as_of):
    """(rule, frame, index of its sums) for the rules that apply to the role."""
    planned = []
    for rule in rules:
        shape = frame(rule, Person(role), (), calendar, as_of)
        if shape is not None:
            planned.append((rule, shape, starts.index(shape.period.start)))
    return planned


def _cached_result(cache: dict, shape, rule: Rule, index: int, person: PersonRow) -> RuleResult:
    halves, seconds, reports = person.sums[3 * index:3 * index + 3]
    if rule.metric == "thematic_reports":
        key = (id(shape), "n", reports)
    elif rule.metric == "village_days":
        key = (id(shape), "h", halves)
    else:
        key = (id(shape), "s", seconds)
    if key not in cache:
        actual = Fraction(key[2], {"n": 1, "h": 2, "s": 3600}[key[1]])
        cache[key] = shape.result(actual)
    return cache[key]


def _exact_facts(people: list[PersonRow], rules: set[Rule], as_of: date) -> dict:
    if not people:
        return {}
    chosen = {p.id: p for p in people}
    ids = select(User.id).where(User.id.in_(list(chosen)))
    return facts_for_people(ids, chosen, sorted(rules, key=lambda r: r.id), as_of, zone())


def _exact_results(person: PersonRow, book, facts, calendar, as_of) -> list[RuleResult]:
    who = Person(person.role, person.active_from, person.active_until)
    results = (evaluate(rule, who, facts, calendar, as_of, zone(), book.thresholds)
               for rule in book.rules_for(person.role))
    return [r for r in results if r is not None]
