"""Pure flag rules of RULES.md §1: what the server finds in a visit's data."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from ..compliance.rulebook import Rulebook
from ..geo import distance_m, most_distance_m


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    accuracy_m: float | None


@dataclass(frozen=True)
class Fix:
    """A time and, perhaps, where the person was then."""
    at: datetime
    point: Point | None


def location_flags(point: Point | None, distance: float | None, radius_m: float,
                   book: Rulebook) -> set[str]:
    """Flags one check-in or check-out location raises."""
    if point is None:
        return {"no_location"}
    flags = set()
    if distance is not None and distance > radius_m:
        flags.add("outside_geofence")
    if point.accuracy_m is None or point.accuracy_m > book.threshold("low_accuracy"):
        flags.add("low_accuracy")
    return flags


def stay_flags(check_in: datetime, check_out: datetime, manual: bool, received_at: datetime,
               book: Rulebook) -> set[str]:
    """Flags the closing of a visit raises."""
    flags = set()
    if (check_out - check_in).total_seconds() > book.threshold("too_long"):
        flags.add("too_long")
    if manual:
        flags.add("manual_checkout")
    if (received_at - check_out).total_seconds() > book.threshold("late_sync"):
        flags.add("late_sync")
    return flags


def travel_speed_kmh(before: Fix, after: Fix) -> float | None:
    """Speed between two fixes, discounting both accuracies; None without both points."""
    if before.point is None or after.point is None:
        return None
    # Measured to the 0.1 m distances are shown with and divided exactly, so float noise
    # (1e-9 m in the geodesic, an ulp in ÷ and × 3.6) never decides a trip at the limit.
    a, b = before.point, after.point
    gap = _beyond_accuracies(round(distance_m(a.lat, a.lon, b.lat, b.lon), 1), a, b)
    seconds = (after.at - before.at).total_seconds()
    if gap == 0:
        return 0.0
    if seconds <= 0:
        return float("inf")
    return float(Fraction(gap) / Fraction(seconds) * Fraction(18, 5))


def is_impossible_travel(before: Fix | None, after: Fix, book: Rulebook) -> bool:
    """Whether getting from ``before`` to ``after`` would need more than the speed limit."""
    if before is None:
        return False
    limit = book.threshold("impossible_travel")
    if _surely_possible(before, after, limit):
        return False  # the geodesic could not change the answer
    speed = travel_speed_kmh(before, after)
    return speed is not None and speed > limit


def _surely_possible(before: Fix, after: Fix, limit: float) -> bool:
    """Whether the trip is within ``limit`` km/h even at an upper bound of its distance: the
    great circle on a sphere of the equator's radius, plus 1 % and 1 m (the WGS-84 geodesic
    never exceeds that sphere's arc by as much as 0.34 %), which is a few microseconds where
    the geodesic takes a hundred or more. Most trips (the next day's, a village next door)
    are decided here; the rest by ``travel_speed_kmh`` exactly."""
    if before.point is None or after.point is None:
        return True  # no speed without both points
    seconds = (after.at - before.at).total_seconds()
    if seconds <= 0:
        return False
    a, b = before.point, after.point
    gap = _beyond_accuracies(most_distance_m(a.lat, a.lon, b.lat, b.lon) * 1.01 + 1.0, a, b)
    return gap == 0 or gap / seconds * 3.6 < limit * 0.999


def _beyond_accuracies(metres: float, a: Point, b: Point) -> float:
    """The distance between two fixes that both accuracies cannot explain (never negative)."""
    return max(0.0, metres - ((a.accuracy_m or 0) + (b.accuracy_m or 0)))


def active(flags: set[str] | list[str], book: Rulebook) -> list[str]:
    """Drop flags switched off in the rule book; return the rest sorted."""
    return sorted(f for f in set(flags) if book.effect(f) != "off")


def closed_status(flags: list[str], book: Rulebook) -> str:
    """Status of a checked-out visit: pending review when any flag has effect review."""
    return "pending_review" if any(book.effect(f) == "review" for f in flags) else "verified"
