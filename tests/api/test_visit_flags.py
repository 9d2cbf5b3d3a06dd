"""RULES.md §1 flags through the HTTP API: every flag at its boundary and just past it.

Durations are exact where the test chooses both ends (a complete visit sends its check-in and
check-out times). Where one end is the server's own clock (late_sync, clock_skew), "exactly"
cannot be hit over HTTP — some milliseconds pass between building the request and the server
reading its clock — so those rows keep a margin on each side of the limit and say so.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from geopy.distance import geodesic

from server.geo import wgs84_to_gcj02
from tests.conftest import make_village, new_id, token_for

CST = timezone(timedelta(hours=8))
AT_VILLAGE = "at the village's point"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime, tz=CST) -> str:
    return moment.astimezone(tz).isoformat()


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def point_at(village, metres: float, bearing: float = 90.0) -> tuple[float, float]:
    """The point ``metres`` from the village's point, by geodesic (WGS-84) distance."""
    p = geodesic(meters=metres).destination((village.lat, village.lon), bearing)
    return p.latitude, p.longitude


def location(lat: float, lon: float, accuracy: float | None = 20.0, **extra) -> dict:
    return {"lat": lat, "lon": lon, "accuracy_m": accuracy, **extra}


def fix(village, moment: datetime, where=AT_VILLAGE, **extra) -> dict:
    """A check-in or check-out part; ``where`` is a location, AT_VILLAGE, or None (none)."""
    part = {"at": iso(moment), **extra}
    if where == AT_VILLAGE:
        part["location"] = location(village.lat, village.lon)
    elif where is not None:
        part["location"] = where
    return part


def visit(village, start: datetime, end: datetime | None = None, check_in=AT_VILLAGE,
          check_out=AT_VILLAGE, manual: bool | None = None) -> dict:
    """A visit body: a complete visit when ``end`` is given, else a check-in."""
    body = {"client_id": new_id(), "village_code": village.code,
            "check_in": fix(village, start, check_in)}
    if end is not None:
        extra = {} if manual is None else {"manual": manual}
        body["check_out"] = fix(village, end, check_out, **extra)
    return body


def post(client, auth, body, status=201, **headers) -> dict:
    response = client.post("/api/v1/visits", json=body, headers={**auth, **headers})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def events(client, auth, visit_id) -> list[dict]:
    response = client.get(f"/api/v1/visits/{visit_id}/events", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def auth(client, org):
    return token_for(client, org.cadre)


@pytest.fixture
def supervisor(client, org):
    return token_for(client, org.supervisor)


# --- outside_geofence -----------------------------------------------------------------------

@pytest.mark.parametrize("metres, end, flagged", [
    (0.0, "check_in", False),
    (1000.0, "check_in", False),        # exactly the radius is not farther than it
    (1000.1, "check_in", True),         # a tenth of a metre, the resolution of distance_m
    (1000.0, "check_out", False),
    (1000.1, "check_out", True),
    (25_000.0, "check_out", True),
])
@pytest.mark.parametrize("bearing", [0.0, 135.0, 270.0])
def test_outside_geofence_is_raised_beyond_the_village_radius(client, org, auth, metres, end,
                                                              flagged, bearing):
    start = now() - timedelta(hours=3)
    where = location(*point_at(org.village, metres, bearing))
    shown = post(client, auth, visit(org.village, start, start + timedelta(hours=1),
                                     **{end: where}))
    assert shown["flags"] == (["outside_geofence"] if flagged else [])
    assert shown["status"] == ("pending_review" if flagged else "verified")
    assert shown[end]["distance_m"] == pytest.approx(metres, abs=0.05)
    assert shown["distance_m"] == shown[end]["distance_m"]


def test_outside_geofence_uses_the_villages_own_radius(client, org, auth):
    small = make_village(org.town, lat=32.40, lon=118.40, radius_m=300)
    start = now() - timedelta(hours=3)
    inside = visit(small, start, start + timedelta(hours=1),
                   check_in=location(*point_at(small, 300.0)))
    outside = visit(small, start + timedelta(hours=2), start + timedelta(hours=2, minutes=30),
                    check_in=location(*point_at(small, 300.1)))
    assert post(client, auth, inside)["flags"] == []
    assert post(client, auth, outside)["flags"] == ["outside_geofence"]


def test_flags_are_fixed_when_the_data_arrives_and_a_new_radius_applies_to_new_visits(
        client, org, auth):
    start = now() - timedelta(hours=6)
    at_800_m = location(*point_at(org.village, 800.0))
    old = post(client, auth, visit(org.village, start, start + timedelta(hours=1),
                                   check_in=at_800_m))
    assert old["flags"] == []
    changed = client.patch(f"/api/v1/villages/{org.village.code}", json={"radius_m": 500},
                           headers=token_for(client, org.admin))
    assert changed.status_code == 200, changed.get_json()

    assert client.get(f"/api/v1/visits/{old['id']}", headers=auth).get_json() == old
    new = post(client, auth, visit(org.village, start + timedelta(hours=2),
                                   start + timedelta(hours=3), check_in=at_800_m))
    assert new["flags"] == ["outside_geofence"]


@pytest.mark.parametrize("crs, flags", [
    ("gcj02", []),                       # converted to WGS-84: the village's own point
    ("wgs84", ["outside_geofence"]),     # the same numbers taken as WGS-84 are ~550 m off
])
def test_a_gcj02_point_is_converted_before_its_distance_is_measured(client, org, crs, flags):
    small = make_village(org.town, lat=32.35, lon=118.35, radius_m=200)
    start = now() - timedelta(hours=3)
    gcj = location(*wgs84_to_gcj02(small.lat, small.lon), crs=crs)
    shown = post(client, token_for(client, org.cadre),
                 visit(small, start, start + timedelta(hours=1), check_in=gcj))
    assert shown["flags"] == flags
    if crs == "gcj02":
        assert shown["check_in"]["distance_m"] < 0.5


# --- low_accuracy and no_location ---------------------------------------------------------

@pytest.mark.parametrize("check_in, flags, status", [
    (location(32.30, 118.30, 0.0), [], "verified"),
    (location(32.30, 118.30, 500.0), [], "verified"),     # exactly 500 m is not worse
    (location(32.30, 118.30, 500.1), ["low_accuracy"], "pending_review"),
    (location(32.30, 118.30, None), ["low_accuracy"], "pending_review"),
    ({"lat": 32.30, "lon": 118.30}, ["low_accuracy"], "pending_review"),  # accuracy absent
    (None, ["no_location"], "verified"),                  # info: the visit still counts
])
def test_check_in_accuracy_and_location(client, org, auth, check_in, flags, status):
    start = now() - timedelta(hours=3)
    shown = post(client, auth, visit(org.village, start, start + timedelta(hours=1),
                                     check_in=check_in))
    assert shown["flags"] == flags
    assert shown["status"] == status
    assert shown["counts"] is (status == "verified")


@pytest.mark.parametrize("check_out, flags", [
    (location(32.30, 118.30, 500.0), []),
    (location(32.30, 118.30, 500.1), ["low_accuracy"]),
    (location(32.30, 118.30, None), ["low_accuracy"]),
    (None, ["no_location"]),
])
def test_check_out_accuracy_and_location(client, org, auth, check_out, flags):
    start = now() - timedelta(hours=3)
    shown = post(client, auth, visit(org.village, start, start + timedelta(hours=1),
                                     check_out=check_out))
    assert shown["flags"] == flags


def test_a_visit_without_any_location_is_accepted_verified_and_counts(client, org, auth):
    start = now() - timedelta(hours=3)
    body = visit(org.village, start, check_in=None)
    body["check_in"]["location"] = None             # null and absent alike
    opened = post(client, auth, body)
    assert opened["flags"] == ["no_location"]
    assert opened["status"] == "open"
    closed = client.post(f"/api/v1/visits/{opened['id']}/check-out",
                         json={"at": iso(start + timedelta(hours=2))}, headers=auth)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["flags"] == ["no_location"]
    assert closed.get_json()["status"] == "verified"
    assert closed.get_json()["counts"] is True
    assert closed.get_json()["distance_m"] is None


# --- too_long and manual_checkout -----------------------------------------------------------

@pytest.mark.parametrize("stay, flags", [
    (timedelta(hours=13, minutes=59, seconds=59), []),
    (timedelta(hours=14), []),                        # exactly 14 h is not more than 14 h
    (timedelta(hours=14, seconds=1), ["too_long"]),
    (timedelta(hours=30), ["too_long"]),
])
def test_too_long_is_raised_above_14_hours(client, org, auth, stay, flags):
    start = now() - timedelta(hours=40)
    shown = post(client, auth, visit(org.village, start, start + stay))
    assert shown["flags"] == flags
    assert shown["status"] == ("pending_review" if flags else "verified")


def test_too_long_is_raised_by_a_check_out_too(client, org, auth):
    start = now() - timedelta(hours=20)
    opened = post(client, auth, visit(org.village, start))
    closed = client.post(f"/api/v1/visits/{opened['client_id']}/check-out",
                         json=fix(org.village, start + timedelta(hours=14, seconds=1)),
                         headers=auth)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["flags"] == ["too_long"]
    assert closed.get_json()["status"] == "pending_review"


@pytest.mark.parametrize("manual, flags", [
    (None, []),
    (False, []),
    (True, ["manual_checkout"]),
])
def test_manual_checkout_is_raised_when_the_time_was_typed_in(client, org, auth, manual, flags):
    start = now() - timedelta(hours=5)
    shown = post(client, auth, visit(org.village, start, start + timedelta(hours=1),
                                     manual=manual))
    assert shown["flags"] == flags
    assert shown["check_out"]["manual"] is bool(manual)


# --- late_sync ------------------------------------------------------------------------------

# The server compares the check-out time with its own clock on arrival, so "exactly 7 days"
# cannot be sent over HTTP; a minute on each side leaves ample room for the request's transit.
@pytest.mark.parametrize("ago, flags", [
    (timedelta(days=6, hours=23, minutes=59), []),
    (timedelta(days=7, minutes=1), ["late_sync"]),
    (timedelta(days=30), ["late_sync"]),
])
def test_late_sync_is_raised_when_the_check_out_arrives_over_7_days_late(client, org, auth,
                                                                          ago, flags):
    end = now() - ago
    shown = post(client, auth, visit(org.village, end - timedelta(hours=1), end))
    assert shown["flags"] == flags
    assert shown["status"] == ("pending_review" if flags else "verified")


def test_late_sync_is_raised_by_a_late_check_out_of_an_open_visit(client, org, auth):
    end = now() - timedelta(days=7, minutes=1)
    opened = post(client, auth, visit(org.village, end - timedelta(hours=2)))
    closed = client.post(f"/api/v1/visits/{opened['id']}/check-out",
                         json=fix(org.village, end), headers=auth)
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["flags"] == ["late_sync"]


# --- impossible_travel ------------------------------------------------------------------------

@pytest.fixture
def travel(org, client, auth):
    """Two trips for the cadre: from 东村 at T0 to a village ``metres`` away, ``seconds`` later."""
    class Travel:
        t0 = now() - timedelta(hours=5)

        def far_village(self, metres, bearing=45.0):
            lat, lon = point_at(org.village, metres, bearing)
            return make_village(org.town, lat=lat, lon=lon)

        def earlier(self, accuracy=50.0):
            """A visit to 东村 checked out at T0, ``accuracy`` metres."""
            return visit(org.village, self.t0 - timedelta(hours=1), self.t0,
                         check_out=location(org.village.lat, org.village.lon, accuracy))

        def later(self, village, seconds, accuracy=30.0, **kw):
            """A visit to ``village`` checked in ``seconds`` after T0, ``accuracy`` metres."""
            start = self.t0 + timedelta(seconds=seconds)
            kw.setdefault("check_out", location(village.lat, village.lon))
            return visit(village, start, start + timedelta(minutes=30),
                         check_in=location(village.lat, village.lon, accuracy), **kw)
    return Travel()


@pytest.mark.parametrize("metres, seconds, accuracies, flagged", [
    (2080.0, 60, (50.0, 30.0), False),   # (2080 − 50 − 30) m in 60 s: exactly 120 km/h
    (2081.0, 60, (50.0, 30.0), True),    # 120.06 km/h
    (2080.0, 61, (50.0, 30.0), False),
    (2080.0, 60, (0.0, 0.0), True),      # the same trip with exact fixes is 124.8 km/h
    (2000.0, 60, (0.0, 0.0), False),
    (1000.0, 1, (600.0, 400.0), False),  # the accuracies cover the whole distance
    (60_000.0, 1800, (10.0, 10.0), False),  # 119.96 km/h
    (60_100.0, 1800, (10.0, 10.0), True),   # 120.16 km/h
])
def test_impossible_travel_is_raised_above_120_kmh_with_accuracies_subtracted(
        client, org, auth, travel, metres, seconds, accuracies, flagged):
    destination = travel.far_village(metres)
    post(client, auth, travel.earlier(accuracy=accuracies[0]))
    shown = post(client, auth, travel.later(destination, seconds, accuracy=accuracies[1]))
    assert shown["flags"] == (["impossible_travel"] if flagged else [])
    assert shown["status"] == ("pending_review" if flagged else "verified")


def test_impossible_travel_is_measured_from_the_latest_check_out_at_or_before_the_check_in(
        client, org, auth, travel):
    """By time, not by arrival; a visit still going on at the check-in is not "before" it."""
    far = travel.far_village(5000.0)
    t0 = travel.t0
    arrivals = [
        visit(far, t0 - timedelta(minutes=30), t0),                    # the one that matters
        visit(org.village, t0 - timedelta(hours=1), t0 - timedelta(seconds=60)),  # sent later
        visit(org.village, t0 - timedelta(hours=2), t0 + timedelta(minutes=30)),  # overlaps
    ]
    for body in arrivals:
        post(client, auth, body)
    # From 东村 either way it would be 5 km in two minutes or less; from `far` it is 0 km.
    shown = post(client, auth, visit(far, t0 + timedelta(seconds=60),
                                     t0 + timedelta(minutes=20)))
    assert shown["flags"] == []


def test_impossible_travel_ignores_visits_without_a_check_out_point(client, org, auth, travel):
    post(client, auth, visit(org.village, travel.t0 - timedelta(hours=1), travel.t0,
                             check_out=None))
    shown = post(client, auth, travel.later(travel.far_village(50_000.0), 60))
    assert shown["flags"] == []


def test_an_earlier_visit_arriving_second_re_evaluates_the_later_one(client, org, auth,
                                                                     travel):
    later = post(client, auth, travel.later(travel.far_village(2081.0), 60))
    assert later["flags"] == [] and later["status"] == "verified"

    earlier = post(client, auth, travel.earlier())
    assert earlier["flags"] == []

    now_shown = client.get(f"/api/v1/visits/{later['id']}", headers=auth).get_json()
    assert now_shown["flags"] == ["impossible_travel"]
    assert now_shown["status"] == "pending_review"
    assert now_shown["counts"] is False
    reevaluated = [e for e in events(client, auth, later["id"]) if e["action"] == "reevaluated"]
    assert len(reevaluated) == 1
    assert reevaluated[0]["from_status"] == "verified"
    assert reevaluated[0]["to_status"] == "pending_review"
    assert reevaluated[0]["actor_id"] is None              # the server, not a person
    assert reevaluated[0]["changes"]["flags"] == [[], ["impossible_travel"]]
    assert reevaluated[0]["changes"]["because_of_visit"] == earlier["id"]


def test_an_earlier_visit_closed_late_re_evaluates_the_later_one(client, org, auth, travel):
    opened = post(client, auth, visit(org.village, travel.t0 - timedelta(hours=1)))
    later = post(client, auth, travel.later(travel.far_village(2081.0), 60))
    assert later["flags"] == []
    closed = client.post(f"/api/v1/visits/{opened['id']}/check-out",
                         json=fix(org.village, travel.t0,
                                  location(org.village.lat, org.village.lon, 50.0)),
                         headers=auth)
    assert closed.status_code == 200, closed.get_json()
    now_shown = client.get(f"/api/v1/visits/{later['id']}", headers=auth).get_json()
    assert now_shown["flags"] == ["impossible_travel"]
    assert [e["action"] for e in events(client, auth, later["id"])] == ["created", "reevaluated"]


def test_an_earlier_visit_arriving_second_leaves_an_unflagged_later_one_alone(client, org, auth,
                                                                            travel):
    later = post(client, auth, travel.later(travel.far_village(2080.0), 60))
    post(client, auth, travel.earlier())
    now_shown = client.get(f"/api/v1/visits/{later['id']}", headers=auth).get_json()
    assert now_shown["flags"] == [] and now_shown["status"] == "verified"
    assert [e["action"] for e in events(client, auth, later["id"])] == ["created"]


def test_a_later_visit_already_reviewed_is_not_re_evaluated(client, org, auth, supervisor,
                                                            travel):
    later = post(client, auth, travel.later(travel.far_village(2081.0), 60, manual=True))
    assert later["flags"] == ["manual_checkout"]
    decided = client.post(f"/api/v1/visits/{later['id']}/review",
                          json={"decision": "approve", "comment": ""}, headers=supervisor)
    assert decided.status_code == 200, decided.get_json()

    post(client, auth, travel.earlier())
    now_shown = client.get(f"/api/v1/visits/{later['id']}", headers=auth).get_json()
    assert now_shown["flags"] == ["manual_checkout"]
    assert now_shown["status"] == "approved"
    assert [e["action"] for e in events(client, auth, later["id"])] == ["created", "approve"]


def test_a_later_visit_rejected_while_verified_is_not_re_evaluated(client, org, auth, supervisor,
                                                                  travel):
    later = post(client, auth, travel.later(travel.far_village(2081.0), 60))
    decided = client.post(f"/api/v1/visits/{later['id']}/review",
                          json={"decision": "reject", "comment": "不在村"}, headers=supervisor)
    assert decided.status_code == 200, decided.get_json()
    post(client, auth, travel.earlier())
    now_shown = client.get(f"/api/v1/visits/{later['id']}", headers=auth).get_json()
    assert now_shown["flags"] == [] and now_shown["status"] == "rejected"


# --- clock_skew -----------------------------------------------------------------------------

# The skew is measured against the server's clock on arrival: "exactly 5 minutes" cannot be
# sent over HTTP, so the rows keep 10 s on each side of the limit (transit takes milliseconds).
@pytest.mark.parametrize("device_ahead_by, flagged", [
    (timedelta(0), False),
    (timedelta(minutes=4, seconds=50), False),
    (-timedelta(minutes=4, seconds=50), False),
    (timedelta(minutes=5, seconds=10), True),
    (-timedelta(minutes=5, seconds=10), True),
    (timedelta(hours=3), True),
    (-timedelta(days=2), True),
])
def test_clock_skew_over_5_minutes_shifts_the_times_and_keeps_the_originals(
        client, org, auth, device_ahead_by, flagged):
    device_now = now() + device_ahead_by
    start, end = device_now - timedelta(hours=3), device_now - timedelta(hours=1)
    shown = post(client, auth, visit(org.village, start, end),
                 **{"X-Client-Time": iso(device_now)})
    assert shown["flags"] == (["clock_skew"] if flagged else [])
    assert shown["status"] == "verified"                  # info: the visit still counts
    assert shown["counts"] is True
    for part, sent in (("check_in", start), ("check_out", end)):
        assert parse(shown[part]["at_original"]) == sent
        shift = parse(shown[part]["at"]) - sent
        if flagged:
            assert abs(shift + device_ahead_by) < timedelta(seconds=5)
        else:
            assert shift == timedelta(0)


def test_clock_skew_on_check_out_shifts_the_check_out_only(client, org, auth):
    start = now() - timedelta(hours=3)
    opened = post(client, auth, visit(org.village, start))
    device_now = now() - timedelta(hours=1)               # the phone is an hour behind
    sent = device_now - timedelta(minutes=30)
    closed = client.post(f"/api/v1/visits/{opened['id']}/check-out",
                         json=fix(org.village, sent),
                         headers={**auth, "X-Client-Time": iso(device_now)})
    assert closed.status_code == 200, closed.get_json()
    shown = closed.get_json()
    assert shown["flags"] == ["clock_skew"]
    assert shown["status"] == "verified"
    assert parse(shown["check_in"]["at"]) == start
    assert parse(shown["check_out"]["at_original"]) == sent
    assert abs(parse(shown["check_out"]["at"]) - (sent + timedelta(hours=1))) \
        < timedelta(seconds=5)


def test_a_time_offset_in_the_client_time_header_is_honoured(client, org, auth):
    """X-Client-Time in UTC ('Z') and the body in +08:00 are the same clock."""
    start = now() - timedelta(hours=3)
    shown = post(client, auth, visit(org.village, start, start + timedelta(hours=1)),
                 **{"X-Client-Time": now().isoformat().replace("+00:00", "Z")})
    assert shown["flags"] == []


# --- effects ----------------------------------------------------------------------------------

def one_flag_visit(flag: str, org, travel) -> tuple[list[dict], dict]:
    """Visits to post (and headers for the last) so the last one raises ``flag`` alone."""
    start = now() - timedelta(hours=20)
    end = start + timedelta(hours=1)
    far = location(*point_at(org.village, 1500.0))
    bodies = {
        "outside_geofence": [visit(org.village, start, end, check_in=far)],
        "low_accuracy": [visit(org.village, start, end,
                               check_out=location(org.village.lat, org.village.lon, 800.0))],
        "no_location": [visit(org.village, start, end, check_out=None)],
        "too_long": [visit(org.village, start, start + timedelta(hours=15))],
        "manual_checkout": [visit(org.village, start, end, manual=True)],
        "late_sync": [visit(org.village, start - timedelta(days=9), end - timedelta(days=9))],
        "impossible_travel": [travel.earlier(),
                              travel.later(travel.far_village(30_000.0), 60)],
        "clock_skew": [visit(org.village, start, end)],
    }[flag]
    headers = {"X-Client-Time": iso(now() - timedelta(minutes=20))} if flag == "clock_skew" \
        else {}
    return bodies, headers


@pytest.mark.parametrize("flag, status, counts", [
    ("outside_geofence", "pending_review", False),
    ("low_accuracy", "pending_review", False),
    ("no_location", "verified", True),
    ("too_long", "pending_review", False),
    ("manual_checkout", "pending_review", False),
    ("late_sync", "pending_review", False),
    ("impossible_travel", "pending_review", False),
    ("clock_skew", "verified", True),
])
def test_each_flag_has_its_default_effect(client, org, auth, travel, flag, status, counts):
    bodies, headers = one_flag_visit(flag, org, travel)
    for body in bodies[:-1]:
        post(client, auth, body)
    shown = post(client, auth, bodies[-1], **headers)
    assert shown["flags"] == [flag]
    assert shown["status"] == status
    assert shown["counts"] is counts


def test_an_open_visit_stays_open_whatever_its_flags(client, org, auth):
    far = location(*point_at(org.village, 5000.0), accuracy=900.0)
    shown = post(client, auth, visit(org.village, now() - timedelta(hours=1), check_in=far))
    assert shown["flags"] == ["low_accuracy", "outside_geofence"]
    assert shown["status"] == "open"
    assert shown["counts"] is False


# --- a county's own rules -----------------------------------------------------------------------

class TestACountysRulesFile:
    """`[county."341122".flags.low_accuracy] threshold = 50` applies in 示范县 only."""

    @pytest.fixture
    def app_config(self, tmp_path):
        rules = tmp_path / "rules.toml"
        rules.write_text('[county."341122".flags.low_accuracy]\nthreshold = 50\n',
                         encoding="utf-8")
        return {"RULES_FILE": str(rules)}

    @pytest.mark.parametrize("accuracy, flags", [
        (50.0, []),
        (50.1, ["low_accuracy"]),
        (500.0, ["low_accuracy"]),
    ])
    def test_the_county_threshold_applies_to_its_people(self, client, org, accuracy, flags):
        start = now() - timedelta(hours=3)
        body = visit(org.village, start, start + timedelta(hours=1),
                     check_in=location(org.village.lat, org.village.lon, accuracy))
        assert post(client, token_for(client, org.cadre), body)["flags"] == flags

    @pytest.mark.parametrize("accuracy, flags", [
        (50.1, []),
        (500.0, []),
        (500.1, ["low_accuracy"]),
    ])
    def test_the_next_county_keeps_the_default(self, client, org, accuracy, flags):
        start = now() - timedelta(hours=3)
        village = org.other_village
        body = visit(village, start, start + timedelta(hours=1),
                     check_in=location(village.lat, village.lon, accuracy))
        assert post(client, token_for(client, org.other_cadre), body)["flags"] == flags
