"""RULES.md §1 bad input, malformed bodies, and what a person and a supervisor may do when.

Every refusal is a JSON 4xx with ``code`` and ``message`` and stores nothing: the tests count
the rows in the database, on a connection of their own, before and after.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.visits.models import Visit, VisitEvent
from tests.conftest import new_id, token_for

CST = timezone(timedelta(hours=8))


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime, tz=CST) -> str:
    return moment.astimezone(tz).isoformat()


def here(village, accuracy=20.0) -> dict:
    return {"lat": village.lat, "lon": village.lon, "accuracy_m": accuracy}


def visit(village, start: datetime, end: datetime | None = None, manual=False, **extra) -> dict:
    body = {"client_id": new_id(), "village_code": village.code,
            "check_in": {"at": iso(start), "location": here(village)}}
    if end is not None:
        body["check_out"] = {"at": iso(end), "location": here(village), "manual": manual}
    return {**body, **extra}


def stored() -> tuple[int, int]:
    """How many visits and visit events the database holds (read on a fresh connection)."""
    with db.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Visit.__table__)),
                conn.scalar(select(func.count()).select_from(VisitEvent.__table__)))


def assert_refused(response, status: int, code: str | None = None) -> dict:
    """A JSON error of exactly ``status`` with a code and a readable message."""
    assert response.status_code == status, (response.status_code, response.get_data()[:500])
    assert response.is_json, response.get_data()[:500]
    body = response.get_json()
    assert isinstance(body.get("code"), str) and body["code"]
    assert isinstance(body.get("message"), str) and body["message"]
    if code is not None:
        assert body["code"] == code, body
    return body


@pytest.fixture
def auth(client, org):
    return token_for(client, org.cadre)


@pytest.fixture
def supervisor(client, org):
    return token_for(client, org.supervisor)


@pytest.fixture
def refused(client, auth):
    """POST a body that must be refused with ``status``; check that nothing was stored."""
    def post(body, status, code=None, path="/api/v1/visits", headers=None, **kw):
        before = stored()
        payload = {"json": body} if "data" not in kw else {}
        response = client.post(path, headers={**auth, **(headers or {})}, **payload, **kw)
        error = assert_refused(response, status, code)
        assert stored() == before
        return error
    return post


# --- RULES.md §1: refused as bad input ------------------------------------------------------

def test_a_check_out_before_the_check_in_is_refused(org, refused):
    start = now() - timedelta(hours=2)
    body = visit(org.village, start, start - timedelta(seconds=1))
    error = refused(body, 422, "checkout_before_checkin")
    assert "check_out" in error["errors"]


def test_a_check_out_before_the_check_in_is_refused_on_an_open_visit(client, org, auth, refused):
    start = now() - timedelta(hours=2)
    opened = client.post("/api/v1/visits", json=visit(org.village, start), headers=auth)
    assert opened.status_code == 201
    refused({"at": iso(start - timedelta(seconds=1))}, 422, "checkout_before_checkin",
            path=f"/api/v1/visits/{opened.get_json()['id']}/check-out")
    shown = client.get(f"/api/v1/visits/{opened.get_json()['id']}", headers=auth).get_json()
    assert shown["status"] == "open" and shown["check_out"] is None


def test_a_check_out_at_the_check_in_time_is_accepted(client, org, auth):
    start = now() - timedelta(hours=2)
    response = client.post("/api/v1/visits", json=visit(org.village, start, start), headers=auth)
    assert response.status_code == 201, response.get_json()


# The server compares with its own clock on arrival, so the accepted row keeps a minute's
# margin below the 5-minute tolerance rather than trying to hit it exactly over HTTP.
@pytest.mark.parametrize("part, ahead, accepted", [
    ("check_in", timedelta(minutes=4), True),
    ("check_in", timedelta(minutes=6), False),
    ("check_in", timedelta(days=365), False),
    ("check_out", timedelta(minutes=4), True),
    ("check_out", timedelta(minutes=6), False),
])
def test_a_time_more_than_5_minutes_in_the_future_is_refused(client, org, auth, refused, part,
                                                             ahead, accepted):
    future = now() + ahead
    if part == "check_in":
        body = visit(org.village, future)
    else:
        body = visit(org.village, now() - timedelta(hours=1), future)
    if accepted:
        assert client.post("/api/v1/visits", json=body, headers=auth).status_code == 201
    else:
        assert part in refused(body, 422, "time_in_future")["errors"]


def test_a_future_check_out_is_refused_on_an_open_visit(client, org, auth, refused):
    opened = client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=1)),
                         headers=auth).get_json()
    refused({"at": iso(now() + timedelta(minutes=6))}, 422, "time_in_future",
            path=f"/api/v1/visits/{opened['id']}/check-out")


def test_the_future_is_judged_after_the_clock_correction(client, org, auth, refused):
    """A phone an hour behind sends "10 minutes from now" by its clock: 50 min ago as sent,
    10 minutes in the future once corrected — refused."""
    device_now = now() - timedelta(hours=1)
    body = visit(org.village, device_now + timedelta(minutes=10))
    refused(body, 422, "time_in_future", headers={"X-Client-Time": iso(device_now)})


def test_a_time_in_the_future_by_a_fast_device_clock_is_corrected_and_accepted(client, org,
                                                                               auth):
    device_now = now() + timedelta(hours=1)
    response = client.post("/api/v1/visits", json=visit(org.village, device_now),
                           headers={**auth, "X-Client-Time": iso(device_now)})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["flags"] == ["clock_skew"]


@pytest.mark.parametrize("lat, lon, accepted", [
    (90.0, 118.3, True),
    (-90.0, 118.3, True),
    (32.3, 180.0, True),
    (32.3, -180.0, True),
    (90.000001, 118.3, False),
    (-90.000001, 118.3, False),
    (32.3, 180.000001, False),
    (32.3, -180.000001, False),
    (932.3, 118.3, False),
    (32.3, 1183.0, False),
])
def test_latitude_and_longitude_out_of_range_are_refused(client, org, auth, refused, lat, lon,
                                                         accepted):
    body = visit(org.village, now() - timedelta(hours=1))
    body["check_in"]["location"] = {"lat": lat, "lon": lon, "accuracy_m": 10.0}
    if accepted:
        response = client.post("/api/v1/visits", json=body, headers=auth)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["flags"] == ["outside_geofence"]
    else:
        refused(body, 422)


@pytest.mark.parametrize("part, accuracy, accepted", [
    ("check_in", 0.0, True),
    ("check_in", -0.1, False),
    ("check_in", -1e-9, False),
    ("check_out", 0.0, True),
    ("check_out", -5.0, False),
])
def test_a_negative_accuracy_is_refused(client, org, auth, refused, part, accuracy, accepted):
    start = now() - timedelta(hours=2)
    body = visit(org.village, start, start + timedelta(hours=1))
    body[part]["location"]["accuracy_m"] = accuracy
    if accepted:
        assert client.post("/api/v1/visits", json=body, headers=auth).status_code == 201
    else:
        refused(body, 422)


def test_an_unknown_village_is_refused(org, refused):
    body = visit(org.village, now() - timedelta(hours=1))
    body["village_code"] = "341122100299"
    error = refused(body, 422, "unknown_village")
    assert "village_code" in error["errors"]


@pytest.mark.parametrize("village", ["village2", "other_village"])
def test_a_village_outside_the_persons_township_is_refused(org, refused, village):
    error = refused(visit(getattr(org, village), now() - timedelta(hours=1)), 422,
                    "village_outside_township")
    assert "village_code" in error["errors"]


def test_a_new_open_visit_while_another_is_open_is_refused_naming_the_open_one(client, org,
                                                                              auth, refused):
    first = visit(org.village, now() - timedelta(hours=2))
    assert client.post("/api/v1/visits", json=first, headers=auth).status_code == 201
    error = refused(visit(org.village_b, now() - timedelta(hours=1)), 409, "visit_open")
    assert first["client_id"] in error["message"]
    assert error["errors"] == {"open_visit": [first["client_id"]]}


def test_another_persons_open_visit_does_not_block_a_check_in(client, org, auth):
    colleague = token_for(client, org.colleague)
    assert client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=2)),
                       headers=colleague).status_code == 201
    assert client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=1)),
                       headers=auth).status_code == 201


@pytest.mark.parametrize("part", ["check_in", "check_out"])
@pytest.mark.parametrize("written", ["2026-03-02T08:00:00", "2026-03-02 08:00:00",
                                     "2026-03-02"])
def test_a_time_without_a_utc_offset_is_refused(org, refused, part, written):
    body = visit(org.village, now() - timedelta(hours=3), now() - timedelta(hours=1))
    body[part]["at"] = written
    error = refused(body, 422)
    assert part in error["errors"]


def test_a_check_out_time_without_a_utc_offset_is_refused_on_an_open_visit(client, org, auth,
                                                                           refused):
    opened = client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=2)),
                         headers=auth).get_json()
    moment = (now() - timedelta(hours=1)).astimezone(CST).replace(tzinfo=None)
    error = refused({"at": moment.isoformat()}, 422,
                    path=f"/api/v1/visits/{opened['id']}/check-out")
    assert "at" in error["errors"]


@pytest.mark.parametrize("header", ["yesterday", "2026-03-02T08:00:00", "1700000000",
                                    "2026-02-30T08:00:00+08:00"])
def test_a_malformed_client_time_header_is_refused(org, refused, header):
    body = visit(org.village, now() - timedelta(hours=1))
    refused(body, 400, "invalid_client_time", headers={"X-Client-Time": header})


# --- malformed bodies ---------------------------------------------------------------------------

def valid_body(org) -> dict:
    start = now() - timedelta(hours=2)
    return visit(org.village, start, start + timedelta(hours=1), households=3, note="入户")


def changed(path: str, value):
    """A valid body with the field at the dotted ``path`` set to ``value``."""
    def make(org):
        body = valid_body(org)
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        target[last] = value
        return body
    return make


def without(path: str):
    def make(org):
        body = valid_body(org)
        *parents, last = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        del target[last]
        return body
    return make


def raw_with(path: str, literal: str):
    """The valid body as JSON text, with the field at ``path`` written as ``literal``."""
    def make(org):
        marker = "__replace_me__"
        return json.dumps(changed(path, marker)(org)).replace(f'"{marker}"', literal)
    return make


def raw(text: str):
    return lambda org: text


MALFORMED = [
    # (name, the body or raw JSON text, the status)
    ("broken JSON", raw('{"client_id": "'), 400),
    ("an empty body", raw(""), 422),                  # no body: every field is missing
    ("not UTF-8", raw(b'{"note": "\xff\xfe"}'), 400),
    ("JSON null", raw("null"), 422),
    ("a list instead of an object", raw("[]"), 422),
    ("a list of visits", lambda org: json.dumps([valid_body(org)]), 422),
    ("a string instead of an object", raw('"visit"'), 422),
    ("a number instead of an object", raw("42"), 422),
    ("an empty object", raw("{}"), 422),
    ("a missing client_id", without("client_id"), 422),
    ("a missing village_code", without("village_code"), 422),
    ("a missing check_in", without("check_in"), 422),
    ("a missing check-in time", without("check_in.at"), 422),
    ("a missing latitude", without("check_in.location.lat"), 422),
    ("a client_id that is no UUID", changed("client_id", "visit-1"), 422),
    ("a client_id as a number", changed("client_id", 12345), 422),
    ("a client_id too long", changed("client_id", "a" * 5000), 422),
    ("a village_code as a number", changed("village_code", 341122100201), 422),
    ("a village_code of letters", changed("village_code", "东村东村东村东村东村东村"), 422),
    ("a village_code as a list", changed("village_code", ["341122100201"]), 422),
    ("check_in as a string", changed("check_in", "2026-03-02T08:00:00+08:00"), 422),
    ("check_in as a list", changed("check_in", [1, 2]), 422),
    ("a check-in time that is no time", changed("check_in.at", "yesterday"), 422),
    ("a check-in time as epoch seconds", changed("check_in.at", 1772409600), 422),
    ("a check-in time on 30 February", changed("check_in.at", "2026-02-30T08:00:00+08:00"), 422),
    ("a location as a list", changed("check_in.location", [32.3, 118.3]), 422),
    ("a location as a string", changed("check_in.location", "32.3,118.3"), 422),
    ("a latitude of NaN", raw_with("check_in.location.lat", "NaN"), 422),
    ("a longitude of Infinity", raw_with("check_in.location.lon", "Infinity"), 422),
    ("a latitude of -Infinity", raw_with("check_in.location.lat", "-Infinity"), 422),
    ("an accuracy of NaN", raw_with("check_out.location.accuracy_m", "NaN"), 422),
    ("a latitude too large for a float", raw_with("check_in.location.lat", "1e400"), 422),
    ("a huge integer latitude", changed("check_in.location.lat", 10 ** 400), 422),
    ("a latitude as a boolean", changed("check_in.location.lat", True), 422),
    ("an accuracy as a boolean", changed("check_in.location.accuracy_m", False), 422),
    ("households as a boolean", changed("households", True), 422),
    ("households as a string", changed("households", "3"), 422),
    ("households as a fraction", changed("households", 2.5), 422),
    ("households negative", changed("households", -1), 422),
    ("households beyond any village", changed("households", 10 ** 30), 422),
    ("an unknown coordinate system", changed("check_in.location.crs", "bd09"), 422),
    ("an unknown activity", changed("activity", "dancing"), 422),
    ("an activity as a number", changed("activity", 7), 422),
    ("manual as neither true nor false", changed("check_out.manual", "maybe"), 422),
    ("check_out as a number", changed("check_out", 1), 422),
    ("a note as an object", changed("note", {"text": "入户"}), 422),
    ("a note over 2,000 characters", changed("note", "字" * 2001), 422),
    ("an unknown field", changed("signature", "abc"), 422),
    ("an unknown nested field", changed("check_in.photo", "base64..."), 422),
    ("an unknown field in a location", changed("check_in.location.altitude", 12.0), 422),
    ("a 1 MB string", changed("note", "x" * 1_000_000), 413),
    ("arrays nested 100,000 deep", raw("[" * 100_000 + "]" * 100_000), 400),
    ("objects nested 40,000 deep", raw('{"a":' * 40_000 + "1" + "}" * 40_000), 400),
]


@pytest.mark.parametrize("make, status", [(m, s) for _, m, s in MALFORMED],
                         ids=[name for name, _, _ in MALFORMED])
def test_a_malformed_body_is_refused_with_a_json_4xx_and_nothing_stored(org, refused, make,
                                                                        status):
    body = make(org)
    if isinstance(body, dict):
        refused(body, status)
    else:
        refused(None, status, data=body, content_type="application/json")


def test_a_body_that_is_not_json_is_refused(org, refused):
    refused(None, 422, data="client_id=1&village_code=341122100201",
            content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("path, body, status", [
    ("check-out", {"at": "yesterday"}, 422),
    ("check-out", {"at": 5}, 422),
    ("check-out", [], 422),
    ("check-out", {"at": None}, 422),
    ("check-out", {}, 422),
    ("explain", {}, 422),
    ("explain", {"note": ""}, 422),
    ("explain", {"note": ["x"]}, 422),
    ("village", {"village_code": 341122100202}, 422),
    ("village", {}, 422),
])
def test_malformed_bodies_on_a_visit_are_refused(client, org, auth, refused, path, body, status):
    opened = client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=1)),
                         headers=auth).get_json()
    refused(body, status, path=f"/api/v1/visits/{opened['id']}/{path}")


@pytest.mark.parametrize("body", [
    {"decision": "maybe", "comment": "x"},
    {"decision": None},
    {"comment": "x"},
    {"decision": "approve", "comment": 5},
    [],
])
def test_malformed_review_bodies_are_refused(client, org, auth, supervisor, body):
    start = now() - timedelta(hours=2)
    pending = client.post("/api/v1/visits", json=visit(org.village, start, start, manual=True),
                          headers=auth).get_json()
    before = stored()
    response = client.post(f"/api/v1/visits/{pending['id']}/review", json=body,
                           headers=supervisor)
    assert_refused(response, 422)
    assert stored() == before


# --- what is accepted ---------------------------------------------------------------------------

def test_a_complete_visit_in_one_request_is_accepted(client, org, auth):
    start = now() - timedelta(hours=5)
    response = client.post("/api/v1/visits", json=visit(org.village, start,
                                                        start + timedelta(hours=3)),
                           headers=auth)
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    assert shown["status"] == "verified" and shown["counts"] is True
    assert datetime.fromisoformat(shown["check_out"]["at"]) == start + timedelta(hours=3)


def test_a_complete_visit_is_accepted_while_another_is_open(client, org, auth):
    assert client.post("/api/v1/visits", json=visit(org.village, now() - timedelta(hours=1)),
                       headers=auth).status_code == 201
    start = now() - timedelta(hours=8)
    response = client.post("/api/v1/visits", json=visit(org.village_b, start,
                                                        start + timedelta(hours=2)),
                           headers=auth)
    assert response.status_code == 201, response.get_json()


def test_overlapping_closed_visits_are_accepted(client, org, auth):
    start = now() - timedelta(hours=8)
    first = visit(org.village, start, start + timedelta(hours=3))
    overlapping = visit(org.village, start + timedelta(hours=1), start + timedelta(hours=4))
    inside = visit(org.village, start + timedelta(hours=1), start + timedelta(hours=2))
    for body in (first, overlapping, inside):
        response = client.post("/api/v1/visits", json=body, headers=auth)
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "verified"
    assert stored()[0] == 3


# --- the person's corrections and the supervisor's decisions -----------------------------------

@pytest.fixture
def visit_in(client, org, auth, supervisor):
    """Make one of the cadre's visits reach ``status``; return it as shown."""
    def make(status: str) -> dict:
        start = now() - timedelta(hours=3)
        if status in ("open", "withdrawn"):
            shown = client.post("/api/v1/visits", json=visit(org.village, start),
                                headers=auth).get_json()
        else:
            manual = status in ("pending_review", "approved")
            shown = client.post("/api/v1/visits",
                                json=visit(org.village, start, start + timedelta(hours=1),
                                           manual=manual), headers=auth).get_json()
        steps = {"withdrawn": ("withdraw", auth, None),
                 "approved": ("review", supervisor, {"decision": "approve"}),
                 "rejected": ("review", supervisor, {"decision": "reject", "comment": "不在村"})}
        if status in steps:
            action, who, body = steps[status]
            response = client.post(f"/api/v1/visits/{shown['id']}/{action}", json=body,
                                   headers=who)
            assert response.status_code == 200, response.get_json()
            shown = response.get_json()
        assert shown["status"] == status
        return shown
    return make


def actions(client, auth, visit_id) -> list[str]:
    return [e["action"] for e in
            client.get(f"/api/v1/visits/{visit_id}/events", headers=auth).get_json()]


def status_of(client, auth, visit_id) -> str:
    return client.get(f"/api/v1/visits/{visit_id}", headers=auth).get_json()["status"]


@pytest.mark.parametrize("status, answer", [
    ("open", 200),
    ("pending_review", 200),
    ("verified", 409),
    ("approved", 409),
    ("rejected", 409),
])
def test_only_an_open_or_pending_visit_can_be_withdrawn(client, auth, visit_in, status, answer):
    shown = visit_in(status)
    response = client.post(f"/api/v1/visits/{shown['id']}/withdraw", headers=auth)
    if answer == 200:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "withdrawn"
        assert response.get_json()["counts"] is False
        assert actions(client, auth, shown["id"])[-1] == "withdrawn"
    else:
        assert_refused(response, 409, "cannot_withdraw")
        assert status_of(client, auth, shown["id"]) == status


def test_withdrawing_a_withdrawn_visit_again_changes_nothing(client, auth, visit_in):
    """A withdraw replayed from an offline queue finds its work done."""
    shown = visit_in("withdrawn")
    response = client.post(f"/api/v1/visits/{shown['id']}/withdraw", headers=auth)
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert actions(client, auth, shown["id"]) == ["created", "withdrawn"]


def test_a_withdrawn_visit_frees_the_person_to_check_in_again(client, org, auth, visit_in):
    visit_in("withdrawn")
    response = client.post("/api/v1/visits", json=visit(org.village_b, now()), headers=auth)
    assert response.status_code == 201, response.get_json()


def test_another_person_cannot_withdraw_a_visit(client, org, visit_in):
    shown = visit_in("open")
    colleague = token_for(client, org.colleague)
    assert client.post(f"/api/v1/visits/{shown['id']}/withdraw",
                       headers=colleague).status_code == 404


@pytest.mark.parametrize("status", ["verified", "pending_review", "approved", "rejected",
                                    "withdrawn"])
def test_the_village_can_change_only_while_the_visit_is_open(client, org, auth, visit_in,
                                                             status):
    shown = visit_in(status)
    response = client.post(f"/api/v1/visits/{shown['id']}/village",
                           json={"village_code": org.village_b.code}, headers=auth)
    assert_refused(response, 409, "visit_not_open")
    assert client.get(f"/api/v1/visits/{shown['id']}",
                      headers=auth).get_json()["village_code"] == org.village.code


def test_changing_the_village_of_an_open_visit_redoes_its_check_in_flags(client, org, auth,
                                                                       visit_in):
    shown = visit_in("open")
    assert shown["flags"] == []
    response = client.post(f"/api/v1/visits/{shown['client_id']}/village",
                           json={"village_code": org.village_b.code}, headers=auth)
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert moved["village_code"] == org.village_b.code
    assert moved["flags"] == ["outside_geofence"]   # 东村's point is ~2.9 km from 南村
    assert moved["status"] == "open"
    assert actions(client, auth, shown["id"]) == ["created", "village_changed"]


@pytest.mark.parametrize("village", ["village2", "other_village"])
def test_the_village_cannot_change_to_one_outside_the_township(client, org, auth, visit_in,
                                                               village):
    shown = visit_in("open")
    response = client.post(f"/api/v1/visits/{shown['id']}/village",
                           json={"village_code": getattr(org, village).code}, headers=auth)
    assert_refused(response, 422, "village_outside_township")


def test_a_flagged_visit_takes_an_explanation(client, org, auth, visit_in):
    shown = visit_in("pending_review")
    response = client.post(f"/api/v1/visits/{shown['id']}/explain",
                           json={"note": "手机没电，回镇上补签退"}, headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["explanation"] == "手机没电，回镇上补签退"
    assert response.get_json()["status"] == "pending_review"
    assert actions(client, auth, shown["id"])[-1] == "explained"


def test_an_unflagged_visit_takes_no_explanation(client, auth, visit_in):
    shown = visit_in("verified")
    response = client.post(f"/api/v1/visits/{shown['id']}/explain", json={"note": "x"},
                           headers=auth)
    assert_refused(response, 409, "not_flagged")


REVIEWS = [
    # (status before, decision, comment, answer, status after)
    ("pending_review", "approve", None, 200, "approved"),
    ("pending_review", "approve", "核实无误", 200, "approved"),
    ("verified", "approve", None, 409, "verified"),
    ("approved", "approve", None, 409, "approved"),
    ("rejected", "approve", None, 409, "rejected"),
    ("open", "approve", None, 409, "open"),
    ("withdrawn", "approve", None, 409, "withdrawn"),
    ("pending_review", "reject", "不在村", 200, "rejected"),
    ("verified", "reject", "当天在县里开会", 200, "rejected"),
    ("pending_review", "reject", None, 422, "pending_review"),
    ("pending_review", "reject", "", 422, "pending_review"),
    ("pending_review", "reject", "   ", 422, "pending_review"),
    ("verified", "reject", None, 422, "verified"),
    ("approved", "reject", "x", 409, "approved"),
    ("open", "reject", "x", 409, "open"),
    ("approved", "reopen", "重新核查", 200, "pending_review"),
    ("rejected", "reopen", "本人已补充说明", 200, "pending_review"),
    ("approved", "reopen", None, 422, "approved"),
    ("rejected", "reopen", "", 422, "rejected"),
    ("pending_review", "reopen", "x", 409, "pending_review"),
    ("verified", "reopen", "x", 409, "verified"),
]


@pytest.mark.parametrize("before, decision, comment, answer, after", REVIEWS)
def test_review_decisions_follow_the_state_rules(client, auth, supervisor, visit_in, before,
                                                 decision, comment, answer, after):
    shown = visit_in(before)
    trail = actions(client, auth, shown["id"])
    body = {"decision": decision} if comment is None else {"decision": decision,
                                                          "comment": comment}
    response = client.post(f"/api/v1/visits/{shown['id']}/review", json=body,
                           headers=supervisor)
    if answer == 200:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == after
        events = client.get(f"/api/v1/visits/{shown['id']}/events", headers=auth).get_json()
        assert [e["action"] for e in events] == trail + [decision]
        assert events[-1]["from_status"] == before
        assert events[-1]["to_status"] == after
        assert events[-1]["actor_name"] == "孙部长"
        assert events[-1]["comment"] == comment
    else:
        assert_refused(response, answer,
                       "comment_required" if answer == 422 else "cannot_review")
        assert status_of(client, auth, shown["id"]) == after
        assert actions(client, auth, shown["id"]) == trail


def test_a_whole_review_history_is_in_the_audit_trail(client, auth, supervisor, visit_in):
    shown = visit_in("pending_review")
    for body in ({"decision": "approve"}, {"decision": "reopen", "comment": "再看看"},
                 {"decision": "reject", "comment": "不在村"},
                 {"decision": "reopen", "comment": "本人已说明"}, {"decision": "approve"}):
        response = client.post(f"/api/v1/visits/{shown['id']}/review", json=body,
                               headers=supervisor)
        assert response.status_code == 200, response.get_json()
    events = client.get(f"/api/v1/visits/{shown['id']}/events", headers=auth).get_json()
    assert [(e["action"], e["to_status"]) for e in events] == [
        ("created", "pending_review"), ("approve", "approved"), ("reopen", "pending_review"),
        ("reject", "rejected"), ("reopen", "pending_review"), ("approve", "approved")]


@pytest.mark.parametrize("who", ["cadre", "secretary", "admin", "other_supervisor"])
def test_only_a_supervisor_in_scope_decides(client, org, visit_in, who):
    shown = visit_in("pending_review")
    response = client.post(f"/api/v1/visits/{shown['id']}/review",
                           json={"decision": "approve"},
                           headers=token_for(client, getattr(org, who)))
    # Out of scope the visit does not exist for the caller; in scope without the role, 403.
    assert_refused(response, 404 if who == "other_supervisor" else 403)
    assert status_of(client, token_for(client, org.cadre), shown["id"]) == "pending_review"
