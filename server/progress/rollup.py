"""The roll-up of a unit: every person's results, fast enough for a province.

Most people share everything but what they did: the same rules, no active dates, no
absences, no opening balance. For them a result is a shared ``Frame`` (computed once per rule
and role) applied to sums the database adds up from month and day credits — all read in one
statement. Everyone else, and every rule that needs the visits themselves, goes through the
same exact path as a single person's results (``facts_for_people`` + ``evaluate``), and a
test holds both paths to the same answers.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache

from pypinyin import lazy_pinyin
from sqlalchemy import func, literal, select, union, union_all

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
    """Per person, credits from 1 January through ``through``: the year's running total at
    the last month before it plus the month's running total at its last credited day.
    Running totals never fall, so "at the last row" is the largest: a grouped pass that the
    database can run as index lookups for a township or as one scan for a province."""
    in_month, in_year = ((DayCredit.month_seconds_to_date, MonthCredit.year_seconds_to_date)
                         if seconds else
                         (DayCredit.month_halves_to_date, MonthCredit.year_halves_to_date))
    # Whole months come from the month table; a month that ``through`` ends is whole too.
    month = (through + timedelta(days=1)).replace(day=1) if (
        through + timedelta(days=1)).day == 1 else through.replace(day=1)
    before = select(MonthCredit.user_id.label("uid"), func.max(in_year).label("total")).where(
        MonthCredit.user_id.in_(people), MonthCredit.month >= date(through.year, 1, 1),
        MonthCredit.month < month).group_by(MonthCredit.user_id)
    if month > through:
        return before
    within = select(DayCredit.user_id, func.max(in_month)).where(
        DayCredit.user_id.in_(people), DayCredit.day >= month, DayCredit.day <= through
    ).group_by(DayCredit.user_id)
    both = union_all(before, within).subquery()
    return select(both.c.uid, func.sum(both.c.total).label("total")).group_by(both.c.uid)


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
        ThematicReport.user_id.in_(people), ThematicReport.status.in_(COUNTING_REPORTS),
        ThematicReport.reported_on.between(start, as_of)).group_by(
        ThematicReport.user_id).subquery()


def _special(people, as_of: date):
    """People whose results need the exact path: absences or an opening balance this year."""
    year_start, year_end = date(as_of.year, 1, 1), date(as_of.year, 12, 31)
    return union(
        select(Absence.user_id.label("uid")).where(
            Absence.user_id.in_(people), Absence.status == "approved",
            Absence.end_date >= year_start, Absence.start_date <= year_end),
        select(OpeningBalance.user_id).where(OpeningBalance.user_id.in_(people),
                                             OpeningBalance.year == as_of.year),
    ).subquery()


def read_people(actor: User, unit: Unit | None, as_of: date, starts: list[date],
                hours: bool = False, reports: bool = True) -> list[PersonRow]:
    """Everyone in the roll-up with their unit and totals, in one statement."""
    scoped = select(User.id).join(Unit, User.unit_id == Unit.id).where(
        User.role.in_(FIELD_ROLES))
    if unit is not None:
        scoped = scoped.where(Unit.path.startswith(unit.path, autoescape=True))
    people = policy.readable_people(actor, policy.readable_units(actor, scoped), User.id)
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
    query = query.with_only_columns(*columns).where(User.id.in_(people))
    return [PersonRow(*row[:10], bool(row[10]), tuple(map(int, row[11:])))
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


def rollup(actor: User, unit: Unit | None, as_of: date, ruleset) -> list[dict]:
    """One row per person in the unit (or the actor's whole scope) with results, sorted by
    unit code and the name's pinyin."""
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
            rows.append({"user": person.summary(), "results": results})
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
