"""Working days (RULES.md §3): the official PRC calendar, loaded years, or Monday–Friday.

Years come from, in order: a list an admin loaded for that year; the chinesecalendar
library's data; otherwise Monday–Friday, marked ``estimated``. Counting is by prefix sums
per year, so any range costs two lookups.
"""
from __future__ import annotations

import csv
import io
from bisect import bisect_right
from datetime import date, timedelta

from chinese_calendar import constants as official

from .errors import CalendarFileError

OFFICIAL, ESTIMATED = "official", "estimated"
_KNOWN_YEARS = frozenset(d.year for d in official.holidays)  # every year has holidays


def library_is_workday(day: date) -> bool:
    """The chinesecalendar answer for a year it knows."""
    if day in official.workdays:
        return True
    if day in official.holidays:
        return False
    return day.weekday() < 5


class WorkingCalendar:
    """Which dates are working days; ``loaded`` maps a year to {date: is_workday}."""

    def __init__(self, loaded: dict[int, dict[date, bool]] | None = None):
        self.loaded = {year: dict(days) for year, days in (loaded or {}).items()}
        self._days: dict[int, list[date]] = {}

    def kind(self, year: int) -> str:
        """``official`` when the year's list is known, else ``estimated``."""
        return OFFICIAL if year in self.loaded or year in _KNOWN_YEARS else ESTIMATED

    def is_workday(self, day: date) -> bool:
        marks = self.loaded.get(day.year)
        if marks is not None:
            return marks.get(day, day.weekday() < 5)
        if day.year in _KNOWN_YEARS:
            return library_is_workday(day)
        return day.weekday() < 5

    def workdays_of(self, year: int) -> list[date]:
        """The year's working days in order (cached)."""
        if year not in self._days:
            day, days = date(year, 1, 1), []
            while day.year == year:
                if self.is_workday(day):
                    days.append(day)
                day += timedelta(days=1)
            self._days[year] = days
        return self._days[year]

    def count(self, first: date, last: date) -> int:
        """Working days from ``first`` to ``last``, both included (0 when last < first)."""
        if last < first:
            return 0
        total = 0
        for year in range(first.year, last.year + 1):
            days = self.workdays_of(year)
            lo = bisect_right(days, first - timedelta(days=1)) if year == first.year else 0
            hi = bisect_right(days, last) if year == last.year else len(days)
            total += hi - lo
        return total

    def days(self, first: date, last: date) -> list[date]:
        """The working days from ``first`` to ``last``, both included."""
        result = []
        for year in range(first.year, last.year + 1):
            days = self.workdays_of(year)
            result.extend(d for d in days if first <= d <= last)
        return result

    def kind_of_range(self, first: date, last: date) -> str:
        """``estimated`` if any year of the range is estimated."""
        kinds = {self.kind(y) for y in range(first.year, last.year + 1)}
        return ESTIMATED if ESTIMATED in kinds else OFFICIAL


def parse_calendar_csv(year: int, text: str) -> dict[date, bool]:
    """Read ``date,kind`` lines (kind ``holiday`` or ``workday``) for one year.

    Raises CalendarFileError naming the line and column of the first problem.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        rows = list(reader)
    except csv.Error as exc:  # e.g. a field longer than the csv module takes
        raise CalendarFileError(reader.line_num, "", str(exc)) from None
    marks: dict[date, bool] = {}
    for line_no, row in enumerate(rows, start=1):
        if not row or not "".join(row).strip() or row[0].strip().startswith("#"):
            continue
        if line_no == 1 and row[0].strip().lower() == "date":
            continue
        if len(row) < 2:
            raise CalendarFileError(line_no, "kind", "missing")
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            raise CalendarFileError(line_no, "date", "not a YYYY-MM-DD date") from None
        if day.year != year:
            raise CalendarFileError(line_no, "date", f"not in {year}")
        kind = row[1].strip().lower()
        if kind not in ("holiday", "workday"):
            raise CalendarFileError(line_no, "kind", "must be holiday or workday")
        marks[day] = kind == "workday"
    if not marks:
        raise CalendarFileError(1, "date", "no dates")
    return marks

