"""Gathering from the database what the pure compliance core computes from.

``facts_for_person`` reads one person in detail (a calendar, a breakdown); ``facts_for_people``
reads many at once with one grouped query per kind of fact, for roll-ups and exports.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

from sqlalchemy import select

from ..auth.models import User
from ..cache import BoundedCache
from ..clock import local_day_bounds
from ..compliance.calendar import WorkingCalendar
from ..compliance.crediting import Stay
from ..compliance.engine import Absence as AbsenceFact
from ..compliance.engine import (
    DailyLedger,
    Facts,
    Period,
    VisitFact,
)
from ..compliance.rules import Rule
from ..extensions import db
from ..org.posts import dated_links, links_on
from ..reports.models import ThematicReport
from ..visits.models import COUNTING_STATUSES, Visit
from .models import DEPLOYMENT_WIDE, Absence, CalendarDay, DayCredit, OpeningBalance

COUNTING_REPORTS = ("submitted", "acknowledged")
VISIT_METRICS = ("visits", "households_visited", "linked_village_coverage")


# Calendars by the loaded dates they are built from (rows of county, day, is_workday).
_calendars: BoundedCache[WorkingCalendar] = BoundedCache(16)


def working_calendar(county_code: str | None = None) -> WorkingCalendar:
    """The official calendar of a county: for each year, the dates the county loaded, or
    else those loaded for the whole deployment (with neither, the official calendar alone).

    The loaded dates are read every time (another process may have loaded a year); the
    calendar built from them is kept, so its counting tables are built once per content.
    """
    scopes = {DEPLOYMENT_WIDE, county_code or DEPLOYMENT_WIDE}
    marks = tuple(db.session.execute(
        select(CalendarDay.county_code, CalendarDay.day, CalendarDay.is_workday)
        .where(CalendarDay.county_code.in_(scopes))
        .order_by(CalendarDay.county_code, CalendarDay.day)).all())
    return _calendars.get_or_make(marks, lambda: _calendar_of(marks))


def _calendar_of(marks: tuple) -> WorkingCalendar:
    """The calendar of loaded dates: a county's own years replace the deployment's."""
    loaded: dict[int, dict[date, bool]] = defaultdict(dict)
    own_years = {day.year for scope, day, _ in marks if scope != DEPLOYMENT_WIDE}
    for scope, day, is_workday in marks:
        if scope != DEPLOYMENT_WIDE or day.year not in own_years:
            loaded[day.year][day] = is_workday
    return WorkingCalendar(loaded)


def county_code_of(unit) -> str | None:
    """The code of the county a unit is in (None above or outside a county)."""
    county = unit.county() if unit is not None else None
    return county.code if county is not None else None


def needs_visits(rules: list[Rule]) -> bool:
    return any(r.filtered or r.metric in VISIT_METRICS for r in rules)


def _absences(user_ids, span: Period) -> dict[int, list[AbsenceFact]]:
    found: dict[int, list[AbsenceFact]] = defaultdict(list)
    rows = db.session.scalars(select(Absence).where(
        Absence.user_id.in_(user_ids), Absence.status == "approved",
        Absence.start_date <= span.end, Absence.end_date >= span.start))
    for a in rows:
        found[a.user_id].append(AbsenceFact(a.start_date, a.end_date, a.counts_as_village_work,
                                            a.id, a.kind))
    return found


def _visits(user_ids, span: Period, zone) -> dict[int, list[VisitFact]]:
    start, end = local_day_bounds(span.start, span.end)
    found: dict[int, list[VisitFact]] = defaultdict(list)
    rows = db.session.execute(select(
        Visit.user_id, Visit.check_in_at, Visit.check_out_at, Visit.village_id, Visit.activity,
        Visit.households).where(
        Visit.user_id.in_(user_ids), Visit.status.in_(COUNTING_STATUSES),
        Visit.check_out_at.is_not(None), Visit.check_in_at < end, Visit.check_out_at > start))
    for user_id, cin, cout, village_id, activity, households in rows:
        found[user_id].append(VisitFact(Stay(cin, cout), village_id, activity, households))
    return found


def _openings(user_ids, year: int) -> dict[int, OpeningBalance]:
    return {o.user_id: o for o in db.session.scalars(select(OpeningBalance).where(
        OpeningBalance.user_id.in_(user_ids), OpeningBalance.year == year))}


def _report_dates(user_ids, span: Period) -> dict[int, list[date]]:
    found: dict[int, list[date]] = defaultdict(list)
    for user_id, day in db.session.execute(select(
            ThematicReport.user_id, ThematicReport.reported_on).where(
            ThematicReport.user_id.in_(user_ids), ThematicReport.status.in_(COUNTING_REPORTS),
            ThematicReport.reported_on.between(span.start, span.end))):
        found[user_id].append(day)
    return found


def _day_credits(user_ids, span: Period) -> dict[int, DailyLedger]:
    """Per person: kept credits and seconds by local date over ``span``."""
    days: dict[int, dict] = defaultdict(dict)
    seconds: dict[int, dict] = defaultdict(dict)
    for user_id, day, halves, secs in db.session.execute(select(
            DayCredit.user_id, DayCredit.day, DayCredit.halves, DayCredit.seconds).where(
            DayCredit.user_id.in_(user_ids), DayCredit.day.between(span.start, span.end))):
        days[user_id][day] = Fraction(halves, 2)
        seconds[user_id][day] = secs
    return {uid: DailyLedger(days[uid], seconds[uid]) for uid in days}


def year_of(as_of: date) -> Period:
    return Period(date(as_of.year, 1, 1), date(as_of.year, 12, 31))


def _assemble(user_ids, ledgers: dict, absences: dict, rules: list[Rule], as_of: date,
              zone, people) -> dict[int, Facts]:
    span = year_of(as_of)
    visits = _visits(people, span, zone) if needs_visits(rules) else {}
    linked = links_on(people, as_of) if any(
        r.linked_villages_only or r.metric == "linked_village_coverage" for r in rules) else {}
    links = dated_links(people) if any(r.linked_villages_only for r in rules) else {}
    reports = _report_dates(people, span) if any(
        r.metric == "thematic_reports" for r in rules) else {}
    openings = _openings(people, as_of.year)
    facts = {}
    for uid in user_ids:
        opening = openings.get(uid)
        facts[uid] = Facts(
            credits=ledgers.get(uid) or DailyLedger(), visits=visits.get(uid, ()),
            report_dates=reports.get(uid, ()), linked_villages=linked.get(uid, frozenset()),
            links=links.get(uid, ()),
            absences=absences.get(uid, ()),
            opening_village_days=Fraction(str(opening.village_days)) if opening else Fraction(0),
            opening_reports=opening.reports if opening else 0)
    return facts


def facts_for_person(user: User, rules: list[Rule], as_of: date, zone) -> Facts:
    """Everything about one person in the year of ``as_of``, credits day by day."""
    return facts_for_people(select(User.id).where(User.id == user.id), [user.id], rules, as_of,
                            zone)[user.id]


def facts_for_people(people, user_ids, rules: list[Rule], as_of: date,
                     zone) -> dict[int, Facts]:
    """Facts for many people at once (``people``: a query of their ids), credits day by day
    over the year up to ``as_of``: a result's active part may be any days of the year
    (RULES.md §8), so they are summed by the engine."""
    span = year_of(as_of)
    ledgers = _day_credits(people, Period(span.start, min(as_of, span.end)))
    return _assemble(list(user_ids), ledgers, _absences(people, span), rules, as_of, zone,
                     people)
