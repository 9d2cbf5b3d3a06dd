"""The pure compliance core against RULES.md §2–§5, without an app or a database."""
import ast
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.compliance.calendar import WorkingCalendar, parse_calendar_csv
from server.compliance.crediting import Stay, Thresholds, credit_village_days, seconds_by_date
from server.compliance.engine import (
    Absence,
    DailyLedger,
    Facts,
    Person,
    VisitFact,
    evaluate,
    period_containing,
    rounded,
)
from server.compliance.errors import CalendarFileError
from server.compliance.rulebook import RulebookError, load_ruleset

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOOK = load_ruleset().default
VILLAGE_TIME = next(r for r in BOOK.rules if r.id == "village_time")
REPORTS = next(r for r in BOOK.rules if r.id == "thematic_reports")
CALENDAR = WorkingCalendar()


def local(y, m, d, hh=0, mm=0, ss=0, zone=SHANGHAI):
    return datetime(y, m, d, hh, mm, ss, tzinfo=zone)


def credits_worth(days: Fraction, start=date(2026, 1, 5)) -> DailyLedger:
    """A ledger holding ``days`` village days, a whole day per date (a half at the end)."""
    credits, day = {}, start
    while days > 0:
        credits[day] = min(Fraction(1), days)
        days -= credits[day]
        day += timedelta(days=1)
    return DailyLedger(credits)


def village_time(actual_days, as_of=date(2026, 6, 30), person=Person("cadre"), **facts):
    return evaluate(VILLAGE_TIME, person, Facts(credits=credits_worth(Fraction(actual_days)),
                                                **facts), CALENDAR, as_of, SHANGHAI)


# --- the core has no Flask and no SQLAlchemy ----------------------------------------------

def test_the_compliance_core_imports_neither_flask_nor_sqlalchemy():
    core = Path(__file__).resolve().parents[2] / "server" / "compliance"
    for path in core.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            for name in names:
                assert name.split(".")[0] not in ("flask", "sqlalchemy", "flask_sqlalchemy"), \
                    f"{path.name} imports {name}"


# --- RULES.md §5 worked example -------------------------------------------------------------

def test_2026_has_248_working_days_and_120_by_the_end_of_june():
    assert CALENDAR.count(date(2026, 1, 1), date(2026, 12, 31)) == 248
    assert CALENDAR.count(date(2026, 1, 1), date(2026, 6, 30)) == 120


@pytest.mark.parametrize("actual, status", [(35, "at_risk"), (Fraction(63, 2), "behind"),
                                            (40, "on_track")])
def test_the_worked_example_of_rules_section_5(actual, status):
    result = village_time(actual)
    assert result.target == Fraction(248, 3)
    assert str(rounded(result.target)) == "82.67"
    assert result.expected_to_date == 40
    assert result.status == status
    assert result.calendar == "official"


def test_a_secretary_with_three_reports_at_the_end_of_june_is_on_track():
    facts = Facts(report_dates=[date(2026, 2, 1), date(2026, 3, 1), date(2026, 5, 20)])
    result = evaluate(REPORTS, Person("secretary"), facts, CALENDAR, date(2026, 6, 30), SHANGHAI)
    assert result.target == 6
    assert str(rounded(result.expected_to_date)) == "2.90"
    assert result.status == "on_track"


def test_reports_apply_to_secretaries_only():
    assert evaluate(REPORTS, Person("cadre"), Facts(), CALENDAR, date(2026, 6, 30),
                    SHANGHAI) is None


# --- §2 crediting -----------------------------------------------------------------------------

@pytest.mark.parametrize("stays, expected", [
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 14))], {date(2026, 3, 2): 1}),
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 13, 59, 59))], {date(2026, 3, 2): Fraction(1, 2)}),
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 11))], {date(2026, 3, 2): Fraction(1, 2)}),
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 10, 59, 59))], {}),
    # overlapping visits are one stay: 8–12 and 10–14 is 6 h, not 8 h of two visits
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 12)), (local(2026, 3, 2, 10),
                                                      local(2026, 3, 2, 14))],
     {date(2026, 3, 2): 1}),
    ([(local(2026, 3, 2, 8), local(2026, 3, 2, 12)), (local(2026, 3, 2, 9),
                                                      local(2026, 3, 2, 11))],
     {date(2026, 3, 2): Fraction(1, 2)}),
    # across local midnight: 20:00–06:00 is 4 h + 6 h
    ([(local(2026, 3, 2, 20), local(2026, 3, 3, 6))],
     {date(2026, 3, 2): Fraction(1, 2), date(2026, 3, 3): 1}),
    # the same instant written in UTC: 12:00Z–18:00Z is 20:00–02:00 Shanghai
    ([(datetime(2026, 3, 2, 12, tzinfo=UTC), datetime(2026, 3, 2, 18,
                                                               tzinfo=UTC))],
     {date(2026, 3, 2): Fraction(1, 2)}),
    # a weekend counts like any day
    ([(local(2026, 3, 7, 8), local(2026, 3, 7, 15))], {date(2026, 3, 7): 1}),
    # a 30 h stay never credits more than 1 on a date
    ([(local(2026, 3, 2, 0), local(2026, 3, 3, 6))], {date(2026, 3, 2): 1, date(2026, 3, 3): 1}),
], ids=["6h", "6h-1s", "3h", "3h-1s", "overlap", "nested", "midnight", "utc-offset", "weekend",
        "long"])
def test_village_day_credits(stays, expected):
    assert credit_village_days([Stay(a, b) for a, b in stays], SHANGHAI) == expected


def test_thresholds_are_settings():
    stays = [Stay(local(2026, 3, 2, 8), local(2026, 3, 2, 12))]
    assert credit_village_days(stays, SHANGHAI, Thresholds(14_400, 7_200)) == {date(2026, 3, 2): 1}


moments = st.integers(min_value=0, max_value=20 * 24 * 3600).map(
    lambda s: local(2026, 3, 1) + timedelta(seconds=s))
stays_strategy = st.lists(st.tuples(moments, st.integers(1, 40 * 3600)).map(
    lambda t: Stay(t[0], t[0] + timedelta(seconds=t[1]))), max_size=12)


@settings(max_examples=200, deadline=None)
@given(stays_strategy, st.randoms())
def test_credits_do_not_depend_on_the_order_of_visits(stays, rnd):
    shuffled = list(stays)
    rnd.shuffle(shuffled)
    assert credit_village_days(stays, SHANGHAI) == credit_village_days(shuffled, SHANGHAI)


@settings(max_examples=200, deadline=None)
@given(stays_strategy, st.data())
def test_splitting_a_visit_into_two_adjacent_ones_changes_nothing(stays, data):
    if not stays:
        return
    index = data.draw(st.integers(0, len(stays) - 1))
    stay = stays[index]
    length = int((stay.end - stay.start).total_seconds())
    cut = stay.start + timedelta(seconds=data.draw(st.integers(0, length)))
    split = stays[:index] + [Stay(stay.start, cut), Stay(cut, stay.end)] + stays[index + 1:]
    assert credit_village_days(split, SHANGHAI) == credit_village_days(stays, SHANGHAI)


@settings(max_examples=200, deadline=None)
@given(stays_strategy)
def test_no_date_ever_gets_more_than_one(stays):
    assert all(0 < c <= 1 for c in credit_village_days(stays, SHANGHAI).values())
    assert all(s <= 86_400 for s in seconds_by_date(stays, SHANGHAI).values())


# --- §3 calendar ------------------------------------------------------------------------------

def test_make_up_workdays_count_and_holidays_do_not():
    assert CALENDAR.is_workday(date(2026, 1, 4))  # a Sunday made a workday (调休)
    assert not CALENDAR.is_workday(date(2026, 10, 1))  # National Day


def test_a_year_the_library_does_not_know_is_monday_to_friday_and_estimated():
    assert CALENDAR.kind(2030) == "estimated"
    assert CALENDAR.count(date(2030, 1, 1), date(2030, 12, 31)) == 261
    result = evaluate(VILLAGE_TIME, Person("cadre"), Facts(), CALENDAR, date(2030, 6, 30),
                      SHANGHAI)
    assert result.calendar == "estimated"
    assert result.target == Fraction(261, 3)


def test_a_loaded_year_is_official_and_its_marks_apply():
    marks = parse_calendar_csv(2030, "date,kind\n2030-01-01,holiday\n2030-01-05,workday\n")
    calendar = WorkingCalendar({2030: marks})
    assert calendar.kind(2030) == "official"
    assert not calendar.is_workday(date(2030, 1, 1))
    assert calendar.is_workday(date(2030, 1, 5))
    assert calendar.count(date(2030, 1, 1), date(2030, 12, 31)) == 261


@pytest.mark.parametrize("text, match", [
    ("2030-13-01,holiday\n", "line 1, column date"),
    ("2030-01-01,party\n", "line 1, column kind"),
    ("2029-01-01,holiday\n", "not in 2030"),
    ("date,kind\n2030-01-01\n", "line 2, column kind"),
])
def test_a_bad_calendar_file_names_the_line_and_column(text, match):
    with pytest.raises(CalendarFileError, match=match):
        parse_calendar_csv(2030, text)


# --- §4–§5 rules over a person's year ---------------------------------------------------------

@pytest.mark.parametrize("as_of, actual, status", [
    (date(2026, 12, 31), Fraction(248, 3), "met"),
    (date(2026, 12, 31), 82, "missed"),
    (date(2026, 6, 30), 83, "met"),
    (date(2026, 6, 30), 32, "at_risk"),
    (date(2026, 6, 30), Fraction(6399, 200), "behind"),  # just under 0.8 × 40 = 32
])
def test_statuses_at_their_boundaries(as_of, actual, status):
    assert village_time(actual, as_of=as_of).status == status


def test_a_person_who_joined_mid_year_is_measured_over_their_active_part():
    person = Person("cadre", active_from=date(2026, 7, 1))
    result = village_time(0, as_of=date(2026, 9, 30), person=person)
    assert result.target == Fraction(248 - 120, 3)
    assert result.active.start == date(2026, 7, 1)
    elapsed = CALENDAR.count(date(2026, 7, 1), date(2026, 9, 30))
    assert result.expected_to_date == Fraction(128, 3) * elapsed / 128


def test_before_the_active_part_nothing_is_expected():
    person = Person("cadre", active_from=date(2026, 7, 1))
    result = village_time(0, as_of=date(2026, 6, 30), person=person)
    assert result.expected_to_date == 0
    assert result.actual == 0
    assert result.status == "on_track"


def test_a_rule_does_not_apply_when_the_active_part_has_no_working_day():
    person = Person("cadre", active_from=date(2026, 10, 1), active_until=date(2026, 10, 7))
    assert village_time(0, as_of=date(2026, 11, 1), person=person) is None


def test_leave_reduces_the_persons_working_days_and_so_the_target():
    leave = [Absence(date(2026, 3, 2), date(2026, 3, 13)),  # two weeks: 10 working days
             Absence(date(2026, 3, 9), date(2026, 3, 20))]  # overlapping: one more week
    result = village_time(0, absences=leave)
    assert result.target == Fraction(248 - 15, 3)


def test_official_duty_that_counts_as_village_work_credits_one_day_per_working_day():
    duty = [Absence(date(2026, 3, 2), date(2026, 3, 8), counts_as_village_work=True)]
    credits = DailyLedger({date(2026, 3, 2): Fraction(1, 2), date(2026, 3, 7): Fraction(1)})
    result = evaluate(VILLAGE_TIME, Person("cadre"), Facts(credits=credits, absences=duty),
                      CALENDAR, date(2026, 6, 30), SHANGHAI)
    # 5 working days credit 1 each (the half on Monday tops up to 1) + Saturday's own visit
    assert result.actual == 6
    assert result.target == Fraction(248, 3)


def test_an_opening_balance_is_added_to_actual():
    result = village_time(10, opening_village_days=Fraction(21, 2))
    assert result.actual == Fraction(41, 2)


def test_a_count_target_is_pro_rated_and_rounded_up():
    person = Person("secretary", active_from=date(2026, 7, 1))
    result = evaluate(REPORTS, person, Facts(), CALENDAR, date(2026, 8, 1), SHANGHAI)
    assert result.target == 4  # 6 × 128 ÷ 248 = 3.1 → 4


def test_a_person_active_all_year_owes_the_full_count():
    result = evaluate(REPORTS, Person("secretary"), Facts(), CALENDAR, date(2026, 8, 1), SHANGHAI)
    assert result.target == 6


def test_remaining_and_pace():
    result = village_time(40)
    assert result.remaining == Fraction(248, 3) - 40
    assert result.remaining_working_days == 128
    assert result.pace_per_working_day == (Fraction(248, 3) - 40) / 128


def test_no_pace_when_no_working_day_remains():
    result = village_time(0, as_of=date(2026, 12, 31))
    assert result.remaining_working_days == 0
    assert result.pace_per_working_day is None


@pytest.mark.parametrize("kind, day, start, end", [
    ("year", date(2026, 5, 5), date(2026, 1, 1), date(2026, 12, 31)),
    ("quarter", date(2026, 5, 5), date(2026, 4, 1), date(2026, 6, 30)),
    ("month", date(2026, 2, 14), date(2026, 2, 1), date(2026, 2, 28)),
    ("quarter", date(2026, 12, 31), date(2026, 10, 1), date(2026, 12, 31)),
])
def test_periods(kind, day, start, end):
    period = period_containing(kind, day)
    assert (period.start, period.end) == (start, end)


def test_rounding_is_half_up_to_two_decimals():
    assert str(rounded(Fraction(1, 8))) == "0.13"
    assert str(rounded(Fraction(248, 3))) == "82.67"
    assert str(rounded(Fraction(-1, 8))) == "-0.13"


# --- §7 rules as data ------------------------------------------------------------------------

def _book(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return load_ruleset(str(path))


def test_a_county_can_add_a_quarterly_household_rule_and_change_a_threshold(tmp_path):
    rules = _book(tmp_path, """
[county."341122"]
[[county."341122".rules]]
id = "households"
title_zh = "入户走访户数"
title_en = "Households visited"
roles = ["cadre"]
metric = "households_visited"
period = "quarter"
target = { count = 30 }
activities = ["household_visit"]
[county."341122".crediting]
full_day_seconds = 18000
""")
    county = rules.for_county("341122")
    assert [r.id for r in county.rules] == ["village_time", "thematic_reports", "households"]
    assert county.thresholds.full_day_s == 18000
    assert [r.id for r in rules.default.rules] == ["village_time", "thematic_reports"]


def test_households_are_summed_over_matching_counting_visits_in_the_quarter(tmp_path):
    rule = next(r for r in _book(tmp_path, """
[[rules]]
id = "households"
title_zh = "入户"
title_en = "Households"
roles = ["cadre"]
metric = "households_visited"
period = "quarter"
target = { count = 30 }
activities = ["household_visit"]
""").default.rules if r.id == "households")
    visits = [VisitFact(Stay(local(2026, 4, 2, 9), local(2026, 4, 2, 12)), 1, "household_visit", 7),
              VisitFact(Stay(local(2026, 4, 3, 9), local(2026, 4, 3, 12)), 1, "meeting", 50),
              VisitFact(Stay(local(2026, 3, 31, 9), local(2026, 3, 31, 12)), 1,
                        "household_visit", 9)]
    result = evaluate(rule, Person("cadre"), Facts(visits=visits), CALENDAR, date(2026, 5, 1),
                      SHANGHAI)
    assert result.actual == 7
    assert (result.period.start, result.period.end) == (date(2026, 4, 1), date(2026, 6, 30))


@pytest.mark.parametrize("text, match", [
    ('[[rules]]\nid = "x"\ntitle_zh = "x"\ntitle_en = "x"\nroles = ["cadre"]\n'
     'metric = "steps"\nperiod = "year"\ntarget = { count = 1 }\n', r"rules\.x\.metric"),
    ('[[rules]]\nid = "x"\ntitle_zh = "x"\ntitle_en = "x"\nroles = ["cadre"]\n'
     'metric = "visits"\nperiod = "week"\ntarget = { count = 1 }\n', r"rules\.x\.period"),
    ('[[rules]]\nid = "x"\ntitle_zh = "x"\ntitle_en = "x"\nroles = ["cadre"]\n'
     'metric = "visits"\nperiod = "year"\ntarget = { fraction = "one third" }\n',
     r"rules\.x\.target\.fraction"),
    ('[flags.low_accuracy]\neffect = "block"\n', r"flags\.low_accuracy\.effect"),
    ('[crediting]\nhalf_day_seconds = 30000\n', r"crediting\.half_day_seconds"),
])
def test_an_invalid_rule_file_is_refused_naming_the_rule_and_field(tmp_path, text, match):
    with pytest.raises(RulebookError, match=match):
        _book(tmp_path, text)
