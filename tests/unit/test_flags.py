"""RULES.md §1 flag rules and the geometry under them, without an app or a database."""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from geopy.distance import geodesic
from hypothesis import given, settings
from hypothesis import strategies as st

from server.compliance.rulebook import _merge, build_rulebook, load_ruleset
from server.geo import distance_m, gcj02_to_wgs84, most_distance_m, wgs84_to_gcj02
from server.visits.flags import (
    Fix,
    Point,
    active,
    closed_status,
    is_impossible_travel,
    location_flags,
    stay_flags,
    travel_speed_kmh,
)

BOOK = load_ruleset().default
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
VILLAGE = (32.30, 118.30)

CITIES = {  # WGS-84 points across China, from the tropics to the far north-west
    "北京": (39.9042, 116.4074), "上海": (31.2304, 121.4737), "滁州": (32.30, 118.30),
    "乌鲁木齐": (43.8256, 87.6168), "哈尔滨": (45.8038, 126.5350), "三亚": (18.2528, 109.5119),
    "拉萨": (29.6520, 91.1721),
}


def book_with(override: dict):
    """The shipped rule book with ``override`` merged in."""
    return build_rulebook(_merge(BOOK.raw, override))


def point_at(meters: float, bearing: float = 90.0, origin=VILLAGE) -> tuple[float, float]:
    """The point ``meters`` from ``origin`` along ``bearing``, by geodesic distance."""
    p = geodesic(meters=meters).destination(origin, bearing)
    return p.latitude, p.longitude


# --- geodesic distance --------------------------------------------------------------------

@pytest.mark.parametrize("a, b, metres", [
    ((0.0, 0.0), (0.0, 0.0), 0.0),
    ((0.0, 0.0), (0.0, 1.0), 111_319.491),   # one degree along the equator, WGS-84
    ((0.0, 0.0), (1.0, 0.0), 110_574.389),   # one degree along a meridian from the equator
    ((0.0, 0.0), (0.0, 180.0), 20_003_931.459),  # antipodal points on the equator
])
def test_distance_is_geodesic_on_the_wgs84_ellipsoid(a, b, metres):
    assert distance_m(*a, *b) == pytest.approx(metres, abs=0.001)


def test_distance_is_symmetric():
    a, b = CITIES["北京"], CITIES["上海"]
    assert distance_m(*a, *b) == distance_m(*b, *a)
    assert distance_m(*a, *b) == pytest.approx(1_067_000, rel=0.01)


@pytest.mark.parametrize("metres", [0.5, 1000.0, 2080.0, 120_000.0])
@pytest.mark.parametrize("bearing", [0.0, 45.0, 137.0, 270.0])
def test_a_point_placed_at_a_geodesic_distance_measures_back_to_it(metres, bearing):
    assert distance_m(*VILLAGE, *point_at(metres, bearing)) == pytest.approx(metres, abs=1e-6)


@given(st.floats(-90, 90), st.floats(-180, 180), st.floats(-1, 1), st.floats(-1, 1),
       st.sampled_from([1e-5, 1e-3, 0.1, 10.0, 90.0]))
@settings(max_examples=400, deadline=None)
def test_the_quick_bound_is_never_below_the_geodesic(lat, lon, dlat, dlon, scale):
    """``most_distance_m`` (the travel check's shortcut) stays within 0.34 % of the geodesic,
    so 1 % more and a metre is an upper bound anywhere, poles and long trips included."""
    lat2, lon2 = min(90.0, max(-90.0, lat + dlat * scale)), lon + dlon * scale
    exact = distance_m(lat, lon, lat2, lon2)
    assert exact <= most_distance_m(lat, lon, lat2, lon2) * 1.0034 + 1e-6


# --- GCJ-02 ---------------------------------------------------------------------------------

@pytest.mark.parametrize("city", CITIES)
def test_gcj02_round_trip_lands_within_half_a_metre(city):
    wgs = CITIES[city]
    assert distance_m(*wgs, *gcj02_to_wgs84(*wgs84_to_gcj02(*wgs))) < 0.5


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(19.0, 53.0), lon=st.floats(74.0, 134.0))
def test_gcj02_round_trip_lands_within_half_a_metre_anywhere_in_china(lat, lon):
    assert distance_m(lat, lon, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lon))) < 0.5


@pytest.mark.parametrize("city", CITIES)
def test_gcj02_shifts_points_in_china_by_hundreds_of_metres(city):
    wgs = CITIES[city]
    assert 100 < distance_m(*wgs, *wgs84_to_gcj02(*wgs)) < 800


@pytest.mark.parametrize("point", [(48.8566, 2.3522), (-33.8688, 151.2093), (40.7128, -74.006)])
def test_gcj02_leaves_points_outside_china_unchanged(point):
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


# --- location flags -----------------------------------------------------------------------

@pytest.mark.parametrize("accuracy, distance, flags", [
    (20.0, 0.0, set()),
    (20.0, 1000.0, set()),                         # exactly the radius: not farther
    (20.0, 1000.1, {"outside_geofence"}),
    (500.0, 0.0, set()),                           # exactly 500 m: not worse
    (500.1, 0.0, {"low_accuracy"}),
    (None, 0.0, {"low_accuracy"}),                 # a location without accuracy
    (0.0, 0.0, set()),
    (501.0, 5000.0, {"low_accuracy", "outside_geofence"}),
])
def test_location_flags_at_their_boundaries(accuracy, distance, flags):
    point = Point(*VILLAGE, accuracy)
    assert location_flags(point, distance, 1000, BOOK) == flags


def test_a_missing_location_is_only_no_location():
    assert location_flags(None, None, 1000, BOOK) == {"no_location"}


def test_the_low_accuracy_threshold_comes_from_the_rule_book():
    strict = book_with({"flags": {"low_accuracy": {"threshold": 50}}})
    assert location_flags(Point(*VILLAGE, 50.0), 0.0, 1000, strict) == set()
    assert location_flags(Point(*VILLAGE, 50.1), 0.0, 1000, strict) == {"low_accuracy"}


# --- stay flags ---------------------------------------------------------------------------

@pytest.mark.parametrize("stay, manual, arrived_after, flags", [
    (timedelta(hours=14), False, timedelta(0), set()),
    (timedelta(hours=14, seconds=1), False, timedelta(0), {"too_long"}),
    (timedelta(0), False, timedelta(0), set()),
    (timedelta(hours=1), True, timedelta(0), {"manual_checkout"}),
    (timedelta(hours=1), False, timedelta(days=7), set()),
    (timedelta(hours=1), False, timedelta(days=7, seconds=1), {"late_sync"}),
    (timedelta(hours=15), True, timedelta(days=8), {"too_long", "manual_checkout", "late_sync"}),
])
def test_stay_flags_at_their_boundaries(stay, manual, arrived_after, flags):
    check_out = T0 + stay
    assert stay_flags(T0, check_out, manual, check_out + arrived_after, BOOK) == flags


# --- travel speed -------------------------------------------------------------------------

def fix_at(seconds: float, lat: float, lon: float, accuracy: float | None) -> Fix:
    return Fix(T0 + timedelta(seconds=seconds), Point(lat, lon, accuracy))


def test_travel_speed_subtracts_both_accuracies_from_the_distance():
    before = fix_at(0, *VILLAGE, 50.0)
    after = fix_at(60, *point_at(2080.0), 30.0)
    assert travel_speed_kmh(before, after) == pytest.approx(120.0)  # (2080 − 50 − 30) m / 60 s


def test_travel_speed_without_accuracies_uses_the_whole_distance():
    before = fix_at(0, *VILLAGE, None)
    after = fix_at(60, *point_at(2000.0), None)
    assert travel_speed_kmh(before, after) == pytest.approx(120.0)


def test_travel_speed_is_zero_when_the_accuracies_cover_the_distance():
    before = fix_at(0, *VILLAGE, 600.0)
    after = fix_at(1, *point_at(1000.0), 600.0)
    assert travel_speed_kmh(before, after) == 0.0


def test_travel_speed_is_unknown_without_both_points():
    assert travel_speed_kmh(Fix(T0, None), fix_at(60, *VILLAGE, 10.0)) is None
    assert travel_speed_kmh(fix_at(0, *VILLAGE, 10.0), Fix(T0, None)) is None


def test_travel_speed_over_no_time_at_all_is_infinite():
    assert travel_speed_kmh(fix_at(0, *VILLAGE, 10.0), fix_at(0, *point_at(500.0), 10.0)) \
        == math.inf


@pytest.mark.parametrize("distance, seconds, accuracies, impossible", [
    (2080.0, 60, (50.0, 30.0), False),     # exactly 120 km/h once the accuracies are subtracted
    (2081.0, 60, (50.0, 30.0), True),
    (2080.0, 60, (0.0, 0.0), True),        # the same trip with exact fixes: 124.8 km/h
    (2000.0, 60, (None, None), False),     # 120 km/h exactly
    (2000.0, 59, (None, None), True),
    (120_000.0, 3600, (0.0, 0.0), False),  # 120 km in an hour
    (120_100.0, 3600, (0.0, 0.0), True),
])
@pytest.mark.parametrize("bearing", [0.0, 90.0, 315.0])  # the geodesic's float noise varies
def test_impossible_travel_is_above_120_kmh(distance, seconds, accuracies, impossible, bearing):
    before = fix_at(0, *VILLAGE, accuracies[0])
    after = fix_at(seconds, *point_at(distance, bearing), accuracies[1])
    assert is_impossible_travel(before, after, BOOK) is impossible


@given(st.floats(0, 300_000), st.floats(0, 360), st.integers(-10, 100_000),
       st.one_of(st.none(), st.floats(0, 5000)), st.one_of(st.none(), st.floats(0, 5000)))
@settings(max_examples=400, deadline=None)
def test_the_quick_travel_answer_is_the_geodesic_one(distance, bearing, seconds, acc1, acc2):
    """Trips the bound decides are answered as the exact speed would answer them."""
    before = fix_at(0, *VILLAGE, acc1)
    after = fix_at(seconds, *point_at(distance, bearing), acc2)
    speed = travel_speed_kmh(before, after)
    assert is_impossible_travel(before, after, BOOK) is (speed > 120)


def test_a_first_visit_has_no_travel_to_check():
    assert is_impossible_travel(None, fix_at(0, *VILLAGE, 10.0), BOOK) is False


# --- status -------------------------------------------------------------------------------

@pytest.mark.parametrize("flags, status", [
    ([], "verified"),
    (["no_location"], "verified"),
    (["clock_skew"], "verified"),
    (["clock_skew", "no_location"], "verified"),
    (["outside_geofence"], "pending_review"),
    (["low_accuracy"], "pending_review"),
    (["too_long"], "pending_review"),
    (["manual_checkout"], "pending_review"),
    (["late_sync"], "pending_review"),
    (["impossible_travel"], "pending_review"),
    (["clock_skew", "late_sync", "no_location"], "pending_review"),
])
def test_closed_status_is_pending_review_when_any_flag_has_effect_review(flags, status):
    assert closed_status(flags, BOOK) == status


def test_closed_status_follows_the_effects_in_the_rule_book():
    lenient = book_with({"flags": {"manual_checkout": {"effect": "info"}}})
    strict = book_with({"flags": {"no_location": {"effect": "review"}}})
    assert closed_status(["manual_checkout"], lenient) == "verified"
    assert closed_status(["no_location"], strict) == "pending_review"


def test_flags_switched_off_are_dropped_and_the_rest_sorted():
    book = book_with({"flags": {"late_sync": {"effect": "off"}}})
    assert active({"too_long", "late_sync", "clock_skew"}, book) == ["clock_skew", "too_long"]
