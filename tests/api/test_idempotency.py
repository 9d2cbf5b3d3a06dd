"""API.md: visits are idempotent per user by ``client_id``; check-outs may be replayed.

A replay is the same request after normalising — key order, time zone notation and
absent-vs-null do not matter — and answers 200 with the visit as it is now; anything else
under a used ``client_id`` is a 409. The last tests post concurrently to a running server.
"""
from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import func, select

from server.extensions import db
from server.visits.models import Visit, VisitEvent
from tests.conftest import PASSWORD, new_id, token_for
from tests.server_process import zaicun_serve

CST = timezone(timedelta(hours=8))
# Fixed once, so that a body and its replays, built apart, name the very same instants.
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=5)
END = START + timedelta(hours=2)


def iso(moment: datetime, tz=CST) -> str:
    return moment.astimezone(tz).isoformat()


def here(village, accuracy=20.0) -> dict:
    return {"lat": village.lat, "lon": village.lon, "accuracy_m": accuracy}


def check_in(village, **extra) -> dict:
    return {"client_id": new_id(), "village_code": village.code,
            "check_in": {"at": iso(START), "location": here(village)}, **extra}


def complete(village, **extra) -> dict:
    return {**check_in(village),
            "check_out": {"at": iso(END), "location": here(village), "manual": False},
            "households": 3, "note": "入户走访", **extra}


def stored() -> tuple[int, int]:
    """How many visits and visit events the database holds (read on a fresh connection)."""
    with db.engine.connect() as conn:
        return (conn.scalar(select(func.count()).select_from(Visit.__table__)),
                conn.scalar(select(func.count()).select_from(VisitEvent.__table__)))


def reordered(value):
    """The same JSON value with every object's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reordered(value[k]) for k in reversed(list(value))}
    return value


@pytest.fixture
def auth(client, org):
    return token_for(client, org.cadre)


@pytest.fixture
def post(client, auth):
    def send(body, status, headers=None, raw: str | None = None):
        kwargs = {"data": raw, "content_type": "application/json"} if raw else {"json": body}
        response = client.post("/api/v1/visits", headers={**auth, **(headers or {})}, **kwargs)
        assert response.status_code == status, response.get_json()
        return response.get_json()
    return send


# --- replays of POST /visits ----------------------------------------------------------------

def same_instant_other_notation(body: dict) -> dict:
    body = json.loads(json.dumps(body))
    for part in ("check_in", "check_out"):
        if body.get(part):
            moment = datetime.fromisoformat(body[part]["at"])
            body[part]["at"] = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return body


def with_nulls(body: dict) -> dict:
    """Every optional field written out as null (or its default) instead of left out."""
    body = json.loads(json.dumps(body))
    body.update({"activity": None, "households": body.get("households"),
                 "note": body.get("note"), "check_out": body.get("check_out")})
    body["check_in"]["location"]["crs"] = "wgs84"
    if body["check_out"]:
        body["check_out"]["location"]["crs"] = "wgs84"
    return body


def without_nulls(body: dict) -> dict:
    return {k: v for k, v in body.items() if v is not None}


REPLAYS = [
    ("the very same body", lambda body: body),
    ("keys in another order", reordered),
    ("times in UTC with Z", same_instant_other_notation),
    ("times in +00:00 with milliseconds", lambda body: {
        **body, "check_in": {**body["check_in"], "at": START.isoformat(timespec="milliseconds")}}),
    ("optional fields null", with_nulls),
    ("the client_id in capitals", lambda body: {**body, "client_id": body["client_id"].upper()}),
]


@pytest.mark.parametrize("shape", ["check_in", "complete"])
@pytest.mark.parametrize("replay", [r for _, r in REPLAYS], ids=[n for n, _ in REPLAYS])
def test_a_replay_returns_the_same_visit_with_200(org, post, shape, replay):
    body = check_in(org.village) if shape == "check_in" else complete(org.village)
    first = post(body, 201)
    before = stored()
    again = post(replay(body), 200)
    assert again == first
    assert stored() == before


def test_a_body_sent_with_nulls_is_replayed_by_the_body_without_them(org, post):
    body = with_nulls(check_in(org.village))
    first = post(body, 201)
    again = post(without_nulls(body), 200)
    assert again["id"] == first["id"]


def test_a_replay_as_raw_json_with_other_key_order_and_spacing_is_the_same(org, post):
    body = complete(org.village)
    first = post(body, 201)
    text = json.dumps(reordered(body), indent=3, ensure_ascii=True)
    assert post(None, 200, raw=text)["id"] == first["id"]


def test_a_replay_sent_later_with_another_device_clock_is_the_same(org, post):
    """The retry of a queued request carries a new X-Client-Time; the request is the same."""
    body = complete(org.village)
    first = post(body, 201, headers={"X-Client-Time": iso(datetime.now(UTC))})
    later = datetime.now(UTC) + timedelta(minutes=30)
    again = post(body, 200, headers={"X-Client-Time": iso(later)})
    assert again["id"] == first["id"]
    assert again["flags"] == first["flags"] == []


def test_a_replay_returns_the_visit_as_it_is_now(client, org, auth, post):
    body = check_in(org.village)
    first = post(body, 201)
    out = client.post(f"/api/v1/visits/{first['id']}/check-out", json={"at": iso(END)},
                      headers=auth)
    assert out.status_code == 200
    again = post(body, 200)
    assert again["id"] == first["id"]
    assert again["status"] == "verified"
    assert again["check_out"]["at"] == out.get_json()["check_out"]["at"]


def test_a_replay_of_a_withdrawn_visit_returns_it_withdrawn(client, org, auth, post):
    body = check_in(org.village)
    first = post(body, 201)
    assert client.post(f"/api/v1/visits/{first['id']}/withdraw", headers=auth).status_code == 200
    assert post(body, 200)["status"] == "withdrawn"


def test_a_replayed_check_in_is_not_refused_as_a_second_open_visit(org, post):
    body = check_in(org.village)
    first = post(body, 201)
    assert post(body, 200)["id"] == first["id"]


DIFFERENT = [
    ("another village", lambda org, b: {**b, "village_code": org.village_b.code}),
    ("a check-in a second later", lambda org, b: {
        **b, "check_in": {**b["check_in"], "at": iso(START + timedelta(seconds=1))}}),
    ("another point", lambda org, b: {
        **b, "check_in": {**b["check_in"], "location": {
            **b["check_in"]["location"], "lat": b["check_in"]["location"]["lat"] + 1e-6}}}),
    ("another accuracy", lambda org, b: {
        **b, "check_in": {**b["check_in"], "location": {
            **b["check_in"]["location"], "accuracy_m": 21.0}}}),
    ("no location", lambda org, b: {**b, "check_in": {"at": b["check_in"]["at"]}}),
    ("the point as GCJ-02", lambda org, b: {
        **b, "check_in": {**b["check_in"], "location": {
            **b["check_in"]["location"], "crs": "gcj02"}}}),
    ("a note added", lambda org, b: {**b, "note": "补"}),
    ("an activity added", lambda org, b: {**b, "activity": "meeting"}),
    ("households added", lambda org, b: {**b, "households": 0}),
    ("a check-out added", lambda org, b: {
        **b, "check_out": {"at": iso(END), "location": here(org.village)}}),
]


@pytest.mark.parametrize("change", [c for _, c in DIFFERENT], ids=[n for n, _ in DIFFERENT])
def test_a_different_request_under_a_used_client_id_is_a_conflict(client, org, auth, post,
                                                                  change):
    body = check_in(org.village)
    first = post(body, 201)
    before = stored()
    error = post(change(org, body), 409)
    assert error["code"] == "client_id_reused"
    assert stored() == before
    assert client.get(f"/api/v1/visits/{first['id']}", headers=auth).get_json() == first


def test_the_same_client_id_used_by_two_people_makes_two_visits(client, org, auth):
    body = check_in(org.village)
    mine = client.post("/api/v1/visits", json=body, headers=auth)
    colleague = token_for(client, org.colleague)
    theirs = client.post("/api/v1/visits", json=body, headers=colleague)
    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert theirs.get_json()["user_id"] == org.colleague.id
    assert stored()[0] == 2
    for who, expected in ((auth, mine), (colleague, theirs)):
        shown = client.get(f"/api/v1/visits/{body['client_id']}", headers=who)
        assert shown.get_json()["id"] == expected.get_json()["id"]


def test_the_same_client_id_with_a_different_body_from_another_person_is_not_a_conflict(
        client, org, auth):
    body = check_in(org.village)
    assert client.post("/api/v1/visits", json=body, headers=auth).status_code == 201
    other = {**body, "village_code": org.village_b.code}
    response = client.post("/api/v1/visits", json=other,
                           headers=token_for(client, org.colleague))
    assert response.status_code == 201, response.get_json()


# --- check-out replays ------------------------------------------------------------------------

@pytest.fixture
def open_visit(org, post):
    return post(check_in(org.village), 201)


def check_out_body(org, **extra) -> dict:
    return {"at": iso(END), "location": here(org.village), "households": 4, **extra}


@pytest.mark.parametrize("by", ["id", "client_id", "client_id in capitals"])
def test_a_check_out_is_addressed_by_id_or_client_id(client, org, auth, open_visit, by):
    ref = {"id": open_visit["id"], "client_id": open_visit["client_id"],
           "client_id in capitals": open_visit["client_id"].upper()}[by]
    response = client.post(f"/api/v1/visits/{ref}/check-out", json=check_out_body(org),
                           headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == open_visit["id"]
    assert response.get_json()["status"] == "verified"
    assert response.get_json()["households"] == 4


def test_another_persons_client_id_addresses_nothing(client, org, open_visit):
    response = client.post(f"/api/v1/visits/{open_visit['client_id']}/check-out",
                           json=check_out_body(org), headers=token_for(client, org.colleague))
    assert response.status_code == 404
    assert response.get_json()["code"] == "not_found"


SAME_CHECK_OUTS = [
    ("the very same body", lambda body: body),
    ("keys in another order", reordered),
    ("the time in UTC with Z", lambda body: {
        **body, "at": END.isoformat().replace("+00:00", "Z")}),
    ("manual false written out", lambda body: {**body, "manual": False}),
    ("a null note written out", lambda body: {**body, "note": None}),
]


@pytest.mark.parametrize("replay", [r for _, r in SAME_CHECK_OUTS],
                         ids=[n for n, _ in SAME_CHECK_OUTS])
def test_repeating_the_same_check_out_returns_200_and_changes_nothing(client, org, auth,
                                                                      open_visit, replay):
    path = f"/api/v1/visits/{open_visit['id']}/check-out"
    body = check_out_body(org)
    first = client.post(path, json=body, headers=auth)
    assert first.status_code == 200
    before = stored()
    again = client.post(path, json=replay(body), headers=auth)
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == first.get_json()
    assert stored() == before


DIFFERENT_CHECK_OUTS = [
    ("a second later", lambda org: check_out_body(org, at=iso(END + timedelta(seconds=1)))),
    ("typed in", lambda org: check_out_body(org, manual=True)),
    ("another point", lambda org: check_out_body(org, location=here(org.village, 30.0))),
    ("no location", lambda org: {"at": iso(END), "households": 4}),
    ("other households", lambda org: check_out_body(org, households=5)),
    ("a note added", lambda org: check_out_body(org, note="补")),
]


@pytest.mark.parametrize("make", [m for _, m in DIFFERENT_CHECK_OUTS],
                         ids=[n for n, _ in DIFFERENT_CHECK_OUTS])
def test_a_different_check_out_on_a_closed_visit_is_a_conflict(client, org, auth, open_visit,
                                                               make):
    path = f"/api/v1/visits/{open_visit['id']}/check-out"
    first = client.post(path, json=check_out_body(org), headers=auth)
    assert first.status_code == 200
    before = stored()
    response = client.post(path, json=make(org), headers=auth)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["code"] == "visit_closed"
    assert stored() == before
    assert client.get(f"/api/v1/visits/{open_visit['id']}", headers=auth).get_json() \
        == first.get_json()


def test_the_check_out_of_a_complete_visit_can_be_replayed_on_its_own(client, org, auth, post):
    body = complete(org.village)
    created = post(body, 201)
    replay = {**body["check_out"], "households": body["households"], "note": body["note"]}
    response = client.post(f"/api/v1/visits/{created['client_id']}/check-out", json=replay,
                           headers=auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == created
    other = {**replay, "at": iso(END - timedelta(minutes=1))}
    response = client.post(f"/api/v1/visits/{created['client_id']}/check-out", json=other,
                           headers=auth)
    assert response.status_code == 409


# --- concurrent posts to a running server ---------------------------------------------------

def fire_together(count: int, send) -> list[requests.Response]:
    """Call ``send`` from ``count`` threads released at the same moment."""
    barrier = threading.Barrier(count)

    def one(_):
        barrier.wait()
        return send()
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


@pytest.fixture
def running_server(org, db_url):
    """``zaicun serve --workers 2`` on the test database, with the org committed in it."""
    db.session.commit()   # the server reads the org from the database, not this session
    with zaicun_serve(db_url, workers=2) as server:
        yield server


def login(server, username: str) -> dict:
    response = requests.post(server.url + "/api/v1/auth/login",
                             json={"username": username, "password": PASSWORD}, timeout=30)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


# The race these tests look for is a few milliseconds wide, so each repeats its burst: one
# burst can miss it, ten rarely all do.
BURSTS = 10


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["check_in", "complete"])
def test_twenty_concurrent_identical_posts_store_exactly_one_visit(org, running_server, shape):
    auth = login(running_server, "cadre")
    for burst in range(BURSTS):
        body = check_in(org.village) if shape == "check_in" else complete(org.village)

        responses = fire_together(20, lambda: requests.post(  # noqa: B023 - awaited here
            running_server.url + "/api/v1/visits", json=body,  # noqa: B023
            headers=auth, timeout=60))

        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 19 + [201], \
            (burst, [r.text for r in responses if r.status_code not in (200, 201)][:3],
             running_server.log()[-3000:])
        ids = {r.json()["id"] for r in responses}
        assert len(ids) == 1
        assert stored()[0] == burst + 1
        if shape == "check_in":  # free the person to check in again
            withdrawn = requests.post(f"{running_server.url}/api/v1/visits/{ids.pop()}/withdraw",
                                      headers=auth, timeout=30)
            assert withdrawn.status_code == 200, withdrawn.text


@pytest.mark.slow
def test_twenty_concurrent_identical_check_outs_close_the_visit_once(org, running_server):
    auth = login(running_server, "cadre")
    body = check_out_body(org)
    for burst in range(BURSTS):
        opened = requests.post(running_server.url + "/api/v1/visits",
                               json=check_in(org.village), headers=auth, timeout=30)
        assert opened.status_code == 201, opened.text
        path = f"{running_server.url}/api/v1/visits/{opened.json()['client_id']}/check-out"

        responses = fire_together(20, lambda: requests.post(path, json=body, headers=auth,  # noqa: B023
                                                            timeout=60))

        assert [r.status_code for r in responses] == [200] * 20, \
            (burst, [r.text for r in responses if r.status_code != 200][:3],
             running_server.log()[-3000:])
        assert len({r.json()["check_out"]["at"] for r in responses}) == 1
        events = requests.get(f"{running_server.url}/api/v1/visits/{opened.json()['id']}/events",
                              headers=auth, timeout=30).json()
        assert [e["action"] for e in events] == ["created", "checked_out"]
