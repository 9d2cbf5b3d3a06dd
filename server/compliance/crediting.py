"""Village days (RULES.md §2): merge a person's stays, split at local midnight, threshold.

All durations are whole seconds; credits are exact ``Fraction``s (0, 1/2 or 1).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

FULL, HALF, NONE = Fraction(1), Fraction(1, 2), Fraction(0)


@dataclass(frozen=True)
class Thresholds:
    """Seconds in a village on one date for a whole and a half village day."""
    full_day_s: int = 21_600
    half_day_s: int = 10_800


@dataclass(frozen=True, order=True)
class Stay:
    """A counting visit's interval [start, end), timezone-aware."""
    start: datetime
    end: datetime


def merge(stays: Iterable[Stay]) -> list[Stay]:
    """Merge overlapping or touching stays: two visits at once are one stay."""
    merged: list[Stay] = []
    for stay in sorted(s for s in stays if s.end > s.start):
        if merged and stay.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Stay(last.start, max(last.end, stay.end))
        else:
            merged.append(stay)
    return merged


def _midnight_after(moment: datetime, zone: ZoneInfo) -> datetime:
    local = moment.astimezone(zone)
    return datetime.combine(local.date() + timedelta(days=1), time(0), zone)


def seconds_by_date(stays: Iterable[Stay], zone: ZoneInfo) -> dict[date, int]:
    """In-village seconds per local date, after merging overlaps."""
    seconds: dict[date, float] = defaultdict(float)
    for stay in merge(stays):
        start = stay.start
        while start < stay.end:
            cut = min(stay.end, _midnight_after(start, zone))
            seconds[start.astimezone(zone).date()] += (cut - start).total_seconds()
            start = cut
    return {day: int(total) for day, total in seconds.items()}


def credit_for(seconds: int, thresholds: Thresholds = Thresholds()) -> Fraction:
    """1 for a full day, 1/2 for a half day, else 0."""
    if seconds >= thresholds.full_day_s:
        return FULL
    if seconds >= thresholds.half_day_s:
        return HALF
    return NONE


def credit_village_days(stays: Iterable[Stay], zone: ZoneInfo,
                        thresholds: Thresholds = Thresholds()) -> dict[date, Fraction]:
    """Village-day credit per local date (dates with no credit are left out)."""
    credits = {day: credit_for(s, thresholds) for day, s in seconds_by_date(stays, zone).items()}
    return {day: c for day, c in credits.items() if c}
