"""Compliance results (RULES.md §4–§5) for one person and one rule, exactly.

Pure: the caller gathers the facts (credits, visits, reports, absences, opening balance)
and this module does the arithmetic in ``Fraction``s.
"""
from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from .calendar import WorkingCalendar
from .crediting import Stay, Thresholds, credit_village_days, seconds_by_date
from .rules import Rule

AT_RISK_SHARE = Fraction(4, 5)
# The most a single date can add, for the measures that have such a limit (``reachable``).
PER_DATE_CEILING = {"village_days": 1, "village_hours": 24}


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    def clip(self, first: date | None, last: date | None) -> Period:
        """The part of the period between ``first`` and ``last`` (None: no limit)."""
        return Period(max(self.start, first) if first else self.start,
                      min(self.end, last) if last else self.end)

    @property
    def empty(self) -> bool:
        return self.end < self.start


def period_containing(kind: str, day: date) -> Period:
    """The year, quarter or month that contains ``day``."""
    if kind == "year":
        return Period(date(day.year, 1, 1), date(day.year, 12, 31))
    months = 3 if kind == "quarter" else 1
    first_month = months * ((day.month - 1) // months) + 1
    last_month = first_month + months - 1
    return Period(date(day.year, first_month, 1),
                  date(day.year, last_month, monthrange(day.year, last_month)[1]))


@dataclass(frozen=True)
class Span:
    """Days of a period in one or more pieces (the active part of a rule: RULES.md §8), in
    order, none touching another."""
    pieces: tuple[Period, ...]

    @classmethod
    def of(cls, periods) -> Span:
        """The union of ``periods`` (empty ones left out; overlapping or adjacent ones
        merged)."""
        merged: list[Period] = []
        for piece in sorted((p for p in periods if not p.empty), key=lambda p: p.start):
            if merged and piece.start <= merged[-1].end + timedelta(days=1):
                if piece.end > merged[-1].end:
                    merged[-1] = Period(merged[-1].start, piece.end)
            else:
                merged.append(piece)
        return cls(tuple(merged))

    @property
    def empty(self) -> bool:
        return not self.pieces

    @property
    def start(self) -> date:
        return self.pieces[0].start

    @property
    def end(self) -> date:
        return self.pieces[-1].end

    @property
    def outline(self) -> Period:
        """From the first day to the last."""
        return Period(self.start, self.end)

    def count(self, counter) -> int:
        """``counter(first, last)`` added up over the pieces."""
        return sum(counter(p.start, p.end) for p in self.pieces)

    def clip(self, first: date | None, last: date | None) -> Span:
        return Span.of(p.clip(first, last) for p in self.pieces)

    def __contains__(self, day: date) -> bool:
        return any(p.start <= day <= p.end for p in self.pieces)


@dataclass(frozen=True)
class Held:
    """A post as results see it: a role from ``start`` through ``end`` (None: no limit)."""
    role: str
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class Person:
    """Whom a result is for: their posts (or, for one post, its role and dates)."""
    role: str
    active_from: date | None = None
    active_until: date | None = None
    posts: tuple[Held, ...] = ()

    def held(self) -> tuple[Held, ...]:
        return self.posts or (Held(self.role, self.active_from, self.active_until),)

    def known_on(self, as_of: date) -> tuple[Held, ...]:
        """The posts as they stood on ``as_of`` (RULES.md §8, "History does not move"): those
        begun by then (or the first, for someone yet to start), each taken to go on unless it
        ended before ``as_of`` — an end or a new post dated later is not known on that day."""
        posts = sorted(self.held(), key=lambda p: (p.start is not None, p.start or date.min))
        begun = [p for p in posts if p.start is None or p.start <= as_of] or posts[:1]
        return tuple(Held(p.role, p.start, p.end if p.end is not None and p.end < as_of
                          else None) for p in begun)

    def active_part(self, rule: Rule, period: Period, as_of: date) -> Span:
        """The days of ``period`` on which the person held a post the rule covers, as known
        on ``as_of``."""
        return Span.of(period.clip(p.start, p.end) for p in self.known_on(as_of)
                       if rule.applies_to(p.role))


@dataclass(frozen=True)
class Absence:
    """An approved absence, both dates included (``id`` and ``kind`` name it in a result)."""
    start: date
    end: date
    counts_as_village_work: bool = False
    id: int | None = None
    kind: str | None = None


@dataclass(frozen=True)
class AbsenceEffect:
    """An absence that changed a result: its working days within the active part, and up to
    and including as_of. Away from villages they are taken out of the person's working days;
    counted as village work, each of them up to as_of credits a village day."""
    absence: Absence
    working_days: int
    working_days_to_date: int


@dataclass(frozen=True)
class VisitFact:
    """A counting visit, for the metrics that need visits themselves."""
    stay: Stay
    village_id: int
    activity: str | None = None
    households: int | None = None


class DailyLedger:
    """Village-day credits and in-village seconds per local date."""

    def __init__(self, credits: Mapping[date, Fraction] | None = None,
                 seconds: Mapping[date, int] | None = None):
        self.credits = dict(credits or {})
        self.seconds_by_day = dict(seconds or {})

    def total(self, span: Span) -> Fraction:
        return sum((c for d, c in self.credits.items() if d in span), Fraction(0))

    def seconds(self, span: Span) -> int:
        return sum(s for d, s in self.seconds_by_day.items() if d in span)

    def on(self, day: date) -> Fraction:
        return self.credits.get(day, Fraction(0))


@dataclass(frozen=True)
class Facts:
    """What is known about one person; ``credits`` are the kept village-day credits."""
    credits: DailyLedger = field(default_factory=DailyLedger)
    visits: Sequence[VisitFact] = ()
    report_dates: Sequence[date] = ()
    linked_villages: frozenset[int] = frozenset()   # linked on as_of (coverage)
    # Every link with its dates, (village id, first day, last day; None: no limit), for the
    # rules that count linked villages only: a visit counts if its village was linked then.
    links: tuple[tuple[int, date | None, date | None], ...] = ()
    absences: Sequence[Absence] = ()
    opening_village_days: Fraction = Fraction(0)
    opening_reports: int = 0


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    period: Period
    active: Period   # from the active part's first day to its last (``pieces``: the days)
    actual: Fraction
    target: Fraction
    expected_to_date: Fraction
    status: str
    remaining: Fraction
    remaining_working_days: int
    pace_per_working_day: Fraction | None
    calendar: str
    # What explains the numbers (RULES.md §5, docs/rules.md "What a result carries"):
    official_working_days: int = 0   # the active part's official working days
    working_days: int = 0            # the person's: less those of approved absences
    working_days_to_date: int = 0    # the person's up to and including as_of
    reachable: bool | None = None    # days and hours: whether the target can still be met
    opening: Fraction = Fraction(0)  # the opening balance inside ``actual``
    absences: tuple[AbsenceEffect, ...] = ()  # the absences that changed the result
    absence_credit: Fraction = Fraction(0)    # village days of village-work absences in actual
    pieces: tuple[Period, ...] = ()           # the active part (RULES.md §8: posts' union)


def merge_absences(absences: Sequence[Absence]) -> list[tuple[date, date]]:
    """Merge overlapping or adjacent absence ranges."""
    merged: list[list[date]] = []
    for a in sorted(absences, key=lambda a: a.start):
        if merged and a.start <= merged[-1][1] + timedelta(days=1):
            merged[-1][1] = max(merged[-1][1], a.end)
        else:
            merged.append([a.start, a.end])
    return [(s, e) for s, e in merged]


class PersonDays:
    """The person's working days: official ones, less those of absences away from villages."""

    def __init__(self, calendar: WorkingCalendar, absences: Sequence[Absence]):
        self.calendar = calendar
        self.away = merge_absences([a for a in absences if not a.counts_as_village_work])

    def count(self, first: date, last: date) -> int:
        if last < first:
            return 0
        total = self.calendar.count(first, last)
        for start, end in self.away:
            total -= self.calendar.count(max(start, first), min(end, last))
        return total


def village_work_absence_days(calendar: WorkingCalendar, absences: Sequence[Absence],
                              first: date, last: date) -> set[date]:
    """Working days of "counts as village work" absences between first and last."""
    days: set[date] = set()
    for start, end in merge_absences([a for a in absences if a.counts_as_village_work]):
        if start <= last and end >= first:
            days.update(calendar.days(max(start, first), min(end, last)))
    return days


def _visits_for(rule: Rule, facts: Facts, zone: ZoneInfo) -> list[VisitFact]:
    visits = list(facts.visits)
    if rule.activities is not None:
        visits = [v for v in visits if v.activity in rule.activities]
    if rule.linked_villages_only:
        visits = [v for v in visits if _linked_then(v, facts, zone)]
    return visits


def _linked_then(visit: VisitFact, facts: Facts, zone: ZoneInfo) -> bool:
    """Whether the visit's village was linked to the person on the visit's date (RULES.md §8:
    a transfer does not undo the visits made to the old township's linked villages)."""
    day = visit.stay.start.astimezone(zone).date()
    return any(village == visit.village_id and (first is None or first <= day)
               and (last is None or day <= last) for village, first, last in facts.links)


def _ledger(rule: Rule, facts: Facts, zone: ZoneInfo, thresholds: Thresholds):
    """The kept credits, or — for rules filtered by activity or village — credits of the
    matching visits alone."""
    if not rule.filtered:
        return facts.credits
    stays = [v.stay for v in _visits_for(rule, facts, zone)]
    return DailyLedger(credit_village_days(stays, zone, thresholds), seconds_by_date(stays, zone))


def _absence_credit(ledger, facts: Facts, span: Span, calendar: WorkingCalendar) -> Fraction:
    """What "counts as village work" absences add over ``span``: each of their working days
    tops that date's credit up to 1."""
    days = set().union(*(village_work_absence_days(calendar, facts.absences, p.start, p.end)
                         for p in span.pieces))
    return sum((1 - min(Fraction(1), ledger.on(day)) for day in days), Fraction(0))


def measure(rule: Rule, facts: Facts, span: Span, calendar: WorkingCalendar,
            zone: ZoneInfo, thresholds: Thresholds) -> tuple[Fraction, Fraction]:
    """The rule's actual over ``span`` (the active part up to as_of), and the part of it that
    "counts as village work" absences credited (village days only; else 0)."""
    if rule.metric == "village_days":
        ledger = _ledger(rule, facts, zone, thresholds)
        credit = _absence_credit(ledger, facts, span, calendar)
        return ledger.total(span) + credit, credit
    return measure_actual(rule, facts, span, calendar, zone, thresholds), Fraction(0)


def measure_actual(rule: Rule, facts: Facts, span: Span, calendar: WorkingCalendar,
                   zone: ZoneInfo, thresholds: Thresholds) -> Fraction:
    """The rule's actual over ``span`` (the active part up to as_of)."""
    if rule.metric == "village_days":
        return measure(rule, facts, span, calendar, zone, thresholds)[0]
    if rule.metric == "village_hours":
        return Fraction(_ledger(rule, facts, zone, thresholds).seconds(span), 3600)
    if rule.metric == "thematic_reports":
        return Fraction(sum(1 for d in facts.report_dates if d in span))
    visits = [v for v in _visits_for(rule, facts, zone)
              if v.stay.start.astimezone(zone).date() in span]
    if rule.metric == "visits":
        return Fraction(len(visits))
    if rule.metric == "households_visited":
        return Fraction(sum(v.households or 0 for v in visits))
    linked = facts.linked_villages
    return Fraction(len({v.village_id for v in visits} & linked), len(linked))


def _opening(rule: Rule, facts: Facts) -> Fraction:
    """Opening balances are per year: they add to yearly rules only."""
    if rule.period != "year":
        return Fraction(0)
    if rule.metric == "village_days":
        return Fraction(facts.opening_village_days)
    if rule.metric == "thematic_reports":
        return Fraction(facts.opening_reports)
    return Fraction(0)


def _target(rule: Rule, own_days: int, official_period_days: int) -> Fraction:
    if rule.target.kind == "count":
        return Fraction(math.ceil(rule.target.value * own_days / official_period_days))
    if rule.metric == "linked_village_coverage":
        return rule.target.value
    return rule.target.value * own_days


def decide_status(actual: Fraction, target: Fraction, expected: Fraction, finished: bool) -> str:
    """met / on_track / at_risk / behind while running; met / missed once finished."""
    if finished:
        return "met" if actual >= target else "missed"
    if actual >= target:
        return "met"
    if actual >= expected:
        return "on_track"
    if actual >= AT_RISK_SHARE * expected:
        return "at_risk"
    return "behind"


@dataclass(frozen=True)
class Frame:
    """Everything about a result that does not depend on what the person did: the same
    for everyone with the same rule, role, active dates and absences on the same as-of date."""
    rule: Rule
    period: Period
    active: Span
    so_far: Span
    target: Fraction
    expected_to_date: Fraction
    remaining_working_days: int
    finished: bool
    calendar: str
    official_working_days: int
    working_days: int
    working_days_to_date: int
    calendar_days_left: int  # dates after as_of in the active part: a village day a date
    absences: tuple[AbsenceEffect, ...] = ()

    def reachable(self, remaining: Fraction) -> bool | None:
        """Whether ``remaining`` can still be done in the dates left: a village day can be
        earned on any date, at most one a date (RULES.md §5), and at most 24 in-village hours;
        other measures have no ceiling a date (None)."""
        ceiling = PER_DATE_CEILING.get(self.rule.metric)
        return None if ceiling is None else remaining <= ceiling * self.calendar_days_left

    def result(self, actual: Fraction, opening: Fraction = Fraction(0),
               absence_credit: Fraction = Fraction(0)) -> RuleResult:
        """The result for a person who achieved ``actual`` (``opening`` of it before the
        system, ``absence_credit`` of it by absences counted as village work)."""
        remaining = max(Fraction(0), self.target - actual)
        days = self.remaining_working_days
        return RuleResult(
            rule=self.rule, period=self.period, active=self.active.outline, actual=actual,
            target=self.target, expected_to_date=self.expected_to_date,
            status=decide_status(actual, self.target, self.expected_to_date, self.finished),
            remaining=remaining, remaining_working_days=days,
            pace_per_working_day=remaining / days if days else None, calendar=self.calendar,
            official_working_days=self.official_working_days, working_days=self.working_days,
            working_days_to_date=self.working_days_to_date,
            reachable=self.reachable(remaining), opening=opening, absences=self.absences,
            absence_credit=absence_credit, pieces=self.active.pieces)


def frame(rule: Rule, person: Person, absences: Sequence[Absence], calendar: WorkingCalendar,
          as_of: date) -> Frame | None:
    """The person-independent part of a result; None when the rule does not apply. Absences
    count once begun by ``as_of`` (RULES.md §8: leave entered for later is not known yet)."""
    period = period_containing(rule.period, as_of)
    active = person.active_part(rule, period, as_of)
    if active.empty or active.count(calendar.count) == 0:
        return None
    absences = [a for a in absences if a.start <= as_of]
    days = PersonDays(calendar, absences)
    own_total = active.count(days.count)
    target = _target(rule, own_total, calendar.count(period.start, period.end))
    so_far = active.clip(None, as_of)
    elapsed = so_far.count(days.count)
    after = active.clip(as_of + timedelta(days=1), None)
    return Frame(
        rule=rule, period=period, active=active, so_far=so_far, target=target,
        expected_to_date=target * elapsed / own_total if own_total else target,
        remaining_working_days=after.count(days.count),
        finished=as_of >= active.end, calendar=calendar.kind_of_range(period.start, period.end),
        official_working_days=active.count(calendar.count), working_days=own_total,
        working_days_to_date=elapsed,
        calendar_days_left=after.count(lambda first, last: (last - first).days + 1),
        absences=_effects(rule, absences, calendar, active, so_far))


def _effects(rule: Rule, absences: Sequence[Absence], calendar: WorkingCalendar,
             active: Span, so_far: Span) -> tuple[AbsenceEffect, ...]:
    """The absences with working days in the active part that change this rule's result: every
    one away from villages (the person's working days), and for village days also those
    counted as village work (their credit). Each with its own working days: overlapping
    absences are taken out once (``PersonDays``), so theirs may add up to more."""
    found = []
    for absence in sorted(absences, key=lambda a: (a.start, a.end, a.id or 0)):
        if absence.counts_as_village_work and rule.metric != "village_days":
            continue
        days = active.clip(absence.start, absence.end).count(calendar.count)
        if days:
            to_date = so_far.clip(absence.start, absence.end).count(calendar.count)
            found.append(AbsenceEffect(absence, days, to_date))
    return tuple(found)


def evaluate(rule: Rule, person: Person, facts: Facts, calendar: WorkingCalendar, as_of: date,
             zone: ZoneInfo, thresholds: Thresholds = Thresholds()) -> RuleResult | None:
    """The rule's result for the person as of ``as_of``; None when it does not apply."""
    if rule.metric == "linked_village_coverage" and not facts.linked_villages:
        return None
    shape = frame(rule, person, facts.absences, calendar, as_of)
    if shape is None:
        return None
    opening = actual = _opening(rule, facts)
    credit = Fraction(0)
    if not shape.so_far.empty:
        measured, credit = measure(rule, facts, shape.so_far, calendar, zone, thresholds)
        actual += measured
    return shape.result(actual, opening, credit)


def rules_known_on(rules, person: Person, as_of: date) -> list[Rule]:
    """Of ``rules``, those covering a role of the person's posts as known on ``as_of``."""
    roles = {post.role for post in person.known_on(as_of)}
    return [rule for rule in rules if any(rule.applies_to(role) for role in roles)]


def rounded(value: Fraction | None) -> Decimal | None:
    """Half up to 2 decimals, for output only."""
    if value is None:
        return None
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP)
