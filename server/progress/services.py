"""Compliance results, breakdowns, roll-ups, absences, opening balances and calendars."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import delete, insert, select

from .. import clock, policy
from ..audit.models import record
from ..auth.models import User
from ..clock import local_date, local_day_bounds, today, zone
from ..closing import guard
from ..compliance.calendar import parse_calendar_csv
from ..compliance.engine import RuleResult, evaluate, rounded, rules_known_on
from ..compliance.errors import CalendarFileError
from ..errors import InvalidInput
from ..extensions import db
from ..org import posts
from ..org.models import Unit
from ..rulebooks import rulebook_of, ruleset
from ..schemas import FIRST_DAY, SERVICE_YEARS
from ..visits.models import Visit
from .facts import county_code_of, facts_for_person, working_calendar
from .models import DEPLOYMENT_WIDE, Absence, CalendarDay, DayCredit, OpeningBalance
from .rollup import rollup


def resolve_as_of(year: int | None, as_of: date | None) -> date:
    """The as-of date: given, else today (or the last day of a past year asked for).

    Later than today, or outside the requested year, is refused (422).
    """
    now = today()
    if as_of is None:
        as_of = now if year is None or year >= now.year else date(year, 12, 31)
    if as_of > now:
        raise InvalidInput("as_of_future", errors={"as_of": ["after today"]})
    if year is not None and as_of.year != year:
        raise InvalidInput("as_of_outside_year", errors={"as_of": ["outside the year"]})
    return as_of


def check_year(year: int) -> None:
    """422 ``year_out_of_range`` for a year the service cannot speak of: before 2000, or
    after this one."""
    if not FIRST_DAY.year <= year <= today().year:
        raise InvalidInput("year_out_of_range", errors={"year": [SERVICE_YEARS]}, year=year)


def result_dict(result: RuleResult, english: bool = False) -> dict:
    """A rule result as API.md shows it: exact numbers rounded half up to 2 decimals, the
    title in the language asked for, and what explains it (docs/rules.md §5): the working days,
    the absences that changed them or credited village days, and the opening balance (the last
    two null when none)."""
    rule = result.rule
    return {
        "rule_id": rule.id, "title": rule.title(english), "measure": rule.measure,
        "period_start": result.period.start, "period_end": result.period.end,
        "active_start": result.active.start, "active_end": result.active.end,
        "actual": rounded(result.actual), "target": rounded(result.target),
        "expected_to_date": rounded(result.expected_to_date), "status": result.status,
        "remaining": rounded(result.remaining),
        "remaining_working_days": result.remaining_working_days,
        "pace_per_working_day": rounded(result.pace_per_working_day),
        "calendar": result.calendar, "reachable": result.reachable,
        "official_working_days": result.official_working_days,
        "working_days": result.working_days,
        "working_days_to_date": result.working_days_to_date,
        "absence_working_days": result.official_working_days - result.working_days,
        "absences": [{
            "id": e.absence.id, "kind": e.absence.kind, "start": e.absence.start,
            "end": e.absence.end, "counts_as_village_work": e.absence.counts_as_village_work,
            "working_days": e.working_days, "working_days_to_date": e.working_days_to_date,
        } for e in result.absences],
        "absence_credit": rounded(result.absence_credit) if result.absence_credit else None,
        "opening_balance": rounded(result.opening) if result.opening else None,
    }


def rollup_row(person, results, english: bool = False) -> dict:
    """A roll-up row: who, the unit shown under (and whether that post had ended), the results."""
    return {"user": person.summary(), "unit_code": person.unit_code,
            "post_ended": person.post_ended,
            "rules": [result_dict(r, english) for r in results]}


def person_summary(user: User, post=None) -> dict:
    """Who a result is about; with ``post``, the role and unit of that post (results as of a
    date show the post held then: ``shown_as_of``)."""
    role, unit = (post.role, post.unit) if post is not None else (user.role, user.unit)
    return {"id": user.id, "name": user.name, "username": user.username, "role": role,
            "unit_code": unit.code if unit else None, "unit_name": unit.name if unit else None}


def shown_as_of(user: User, as_of: date) -> tuple:
    """The post a person's results as of ``as_of`` are shown under, and whether it had ended
    by then (RULES.md §8); for someone with no cadre or secretary post that year up to then,
    the post in effect."""
    post, ended = posts.shown_on(user.posts, as_of)
    return post or posts.in_effect(user.posts, as_of), ended


def results_for(user: User, as_of: date) -> list[RuleResult]:
    """Every rule that applies to the person as of the date: to a role of a post they held
    (or, yet to start, will hold) by then, each over the days of the posts it covers. The
    rule book and calendar are those of the county of the post they are shown under then."""
    post, _ = shown_as_of(user, as_of)
    unit = post.unit if post is not None else user.unit
    book = rulebook_of(unit)
    person = posts.person_of(user)
    rules = rules_known_on(book.rules, person, as_of)
    if not rules:
        return []
    facts = facts_for_person(user, rules, as_of, zone())
    calendar = working_calendar(county_code_of(unit))
    results = [evaluate(rule, person, facts, calendar, as_of, zone(), book.thresholds)
               for rule in rules]
    return [r for r in results if r is not None]


def readable_person(actor: User, user_id: int) -> User:
    """A person whose compliance the actor may read; 404 otherwise (fetched by id)."""
    person = db.session.get(User, user_id)
    policy.ensure_visible(person is not None and policy.can_read_person(actor, person))
    return person


def readable_results(actor: User, user_id: int, as_of: date) -> User:
    """A person whose results as of ``as_of`` the actor may read (RULES.md §8: scope follows
    the unit they are shown under then); 404 otherwise."""
    person = readable_person(actor, user_id)
    if person.several_posts and actor.id != person.id:
        post, _ = shown_as_of(person, as_of)
        unit = post.unit if post is not None else None
        policy.ensure_visible(unit is not None and (
            (actor.role == "secretary" and actor.unit_id == unit.id)
            or policy.in_scope(actor, unit)))
    return person


def unit_rows(actor: User, unit_code: str | None, as_of: date) -> tuple[Unit | None, list[dict]]:
    """One row per person in the unit or below it to whom at least one rule applies."""
    unit = rollup_unit(actor, unit_code)
    return unit, rollup(actor, unit, as_of, ruleset())


def rollup_unit(actor: User, unit_code: str | None) -> Unit | None:
    """The unit to roll up: named (in scope, else 403) or the actor's own."""
    policy.ensure(actor.role != "cadre")
    if unit_code is None:
        return actor.unit
    unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
    allowed = unit is not None and (policy.in_scope(actor, unit) or (
        actor.role == "secretary" and unit.id == actor.unit_id))
    policy.ensure(allowed, "out_of_scope")
    return unit


# --- the per-day breakdown -----------------------------------------------------------------

def day_breakdown(user: User, year: int) -> list[dict]:
    """Per local date: in-village seconds, credit, and the visits and absences behind it."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    credits = {d.day: d for d in db.session.scalars(select(DayCredit).where(
        DayCredit.user_id == user.id, DayCredit.day.between(first, last)))}
    days: dict[date, dict] = {}

    def entry(day: date) -> dict:
        return days.setdefault(day, {"date": day, "seconds": 0, "credit": Decimal("0"),
                                     "visits": [], "absences": []})

    for day, credit in credits.items():
        item = entry(day)
        item["seconds"], item["credit"] = credit.seconds, Decimal(credit.halves) / 2
    start, end = local_day_bounds(first, last)
    for visit in db.session.scalars(select(Visit).where(
            Visit.user_id == user.id, Visit.check_in_at < end,
            (Visit.check_out_at.is_(None)) | (Visit.check_out_at > start))
            .order_by(Visit.check_in_at)):
        last_day = local_date(visit.check_out_at) if visit.check_out_at else local_date(
            visit.check_in_at)
        day = max(local_date(visit.check_in_at), first)
        while day <= min(last_day, last):
            entry(day)["visits"].append({"id": visit.id, "village_code": visit.village.code,
                                          "village_name": visit.village.name,
                                          "status": visit.status, "counts": visit.counts})
            day = date.fromordinal(day.toordinal() + 1)
    calendar = working_calendar(county_code_of(user.unit))
    for absence in db.session.scalars(select(Absence).where(
            Absence.user_id == user.id, Absence.status == "approved",
            Absence.start_date <= last, Absence.end_date >= first)):
        for day in calendar.days(max(absence.start_date, first), min(absence.end_date, last)):
            item = entry(day)
            item["absences"].append({"id": absence.id, "kind": absence.kind,
                                     "counts_as_village_work": absence.counts_as_village_work})
            if absence.counts_as_village_work:
                item["credit"] = Decimal("1")
    return [days[d] | {"working_day": calendar.is_workday(d)} for d in sorted(days)]


# --- absences --------------------------------------------------------------------------------

def create_absence(actor: User, data: dict) -> Absence:
    """Enter an approved absence: a supervisor in scope, or the person's secretary."""
    person = db.session.get(User, data["user_id"])
    policy.ensure(person is not None and policy.can_manage_absences(actor, person),
                  "out_of_scope")
    if data["end"] < data["start"]:
        raise InvalidInput("invalid_input", errors={"end": ["before start"]})
    guard.ensure_person_open(person, guard.years_between(data["start"], data["end"]))
    absence = Absence(user_id=person.id, start_date=data["start"], end_date=data["end"],
                      kind=data["kind"], counts_as_village_work=data.get(
                          "counts_as_village_work", False), note=data.get("note"),
                      status="approved", created_by_id=actor.id)
    db.session.add(absence)
    db.session.flush()
    record(actor.id, "absence", absence.id, "created", {
        "user_id": person.id, "start": str(absence.start_date), "end": str(absence.end_date),
        "kind": absence.kind, "counts_as_village_work": absence.counts_as_village_work})
    return absence


def load_absence(actor: User, absence_id: int) -> Absence:
    absence = db.session.get(Absence, absence_id)
    policy.ensure_visible(absence is not None and policy.can_read_person(actor, absence.user))
    return absence


def withdraw_absence(actor: User, absence: Absence, *, now=None) -> Absence:
    policy.ensure(policy.can_manage_absences(actor, absence.user))
    if absence.status == "withdrawn":
        return absence
    guard.ensure_person_open(absence.user, guard.years_between(absence.start_date,
                                                               absence.end_date))
    absence.status = "withdrawn"
    absence.withdrawn_at = now or clock.now()
    record(actor.id, "absence", absence.id, "withdrawn")
    db.session.flush()
    return absence


def list_absences(actor: User, user_id: int | None, year: int | None) -> list[Absence]:
    query = policy.readable_rows(actor, select(Absence), Absence.user_id, user_id)
    if year is not None:
        query = query.where(Absence.start_date <= date(year, 12, 31),
                            Absence.end_date >= date(year, 1, 1))
    return db.session.scalars(query.order_by(Absence.start_date, Absence.id)).all()


def absence_dict(absence: Absence) -> dict:
    return {"id": absence.id, "user_id": absence.user_id, "user_name": absence.user.name,
            "start": absence.start_date, "end": absence.end_date, "kind": absence.kind,
            "counts_as_village_work": absence.counts_as_village_work, "note": absence.note,
            "status": absence.status, "created_by_id": absence.created_by_id}


# --- opening balances and calendars ----------------------------------------------------------

def set_opening_balance(actor: User, person: User, year: int, data: dict) -> OpeningBalance:
    """Enter or replace the village days and reports done before the system (admin, audited)."""
    policy.ensure(policy.can_write_org(actor, person.unit))
    days = Decimal(str(data["village_days"]))
    if days * 2 != int(days * 2):
        raise InvalidInput("invalid_input", errors={"village_days": ["multiples of 0.5"]})
    guard.ensure_person_open(person, [year])
    balance = db.session.get(OpeningBalance, (person.id, year))
    before = None if balance is None else {"village_days": str(balance.village_days),
                                           "reports": balance.reports}
    if balance is None:
        balance = OpeningBalance(user_id=person.id, year=year)
        db.session.add(balance)
    balance.village_days, balance.reports = days, data["reports"]
    balance.note, balance.updated_by_id = data.get("note"), actor.id
    record(actor.id, "opening_balance", f"{person.id}/{year}", "set", {
        "before": before, "after": {"village_days": str(days), "reports": data["reports"]},
        "note": data.get("note")})
    db.session.flush()
    return balance


def calendar_county(actor: User | None, unit_code: str | None) -> Unit | None:
    """The county whose calendar ``actor`` loads: the one named, or else the actor's own; None
    for the deployment-wide calendar, which only an admin with no unit (or the command line)
    loads. A county's calendar changes that county's numbers only, so an admin loads only a
    county in scope (an out-of-scope or unknown code alike: 403)."""
    if unit_code is not None:
        unit = db.session.scalar(select(Unit).where(Unit.code == unit_code))
        if actor is not None:
            policy.ensure(unit is not None and policy.can_write_org(actor, unit),
                          "out_of_scope", {"unit_code": ["out of scope"]})
        if unit is None:
            raise InvalidInput("unknown_unit", errors={"unit_code": ["unknown"]}, code=unit_code)
        if unit.level != "county":
            raise InvalidInput("unit_not_county", errors={"unit_code": ["not a county"]},
                               code=unit_code)
        return unit
    if actor is None or actor.unit is None:
        return None
    county = actor.unit if actor.unit.level == "county" else None
    policy.ensure(county is not None, "calendar_county_required",
                  {"unit_code": ["name the county"]})
    return county


def load_calendar(year: int, text: str, county: Unit | None = None) -> int:
    """Store a year's official holidays and make-up workdays for a county (None: for the
    whole deployment); replaces that year's list there."""
    try:
        marks = parse_calendar_csv(year, text)
    except CalendarFileError as exc:
        raise InvalidInput("calendar_invalid", errors={"rows": [
            {"row": exc.line, "column": exc.column, "message": exc.problem}]}) from None
    guard.ensure_calendar_open(year, county)
    scope = county.code if county is not None else DEPLOYMENT_WIDE
    db.session.execute(delete(CalendarDay).where(CalendarDay.year == year,
                                                 CalendarDay.county_code == scope))
    db.session.execute(insert(CalendarDay), [
        {"county_code": scope, "day": d, "year": year, "is_workday": w}
        for d, w in sorted(marks.items())])
    return len(marks)
