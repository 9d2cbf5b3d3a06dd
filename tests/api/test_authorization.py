"""Who may do what: API.md "Who may do what" as tables of actor × object → status.

Actors and objects come from the ``org`` fixture (东镇 ``town``, 西镇 ``town2``, 邻县 ``other``):
a person acts on an object that is their own, in their township, in another township of the
county, or in the other county. The rules the tables spell out:

- an object out of the caller's scope, fetched by id, is 404 (its existence does not leak);
- a ``user_id``/``unit_code``/``township_code`` filter (or body field) out of scope is 403;
- an action the role may not take on an object it may see is 403.

Every object a test acts on is made through the API by its owner, as the app would make it.
"""
from __future__ import annotations

from datetime import date

import pytest

from server.extensions import db
from tests.conftest import PASSWORD, at, check_in_body, make_user, new_id, token_for

API = "/api/v1"
NOTE = "山路塌方，绕行进村"


# --- helpers --------------------------------------------------------------------------------

def person(org, name):
    return getattr(org, name)


def home_village(org, user):
    """The first village of the person's township."""
    return {org.town.id: org.village, org.town2.id: org.village2,
            org.other_town.id: org.other_village}[user.unit_id]


def new_visit(client, org, owner, state, auth=None):
    """A visit by ``owner``, made through the API: ``open``, or ``pending`` (closed, flagged)."""
    village = home_village(org, owner)
    if state == "open":
        body = check_in_body(village, hours_ago=1)
    else:  # 5 km from the village point: outside_geofence sends it to review; a day ago,
        # so that no later check-in at the village is impossible travel
        far = {"lat": village.lat + 0.05, "lon": village.lon, "accuracy_m": 20.0}
        body = check_in_body(village, hours_ago=30, lat=far["lat"],
                             check_out={"at": at(28), "location": far})
    response = client.post(f"{API}/visits", json=body,
                           headers=auth or token_for(client, owner))
    assert response.status_code == 201, response.get_json()
    visit = response.get_json()
    assert visit["status"] == ("open" if state == "open" else "pending_review")
    return visit


def new_report(client, org, owner, auth=None):
    """A submitted report by the secretary ``owner``, filed through the API."""
    body = {"client_id": new_id(), "reported_on": at(24)[:10], "title": "乡村振兴专题调研"}
    response = client.post(f"{API}/reports", json=body,
                           headers=auth or token_for(client, owner))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def as_seen_by(client, user, path):
    response = client.get(path, headers=token_for(client, user))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.fixture
def secretaries(org):
    """The org with a second secretary in 东镇 and one in each other township."""
    org.secretary2 = make_user(org.town, username="secretary2", name="冯书记", role="secretary")
    org.town2_secretary = make_user(org.town2, username="town2sec", name="陈书记",
                                    role="secretary")
    org.other_secretary = make_user(org.other_town, username="othersec", name="褚书记",
                                    role="secretary")
    return org


def rows(matrix, columns, describe):
    """One param per ``(actor, target, *statuses)`` row: the expected status of each column."""
    return [pytest.param(actor, target, dict(zip(columns, statuses, strict=True)),
                         id=describe(actor, target))
            for actor, target, *statuses in matrix]


def verdict(response, succeeded, unchanged=lambda: True):
    """The status; or, when a success shows the wrong body or a refusal changed the object,
    a sentence saying so (a whole row is compared at once, so each cell must say what it saw).
    """
    body = response.get_json()
    if response.status_code < 300 and not succeeded(body):
        return f"{response.status_code}, but the body is {body}"
    if response.status_code >= 300 and not unchanged():
        return f"{response.status_code}, but the object changed"
    return response.status_code


# --- everything needs a login -----------------------------------------------------------------

ENDPOINTS = [
    ("GET", "/me"), ("GET", "/units"), ("POST", "/units"), ("GET", "/villages"),
    ("POST", "/villages"), ("GET", "/villages/341122100201"),
    ("PATCH", "/villages/341122100201"), ("GET", "/users"), ("POST", "/users"),
    ("GET", "/users/1"), ("PATCH", "/users/1"), ("POST", "/users/1/reset-password"),
    ("PUT", "/users/1/linked-villages"), ("POST", "/imports/villages"),
    ("POST", "/imports/users"), ("POST", "/visits"), ("GET", "/visits"), ("GET", "/visits/1"),
    ("GET", "/visits/1/events"), ("POST", "/visits/1/check-out"), ("POST", "/visits/1/explain"),
    ("POST", "/visits/1/withdraw"), ("POST", "/visits/1/village"),
    ("POST", "/visits/1/review"), ("POST", "/visits/review"), ("POST", "/reports"),
    ("GET", "/reports"), ("GET", "/reports/1"), ("POST", "/reports/1/withdraw"),
    ("POST", "/reports/1/review"),
]


@pytest.mark.parametrize("method, path", ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_every_endpoint_refuses_a_caller_who_is_not_logged_in(client, method, path):
    response = client.open(f"{API}{path}", method=method, json={})
    assert response.status_code == 401
    assert response.get_json()["code"] == "unauthorized"


# --- visits: the person's own actions, reading, reviewing -----------------------------------

def _visit_path(visit, suffix=""):
    return f"{API}/visits/{visit['id']}{suffix}"


# action → (state the visit must be in, request, what a success shows)
VISIT_ACTIONS = {
    "read": ("pending", lambda c, v, org, h: c.get(_visit_path(v), headers=h),
             lambda body, v: body["id"] == v["id"]),
    "events": ("pending", lambda c, v, org, h: c.get(_visit_path(v, "/events"), headers=h),
               lambda body, v: [e["action"] for e in body] == ["created"]),
    "check_out": ("open", lambda c, v, org, h: c.post(
        _visit_path(v, "/check-out"), json={"at": at(0.5)}, headers=h),
        lambda body, v: body["status"] == "verified" and body["check_out"] is not None),
    "explain": ("pending", lambda c, v, org, h: c.post(
        _visit_path(v, "/explain"), json={"note": NOTE}, headers=h),
        lambda body, v: body["explanation"] == NOTE),
    "withdraw": ("pending", lambda c, v, org, h: c.post(_visit_path(v, "/withdraw"), headers=h),
                 lambda body, v: body["status"] == "withdrawn"),
    "village": ("open", lambda c, v, org, h: c.post(
        _visit_path(v, "/village"), json={"village_code": org.village_b.code}, headers=h),
        lambda body, v: body["village_code"] == "341122100202"),
    "review": ("pending", lambda c, v, org, h: c.post(
        _visit_path(v, "/review"), json={"decision": "approve", "comment": "属实"}, headers=h),
        lambda body, v: body["status"] == "approved"),
    "bulk_review": ("pending", lambda c, v, org, h: c.post(
        f"{API}/visits/review", json={"ids": [v["id"]], "decision": "approve"}, headers=h),
        lambda body, v: [x["status"] for x in body["visits"]] == ["approved"]),
}

# 东镇: cadre, colleague (cadre), secretary · 西镇: town2_cadre · 邻县: other_cadre.
# supervisor and admin are county-level (示范县); town_supervisor is 东镇's.
VISIT_MATRIX = [
    # actor             owner           read events chk-out explain withdraw village review bulk
    ("cadre",           "cadre",        200, 200,  200,    200,    200,     200,    403,   403),
    ("cadre",           "colleague",    404, 404,  404,    404,    404,     404,    404,   404),
    ("cadre",           "secretary",    404, 404,  404,    404,    404,     404,    404,   404),
    ("cadre",           "town2_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("cadre",           "other_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("secretary",       "secretary",    200, 200,  200,    200,    200,     200,    403,   403),
    ("secretary",       "colleague",    200, 200,  403,    403,    403,     403,    403,   403),
    ("secretary",       "town2_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("secretary",       "other_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("supervisor",      "colleague",    200, 200,  403,    403,    403,     403,    200,   200),
    ("supervisor",      "town2_cadre",  200, 200,  403,    403,    403,     403,    200,   200),
    ("supervisor",      "other_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("town_supervisor", "colleague",    200, 200,  403,    403,    403,     403,    200,   200),
    ("town_supervisor", "town2_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("other_supervisor", "other_cadre", 200, 200,  403,    403,    403,     403,    200,   200),
    ("other_supervisor", "colleague",   404, 404,  404,    404,    404,     404,    404,   404),
    ("admin",           "colleague",    200, 200,  403,    403,    403,     403,    403,   403),
    ("admin",           "town2_cadre",  200, 200,  403,    403,    403,     403,    403,   403),
    ("admin",           "other_cadre",  404, 404,  404,    404,    404,     404,    404,   404),
    ("root",            "other_cadre",  200, 200,  403,    403,    403,     403,    403,   403),
]


@pytest.mark.parametrize("actor, owner, expected", rows(
    VISIT_MATRIX, VISIT_ACTIONS, lambda actor, owner: f"{actor} on {owner}'s visit"))
def test_who_may_read_keep_and_review_a_visit(client, org, actor, owner, expected):
    owner_auth = token_for(client, person(org, owner))
    actor_auth = owner_auth if actor == owner else token_for(client, person(org, actor))
    observed = {action: try_on_a_visit(client, org, action, person(org, owner), owner_auth,
                                       actor_auth) for action in VISIT_ACTIONS}
    assert observed == expected


def try_on_a_visit(client, org, action, owner, owner_auth, actor_auth):
    """Make a fresh visit in the state ``action`` needs, try it as the actor, judge it."""
    state, perform, succeeded = VISIT_ACTIONS[action]
    visit = new_visit(client, org, owner, state, owner_auth)
    result = verdict(perform(client, visit, org, actor_auth), lambda body: succeeded(body, visit),
                     lambda: client.get(_visit_path(visit), headers=owner_auth).get_json() == visit)
    if state == "open":  # one open visit at a time: make way for the next
        client.post(_visit_path(visit, "/withdraw"), headers=owner_auth)
    return result


@pytest.mark.parametrize("actor, status", [
    ("cadre", 201), ("secretary", 201), ("supervisor", 403), ("town_supervisor", 403),
    ("admin", 403), ("root", 403),
])
def test_only_cadres_and_secretaries_record_visits(client, org, actor, status):
    response = client.post(f"{API}/visits", json=check_in_body(org.village),
                           headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert response.get_json()["user_id"] == person(org, actor).id


@pytest.mark.parametrize("reader, owner, sees_coordinates", [
    ("cadre", "cadre", True),
    ("secretary", "secretary", True),
    ("secretary", "colleague", False),  # own township, but no raw coordinates of others
    ("supervisor", "colleague", True),
    ("town_supervisor", "colleague", True),
    ("admin", "colleague", True),
    ("root", "colleague", True),
])
def test_raw_coordinates_are_shown_to_the_person_and_their_scope_only(
        client, org, reader, owner, sees_coordinates):
    visit = new_visit(client, org, person(org, owner), "pending")
    auth = token_for(client, person(org, reader))
    one = client.get(_visit_path(visit), headers=auth).get_json()
    listed = client.get(f"{API}/visits", query_string={"user_id": visit["user_id"]},
                        headers=auth).get_json()
    assert listed == [one]
    for fix in (one["check_in"], one["check_out"]):
        assert (fix["location"] is not None) is sees_coordinates
        assert fix["distance_m"] > 1000
    assert one["distance_m"] > 1000
    assert "outside_geofence" in one["flags"]


@pytest.mark.parametrize("actor, status", [
    ("cadre", 200), ("secretary", 404), ("supervisor", 404), ("root", 404),
])
def test_a_client_id_names_only_the_callers_own_visit(client, org, actor, status):
    visit = new_visit(client, org, org.cadre, "open")
    response = client.get(f"{API}/visits/{visit['client_id']}",
                          headers=token_for(client, person(org, actor)))
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["id"] == visit["id"]


EVERYONE_WITH_VISITS = ("cadre", "colleague", "secretary", "town2_cadre", "other_cadre")


@pytest.mark.parametrize("actor, visible", [
    ("cadre", {"cadre"}),
    ("secretary", {"cadre", "colleague", "secretary"}),
    ("supervisor", {"cadre", "colleague", "secretary", "town2_cadre"}),
    ("town_supervisor", {"cadre", "colleague", "secretary"}),
    ("other_supervisor", {"other_cadre"}),
    ("admin", {"cadre", "colleague", "secretary", "town2_cadre"}),
    ("root", set(EVERYONE_WITH_VISITS)),
])
def test_the_visit_list_holds_what_the_caller_may_read(client, org, actor, visible):
    owner_of = {new_visit(client, org, person(org, name), "open")["id"]: name
                for name in EVERYONE_WITH_VISITS}
    listed = as_seen_by(client, person(org, actor), f"{API}/visits")
    assert {owner_of[v["id"]] for v in listed} == visible
    assert len(listed) == len(visible)


@pytest.mark.parametrize("actor, subject, status", [
    ("cadre", "cadre", 200),
    ("cadre", "colleague", 403),
    ("secretary", "colleague", 200),
    ("secretary", "town2_cadre", 403),
    ("supervisor", "town2_cadre", 200),
    ("supervisor", "other_cadre", 403),
    ("town_supervisor", "colleague", 200),
    ("town_supervisor", "town2_cadre", 403),
    ("other_supervisor", "cadre", 403),
    ("admin", "town2_cadre", 200),
    ("admin", "other_cadre", 403),
    ("root", "other_cadre", 200),
])
def test_a_user_id_filter_on_visits_out_of_scope_is_forbidden(client, org, actor, subject,
                                                               status):
    visit = new_visit(client, org, person(org, subject), "open")
    response = client.get(f"{API}/visits", query_string={"user_id": person(org, subject).id},
                          headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert [v["id"] for v in response.get_json()] == [visit["id"]]
    else:
        assert response.get_json()["code"] == "out_of_scope"


def test_a_user_id_filter_naming_nobody_is_forbidden_like_one_out_of_scope(client, org):
    response = client.get(f"{API}/visits", query_string={"user_id": 987654},
                          headers=token_for(client, org.supervisor))
    assert response.status_code == 403


def test_a_bulk_review_naming_a_visit_out_of_scope_decides_none(client, org):
    mine = new_visit(client, org, org.colleague, "pending")
    theirs = new_visit(client, org, org.town2_cadre, "pending")
    auth = token_for(client, org.town_supervisor)
    response = client.post(f"{API}/visits/review", headers=auth,
                           json={"ids": [mine["id"], theirs["id"]], "decision": "approve"})
    assert response.status_code == 404
    assert client.get(_visit_path(mine), headers=auth).get_json()["status"] == "pending_review"


# --- objects out of scope look exactly like objects that do not exist ------------------------

@pytest.mark.parametrize("kind", ["visit", "events", "report", "village", "user"])
def test_an_object_out_of_scope_answers_like_one_that_does_not_exist(client, secretaries,
                                                                     kind):
    org = secretaries
    visit = new_visit(client, org, org.town2_cadre, "open")
    report = new_report(client, org, org.town2_secretary)
    out_of_scope, absent = {
        "visit": (_visit_path(visit), f"{API}/visits/987654"),
        "events": (_visit_path(visit, "/events"), f"{API}/visits/987654/events"),
        "report": (f"{API}/reports/{report['id']}", f"{API}/reports/987654"),
        "village": (f"{API}/villages/{org.village2.code}", f"{API}/villages/999999999999"),
        "user": (f"{API}/users/{org.town2_cadre.id}", f"{API}/users/987654"),
    }[kind]
    auth = token_for(client, org.town_supervisor)
    seen, missing = client.get(out_of_scope, headers=auth), client.get(absent, headers=auth)
    assert (seen.status_code, seen.get_json()) == (404, missing.get_json())
    assert missing.status_code == 404


# --- thematic reports -------------------------------------------------------------------------

def _report_path(report, suffix=""):
    return f"{API}/reports/{report['id']}{suffix}"


REPORT_ACTIONS = {
    "read": (lambda c, r, h: c.get(_report_path(r), headers=h),
             lambda body, r: body["id"] == r["id"]),
    "withdraw": (lambda c, r, h: c.post(_report_path(r, "/withdraw"), headers=h),
                 lambda body, r: body["status"] == "withdrawn"),
    "review": (lambda c, r, h: c.post(_report_path(r, "/review"), headers=h,
                                      json={"decision": "acknowledge", "comment": "已阅"}),
               lambda body, r: body["status"] == "acknowledged"),
}

# Reports belong to secretaries: secretary, secretary2 (东镇), town2_secretary, other_secretary.
REPORT_MATRIX = [
    # actor             owner               read withdraw review
    ("secretary",       "secretary",        200, 200,     403),
    ("secretary",       "secretary2",       200, 403,     403),
    ("secretary",       "town2_secretary",  404, 404,     404),
    ("secretary",       "other_secretary",  404, 404,     404),
    ("cadre",           "secretary",        404, 404,     404),
    ("supervisor",      "secretary",        200, 403,     200),
    ("supervisor",      "town2_secretary",  200, 403,     200),
    ("supervisor",      "other_secretary",  404, 404,     404),
    ("town_supervisor", "secretary",        200, 403,     200),
    ("town_supervisor", "town2_secretary",  404, 404,     404),
    ("other_supervisor", "other_secretary", 200, 403,     200),
    ("other_supervisor", "secretary",       404, 404,     404),
    ("admin",           "secretary",        200, 403,     403),
    ("admin",           "other_secretary",  404, 404,     404),
    ("root",            "other_secretary",  200, 403,     403),
]


@pytest.mark.parametrize("actor, owner, expected", rows(
    REPORT_MATRIX, REPORT_ACTIONS, lambda actor, owner: f"{actor} on {owner}'s report"))
def test_who_may_read_withdraw_and_review_a_report(client, secretaries, actor, owner, expected):
    org = secretaries
    owner_auth = token_for(client, person(org, owner))
    actor_auth = owner_auth if actor == owner else token_for(client, person(org, actor))
    observed = {action: try_on_a_report(client, org, action, person(org, owner), owner_auth,
                                        actor_auth) for action in REPORT_ACTIONS}
    assert observed == expected


def try_on_a_report(client, org, action, owner, owner_auth, actor_auth):
    """File a fresh report as its owner, try ``action`` on it as the actor, judge it."""
    perform, succeeded = REPORT_ACTIONS[action]
    report = new_report(client, org, owner, owner_auth)
    return verdict(perform(client, report, actor_auth), lambda body: succeeded(body, report),
                   lambda: client.get(_report_path(report), headers=owner_auth).get_json()
                   == report)


@pytest.mark.parametrize("actor, for_whom, status", [
    ("secretary", None, 201),
    ("secretary", "secretary", 201),
    ("secretary", "secretary2", 403),
    ("cadre", None, 403),
    ("supervisor", "secretary", 201),
    ("supervisor", "town2_secretary", 201),
    ("supervisor", "other_secretary", 403),  # a body user_id out of scope: 403, like a filter
    ("supervisor", "cadre", 403),  # reports are recorded for secretaries only
    ("town_supervisor", "town2_secretary", 403),
    ("other_supervisor", "other_secretary", 201),
    ("admin", "secretary", 403),
    ("admin", None, 403),
    ("root", "secretary", 403),
])
def test_who_may_file_a_report_and_for_whom(client, secretaries, actor, for_whom, status):
    org = secretaries
    body = {"client_id": new_id(), "reported_on": at(24)[:10], "title": "产业发展专题"}
    if for_whom is not None:
        body["user_id"] = person(org, for_whom).id
    response = client.post(f"{API}/reports", json=body,
                           headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()
    if status == 201:
        assert response.get_json()["user_id"] == person(org, for_whom or actor).id
        assert response.get_json()["created_by_id"] == person(org, actor).id


@pytest.mark.parametrize("actor, status", [
    ("supervisor", 200),       # who recorded it
    ("secretary", 200),        # whose report it is
    ("town_supervisor", 403),  # in scope, but neither
])
def test_a_report_recorded_by_a_supervisor_is_withdrawn_by_them_or_the_secretary(
        client, org, actor, status):
    body = {"client_id": new_id(), "reported_on": at(24)[:10], "title": "党建专题",
            "user_id": org.secretary.id}
    report = client.post(f"{API}/reports", json=body,
                         headers=token_for(client, org.supervisor)).get_json()
    response = client.post(_report_path(report, "/withdraw"),
                           headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert response.get_json()["status"] == "withdrawn"


REPORT_OWNERS = ("secretary", "secretary2", "town2_secretary", "other_secretary")


@pytest.mark.parametrize("actor, visible", [
    ("cadre", set()),
    ("secretary", {"secretary", "secretary2"}),
    ("supervisor", {"secretary", "secretary2", "town2_secretary"}),
    ("town_supervisor", {"secretary", "secretary2"}),
    ("other_supervisor", {"other_secretary"}),
    ("admin", {"secretary", "secretary2", "town2_secretary"}),
    ("root", set(REPORT_OWNERS)),
])
def test_the_report_list_holds_what_the_caller_may_read(client, secretaries, actor, visible):
    org = secretaries
    owner_of = {new_report(client, org, person(org, name))["id"]: name for name in REPORT_OWNERS}
    listed = as_seen_by(client, person(org, actor), f"{API}/reports")
    assert {owner_of[r["id"]] for r in listed} == visible
    assert len(listed) == len(visible)


@pytest.mark.parametrize("actor, subject, status", [
    ("cadre", "secretary", 403),
    ("secretary", "secretary", 200),
    ("secretary", "secretary2", 200),
    ("secretary", "town2_secretary", 403),
    ("supervisor", "town2_secretary", 200),
    ("supervisor", "other_secretary", 403),
    ("town_supervisor", "town2_secretary", 403),
    ("admin", "secretary", 200),
    ("admin", "other_secretary", 403),
    ("root", "other_secretary", 200),
])
def test_a_user_id_filter_on_reports_out_of_scope_is_forbidden(client, secretaries, actor,
                                                                subject, status):
    org = secretaries
    report = new_report(client, org, person(org, subject))
    response = client.get(f"{API}/reports", query_string={"user_id": person(org, subject).id},
                          headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert [r["id"] for r in response.get_json()] == [report["id"]]
    else:
        assert response.get_json()["code"] == "out_of_scope"


# --- organisation: units, villages, users, linked villages, imports --------------------------

def _township(org, where):
    return {"town": org.town, "town2": org.town2, "other": org.other_town}[where]


def _village(org, where):
    return {"town": org.village, "town2": org.village2, "other": org.other_village}[where]


def _user(org, where):
    return {"town": org.colleague, "town2": org.town2_cadre, "other": org.other_cadre}[where]


def _county(org, where):
    return org.other_county if where == "other" else org.county


NEW_VILLAGE, IMPORTED_VILLAGE = "341199100298", "341199100299"
IMPORT_SCOPE_COLUMN = {"import_villages": "township_code", "import_users": "unit_code"}


def _csv(header, row):
    return {"data": f"{header}\n{row}\n".encode(), "content_type": "text/csv"}


# action → (request against the object ``where`` is, what a success shows)
ORG_ACTIONS = {
    "list_villages_of": (
        lambda c, org, w, h: c.get(f"{API}/villages", headers=h,
                                   query_string={"township_code": _township(org, w).code}),
        lambda body, org, w: _village(org, w).code in {v["code"] for v in body} and {
            v["township_code"] for v in body} == {_township(org, w).code}),
    "show_village": (
        lambda c, org, w, h: c.get(f"{API}/villages/{_village(org, w).code}", headers=h),
        lambda body, org, w: body["code"] == _village(org, w).code),
    "change_village": (
        lambda c, org, w, h: c.patch(f"{API}/villages/{_village(org, w).code}", headers=h,
                                     json={"radius_m": 1500}),
        lambda body, org, w: body["radius_m"] == 1500),
    "create_village": (
        lambda c, org, w, h: c.post(f"{API}/villages", headers=h, json={
            "code": NEW_VILLAGE, "name": "新村", "township_code": _township(org, w).code,
            "lat": 32.3, "lon": 118.3}),
        lambda body, org, w: body["township_code"] == _township(org, w).code),
    "create_unit": (
        lambda c, org, w, h: c.post(f"{API}/units", headers=h, json={
            "code": _county(org, w).code + "199", "name": "新镇", "level": "township",
            "parent_code": _county(org, w).code}),
        lambda body, org, w: body["parent_code"] == _county(org, w).code),
    "list_users_of": (
        lambda c, org, w, h: c.get(f"{API}/users", headers=h,
                                   query_string={"unit_code": _township(org, w).code}),
        lambda body, org, w: _user(org, w).id in {u["id"] for u in body} and {
            u["unit_code"] for u in body} == {_township(org, w).code}),
    "show_user": (
        lambda c, org, w, h: c.get(f"{API}/users/{_user(org, w).id}", headers=h),
        lambda body, org, w: body["id"] == _user(org, w).id),
    "change_user": (
        lambda c, org, w, h: c.patch(f"{API}/users/{_user(org, w).id}", headers=h,
                                     json={"name": "改名"}),
        lambda body, org, w: body["name"] == "改名"),
    "reset_password": (
        lambda c, org, w, h: c.post(f"{API}/users/{_user(org, w).id}/reset-password",
                                    headers=h),
        lambda body, org, w: bool(body["one_time_password"])
        and body["user"]["id"] == _user(org, w).id),
    "link_villages": (
        lambda c, org, w, h: c.put(f"{API}/users/{_user(org, w).id}/linked-villages", headers=h,
                                   json={"village_codes": [_village(org, w).code]}),
        lambda body, org, w: [v["code"] for v in body["linked_villages"]] == [
            _village(org, w).code]),
    "create_user": (
        lambda c, org, w, h: c.post(f"{API}/users", headers=h, json={
            "username": "newcomer", "password": PASSWORD, "name": "新人", "role": "cadre",
            "unit_code": _township(org, w).code}),
        lambda body, org, w: body["unit_code"] == _township(org, w).code),
    "import_villages": (
        lambda c, org, w, h: c.post(f"{API}/imports/villages", headers=h, **_csv(
            "code,name,township_code,lat,lon",
            f"{IMPORTED_VILLAGE},新村,{_township(org, w).code},32.3,118.3")),
        lambda body, org, w: body["imported"] == 1),
    "import_users": (
        lambda c, org, w, h: c.post(f"{API}/imports/users", headers=h, **_csv(
            "username,name,role,unit_code", f"importee,新人,cadre,{_township(org, w).code}")),
        lambda body, org, w: list(body["one_time_passwords"]) == ["importee"]),
}

# ``where``: the object is in 东镇 (town), 西镇 (town2) or 邻县 (other). Reads out of scope
# are 404 by id and 403 as a filter; a create naming an out-of-scope unit is 403 like a filter;
# an import row naming one is a row error (422, nothing imported), like any other bad row.
ORG_MATRIX = [
    #                            villages ---------- unit users ---------------------- imports
    # actor             where    of   show chg  new  new  of   show chg  rst  link new  vil  usr
    ("cadre",           "town",  403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    ("secretary",       "town",  403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403),
    ("supervisor",      "town",  200, 200, 403, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403),
    ("supervisor",      "town2", 200, 200, 403, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403),
    ("supervisor",      "other", 403, 404, 404, 403, 403, 403, 404, 404, 404, 404, 403, 403, 403),
    ("town_supervisor", "town",  200, 200, 403, 403, 403, 200, 200, 403, 403, 403, 403, 403, 403),
    ("town_supervisor", "town2", 403, 404, 404, 403, 403, 403, 404, 404, 404, 404, 403, 403, 403),
    ("admin",           "town",  200, 200, 200, 201, 201, 200, 200, 200, 200, 200, 201, 201, 201),
    ("admin",           "town2", 200, 200, 200, 201, 201, 200, 200, 200, 200, 200, 201, 201, 201),
    ("admin",           "other", 403, 404, 404, 403, 403, 403, 404, 404, 404, 404, 403, 422, 422),
    ("root",            "other", 200, 200, 200, 201, 201, 200, 200, 200, 200, 200, 201, 201, 201),
]


@pytest.mark.parametrize("actor, where, expected", rows(
    ORG_MATRIX, ORG_ACTIONS, lambda actor, where: f"{actor} on {where} objects"))
def test_who_may_read_and_change_the_organisation(client, org, actor, where, expected):
    auth = token_for(client, person(org, actor))
    observed = {}
    for action, (perform, succeeded) in ORG_ACTIONS.items():
        response = perform(client, org, where, auth)
        observed[action] = verdict(response, lambda body: succeeded(body, org, where))  # noqa: B023 - called at once
        if response.status_code == 422:  # an import names the row and column at fault
            errors = [(e["row"], e["column"]) for e in response.get_json()["errors"]["rows"]]
            if errors != [(2, IMPORT_SCOPE_COLUMN[action])]:
                observed[action] = f"422, but the errors are {errors}"
    assert observed == expected


COUNTY_UNITS = {"341122", "341122100", "341122101"}
ALL_UNITS = COUNTY_UNITS | {"34", "3411", "341123", "341123100"}
TOWN_VILLAGES = {"341122100201", "341122100202"}
COUNTY_VILLAGES = TOWN_VILLAGES | {"341122101201"}
TOWN_USERS = {"cadre", "colleague", "secretary", "townsup"}
COUNTY_USERS = TOWN_USERS | {"town2cadre", "supervisor", "admin"}
ALL_USERS = COUNTY_USERS | {"othercadre", "othersup", "root"}


@pytest.mark.parametrize("actor, units, villages, users", [
    ("cadre", 403, 403, 403),
    ("secretary", 403, 403, 403),
    ("supervisor", COUNTY_UNITS, COUNTY_VILLAGES, COUNTY_USERS),
    ("town_supervisor", {"341122100"}, TOWN_VILLAGES, TOWN_USERS),
    ("other_supervisor", {"341123", "341123100"}, {"341123100201"}, {"othercadre", "othersup"}),
    ("admin", COUNTY_UNITS, COUNTY_VILLAGES, COUNTY_USERS),
    ("root", ALL_UNITS, COUNTY_VILLAGES | {"341123100201"}, ALL_USERS),
])
def test_organisation_lists_hold_the_callers_scope(client, org, actor, units, villages, users):
    auth = token_for(client, person(org, actor))
    observed = {}
    for resource, key in (("units", "code"), ("villages", "code"), ("users", "username")):
        response = client.get(f"{API}/{resource}", headers=auth)
        observed[resource] = response.status_code if response.status_code != 200 else {
            row[key] for row in response.get_json()}
    assert observed == {"units": units, "villages": villages, "users": users}


@pytest.mark.parametrize("actor, target, status", [
    ("admin", "supervisor", 200),   # a user at the admin's own unit
    ("admin", "root", 404),         # above the admin's unit
    ("town_supervisor", "supervisor", 404),
    ("admin", "other_supervisor", 404),
])
def test_users_above_or_beside_the_callers_unit_are_out_of_scope(client, org, actor, target,
                                                                 status):
    response = client.get(f"{API}/users/{person(org, target).id}",
                          headers=token_for(client, person(org, actor)))
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("unit_code, status", [
    ("341122101", 200),  # 西镇: still in the admin's county
    ("341123100", 403),  # 北镇: next door
])
def test_an_admin_moves_a_user_only_within_scope(client, org, unit_code, status):
    response = client.patch(f"{API}/users/{org.colleague.id}", json={"unit_code": unit_code},
                            headers=token_for(client, org.admin))
    assert response.status_code == status, response.get_json()
    if status == 200:
        assert response.get_json()["unit_code"] == unit_code


@pytest.mark.parametrize("actor", [
    "cadre", "secretary", "supervisor", "town_supervisor", "admin", "root"])
def test_everyone_reads_who_they_are(client, org, actor):
    me = as_seen_by(client, person(org, actor), f"{API}/me")
    assert me["user"]["id"] == person(org, actor).id
    assert me["user"]["role"] == person(org, actor).role
    unit = person(org, actor).unit
    assert (me["unit"] or {}).get("code") == (unit.code if unit else None)


# --- people over time and the year-end evaluation ------------------------------------------------
# The person acted on is the cadre of 东镇 (town), 西镇 (town2) or 北镇 (other); the pack and the
# rectification items are of that township (items recorded by its county's supervisor).

_PERSON = {"town": "cadre", "town2": "town2_cadre", "other": "other_cadre"}
_TOWNSHIP = {"town": "town", "town2": "town2", "other": "other_town"}


def _someone(org, where):
    return person(org, _PERSON[where])


def _township_code(org, where):
    return person(org, _TOWNSHIP[where]).code


def _item(client, org, where):
    """An open rectification item of the township, recorded by its county's supervisor."""
    recorder = org.other_supervisor if where == "other" else org.supervisor
    response = client.post(f"{API}/rectifications", headers=token_for(client, recorder), json={
        "unit_code": _township_code(org, where), "year": 2025, "title": "整改事项"})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def _first_post(client, org, where):
    response = client.get(f"{API}/users/{_someone(org, where).id}/posts",
                          headers=token_for(client, org.root))
    return response.get_json()[0]["id"]


LATER_ACTIONS = {
    "posts": lambda c, org, w, h: c.get(f"{API}/users/{_someone(org, w).id}/posts", headers=h),
    "move": lambda c, org, w, h: c.post(
        f"{API}/users/{_someone(org, w).id}/posts", headers=h,
        json={"unit_code": _township_code(org, w), "role": "secretary", "from": "2100-01-01"}),
    "fix": lambda c, org, w, h: c.patch(
        f"{API}/users/{_someone(org, w).id}/posts/{_first_post(c, org, w)}", headers=h,
        json={"until": "2099-06-30"}),   # before the post "move" made (2100)
    "links": lambda c, org, w, h: c.get(
        f"{API}/users/{_someone(org, w).id}/linked-villages?on=2026-06-30", headers=h),
    "pack": lambda c, org, w, h: c.get(
        f"{API}/evaluations/2025?unit_code={_township_code(org, w)}", headers=h),
    "items": lambda c, org, w, h: c.get(
        f"{API}/rectifications?unit_code={_township_code(org, w)}", headers=h),
    "record": lambda c, org, w, h: c.post(f"{API}/rectifications", headers=h, json={
        "unit_code": _township_code(org, w), "year": 2025, "title": "点评问题"}),
    "note": lambda c, org, w, h: c.post(
        f"{API}/rectifications/{_item(c, org, w)}/notes", headers=h, json={"note": "进展"}),
    "decide": lambda c, org, w, h: c.post(   # an open item: a decision needs a claim first
        f"{API}/rectifications/{_item(c, org, w)}/review", headers=h,
        json={"decision": "confirm"}),
}

LATER_MATRIX = [
    #                            posts ------------ evaluation -----------------------
    # actor             where    list move fix  lnk  pack items rec  note decide
    ("cadre",           "town",  403, 403, 403, 403, 403, 403, 403, 404, 404),
    ("secretary",       "town",  403, 403, 403, 403, 200, 200, 403, 201, 403),
    ("secretary",       "town2", 403, 403, 403, 403, 403, 403, 403, 404, 404),
    ("supervisor",      "town",  200, 403, 403, 200, 200, 200, 201, 201, 409),
    ("supervisor",      "town2", 200, 403, 403, 200, 200, 200, 201, 201, 409),
    ("supervisor",      "other", 404, 404, 404, 404, 403, 403, 403, 404, 404),
    ("town_supervisor", "town",  200, 403, 403, 200, 200, 200, 201, 201, 409),
    ("town_supervisor", "town2", 404, 404, 404, 404, 403, 403, 403, 404, 404),
    ("admin",           "town",  200, 201, 200, 200, 200, 200, 403, 403, 403),
    ("admin",           "other", 404, 404, 404, 404, 403, 403, 403, 404, 404),
    ("root",            "other", 200, 201, 200, 200, 200, 200, 403, 403, 403),
]


@pytest.mark.parametrize("actor, where, expected", rows(
    LATER_MATRIX, LATER_ACTIONS, lambda actor, where: f"{actor} on {where}"))
def test_who_may_move_people_and_read_or_answer_the_evaluation(client, org, actor, where,
                                                               expected):
    auth = token_for(client, person(org, actor))
    observed = {action: perform(client, org, where, auth).status_code
                for action, perform in LATER_ACTIONS.items()}
    assert observed == expected


# --- closing a year (RULES.md §9) -----------------------------------------------------------------
# The county acted on is 示范县 (county) or 邻县 (other); "reopen" and "snapshot" act on a closing
# the root admin made first.

_COUNTY = {"county": "341122", "other": "341123"}
_LAST_YEAR = date.today().year - 1


def _closing(client, org, where):
    response = client.post(f"{API}/closings", headers=token_for(client, org.root),
                           json={"year": _LAST_YEAR, "unit_code": _COUNTY[where]})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


CLOSING_ACTIONS = {
    "close": lambda c, org, w, h: c.post(f"{API}/closings", headers=h, json={
        "year": _LAST_YEAR, "unit_code": _COUNTY[w]}),
    "list": lambda c, org, w, h: c.get(f"{API}/closings?unit_code={_COUNTY[w]}", headers=h),
    "reopen": lambda c, org, w, h: (_closing(c, org, w), c.post(
        f"{API}/closings/{_LAST_YEAR}/{_COUNTY[w]}/reopen", headers=h,
        json={"reason": "补录"}))[1],
    "snapshot": lambda c, org, w, h: c.get(
        f"{API}/closings/{_closing(c, org, w)}/snapshot", headers=h),
}

CLOSING_MATRIX = [
    # actor             where     close list reopen snapshot
    ("cadre",           "county", 403,  403, 403,   404),
    ("secretary",       "county", 403,  403, 403,   404),
    ("supervisor",      "county", 201,  200, 403,   200),
    ("supervisor",      "other",  403,  403, 403,   404),
    ("town_supervisor", "county", 403,  403, 403,   404),
    ("admin",           "county", 201,  200, 200,   200),
    ("admin",           "other",  403,  403, 403,   404),
    ("root",            "other",  201,  200, 200,   200),
]


@pytest.mark.parametrize("actor, where, expected", rows(
    CLOSING_MATRIX, CLOSING_ACTIONS, lambda actor, where: f"{actor} on {where}"))
def test_who_may_close_a_year_reopen_it_and_read_its_snapshot(client, org, actor, where,
                                                             expected):
    auth = token_for(client, person(org, actor))
    observed = {}
    for action, perform in CLOSING_ACTIONS.items():
        observed[action] = perform(client, org, where, auth).status_code
        clear_closings()
    assert observed == expected


def clear_closings():
    """Each action starts with the year open (a closing is never deleted by the app)."""
    from server.closing.models import Closing
    db.session.execute(Closing.__table__.delete())
    db.session.commit()
