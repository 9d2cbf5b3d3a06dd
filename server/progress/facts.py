"""Gathering from the database what the pure compliance core computes from.

``facts_for_person`` reads one person in detail (a calendar, a breakdown); ``facts_for_people``
reads many at once with one grouped query per kind of fact, for roll-ups and exports.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

from sqlalchemy import and_, func, or_, select

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
    SummedLedger,
    VisitFact,
    period_containing,
)
from ..compliance.rules import Rule
from ..extensions import db
from ..org.models import LinkedVillage
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


def _in_active_part(day_column, first: date, last: date):
    """``first <= day <= last`` and within the person's active dates."""
    return and_(day_column >= first, day_column <= last,
                or_(User.active_from.is_(None), day_column >= User.active_from),
                or_(User.active_until.is_(None), day_column <= User.active_until))


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


def linked_villages(user_ids) -> dict[int, frozenset[int]]:
    """Per person: the ids of the villages linked to them now."""
    found: dict[int, set[int]] = defaultdict(set)
    for user_id, village_id in db.session.execute(select(
            LinkedVillage.user_id, LinkedVillage.village_id).where(
            LinkedVillage.user_id.in_(user_ids))):
        found[user_id].add(village_id)
    return {k: frozenset(v) for k, v in found.items()}


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


def _active_span(period: Period, as_of: date, user: User) -> Period:
    """The part of the period the engine sums: the person's active part up to as_of."""
    return period.clip(user.active_from, user.active_until).clip(None, as_of)


def _summed_credits(people, users: dict[int, User], periods: set[Period], as_of: date,
                    absences: dict[int, list[AbsenceFact]]) -> dict[int, SummedLedger]:
    """Per person and period: credits and seconds summed by the database over the active
    part so far, plus single-day credits where an absence counts as village work."""
    totals: dict[int, dict[Period, tuple[Fraction, int]]] = defaultdict(dict)
    for period in periods:
        rows = db.session.execute(
            select(DayCredit.user_id, func.sum(DayCredit.halves), func.sum(DayCredit.seconds))
            .join(User, User.id == DayCredit.user_id)
            .where(DayCredit.user_id.in_(people),
                   _in_active_part(DayCredit.day, period.start, min(as_of, period.end)))
            .group_by(DayCredit.user_id))
        for user_id, halves, seconds in rows:
            span = _active_span(period, as_of, users[user_id])
            totals[user_id][span] = (Fraction(int(halves), 2), int(seconds))
    credits_on: dict[int, dict[date, Fraction]] = defaultdict(dict)
    for user_id, items in absences.items():
        for a in (a for a in items if a.counts_as_village_work):
            for day, halves in db.session.execute(select(DayCredit.day, DayCredit.halves).where(
                    DayCredit.user_id == user_id, DayCredit.day.between(a.start, a.end))):
                credits_on[user_id][day] = Fraction(halves, 2)
    return {uid: SummedLedger(totals.get(uid, {}), credits_on.get(uid, {})) for uid in users}


def year_of(as_of: date) -> Period:
    return Period(date(as_of.year, 1, 1), date(as_of.year, 12, 31))


def _assemble(user_ids, ledgers: dict, absences: dict, rules: list[Rule], as_of: date,
              zone, people) -> dict[int, Facts]:
    span = year_of(as_of)
    visits = _visits(people, span, zone) if needs_visits(rules) else {}
    linked = linked_villages(people) if any(
        r.linked_villages_only or r.metric == "linked_village_coverage" for r in rules) else {}
    reports = _report_dates(people, span) if any(
        r.metric == "thematic_reports" for r in rules) else {}
    openings = _openings(people, as_of.year)
    facts = {}
    for uid in user_ids:
        opening = openings.get(uid)
        facts[uid] = Facts(
            credits=ledgers[uid], visits=visits.get(uid, ()),
            report_dates=reports.get(uid, ()), linked_villages=linked.get(uid, frozenset()),
            absences=absences.get(uid, ()),
            opening_village_days=Fraction(str(opening.village_days)) if opening else Fraction(0),
            opening_reports=opening.reports if opening else 0)
    return facts


def facts_for_person(user: User, rules: list[Rule], as_of: date, zone) -> Facts:
    """Everything about one person in the year of ``as_of``, credits day by day."""
    span = year_of(as_of)
    people = select(User.id).where(User.id == user.id)
    rows = db.session.execute(select(DayCredit.day, DayCredit.halves, DayCredit.seconds).where(
        DayCredit.user_id == user.id, DayCredit.day.between(span.start, span.end))).all()
    ledger = DailyLedger({d: Fraction(h, 2) for d, h, _ in rows}, {d: s for d, _, s in rows})
    return _assemble([user.id], {user.id: ledger}, _absences(people, span), rules, as_of, zone,
                     people)[user.id]


def facts_for_people(people, users: dict[int, User], rules: list[Rule], as_of: date,
                     zone) -> dict[int, Facts]:
    """Facts for many people at once; ``people`` is a query of their ids."""
    periods = {period_containing(r.period, as_of) for r in rules
               if r.metric in ("village_days", "village_hours")}
    absences = _absences(people, year_of(as_of))
    ledgers = _summed_credits(people, users, periods, as_of, absences)
    return _assemble(list(users), ledgers, absences, rules, as_of, zone, people)
