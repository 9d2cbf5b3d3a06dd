"""Hostile input from an outside security test: each finding, pinned (both databases).

Text is NFC-normalised and trimmed, and refused when blank or when it holds lone surrogates,
control characters (a note keeps newline and tab) or bidirectional overrides; usernames are
NFKC, case-folded for uniqueness and login, and of one script; lat/lon are JSON numbers; a key
given twice is a 400; times have one spelling; and scope holds for calendars, unlocks and
absences.
"""
from __future__ import annotations

import json
import unicodedata

import pytest

from tests.conftest import PASSWORD, at, check_in_body, make_user, new_id, token_for

LONE = "x\ud800"  # a lone high surrogate: no encoding can store it


def raw_post(client, path, body, headers=None, method="POST"):
    """Send ``body`` as the JSON bytes json.dumps makes (lone surrogates as ``\\ud800``)."""
    return client.open(path, method=method, data=json.dumps(body),
                       headers={"Content-Type": "application/json", **(headers or {})})


def visit_of(client, org, auth, **extra):
    body = check_in_body(org.village, hours_ago=3, check_out={"at": at(1)}, **extra)
    response = client.post("/api/v1/visits", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# (who, path builder, body with "%s" where the hostile text goes, the field refused)
TEXT_FIELDS = {
    "login username": (None, lambda o, c: "/api/v1/auth/login",
                       {"username": "%s", "password": "whatever1"}, "username"),
    "login password": (None, lambda o, c: "/api/v1/auth/login",
                       {"username": "cadre", "password": "%s"}, "password"),
    "new password": ("cadre", lambda o, c: "/api/v1/me/password",
                     {"old_password": PASSWORD, "new_password": "%s"}, "new_password"),
    "unlock": ("root", lambda o, c: "/api/v1/auth/unlock", {"username": "%s"}, "username"),
    "visit note": ("cadre", lambda o, c: "/api/v1/visits",
                   {"note": "%s"}, "note"),
    "report title": ("secretary", lambda o, c: "/api/v1/reports",
                     {"client_id": "new", "reported_on": "2026-03-01", "title": "%s"}, "title"),
    "absence note": ("admin", lambda o, c: "/api/v1/absences",
                     {"user_id": "cadre", "start": "2026-03-02", "end": "2026-03-03",
                      "kind": "leave", "note": "%s"}, "note"),
    "user name": ("admin", lambda o, c: "/api/v1/users",
                  {"username": "newperson", "password": PASSWORD, "name": "%s", "role": "cadre",
                   "unit_code": "341122100"}, "name"),
    "unit name": ("root", lambda o, c: "/api/v1/units",
                  {"code": "999", "name": "%s", "level": "province"}, "name"),
    "village name": ("admin", lambda o, c: "/api/v1/villages",
                     {"code": "341122100299", "name": "%s", "township_code": "341122100",
                      "lat": 32.3, "lon": 118.3}, "name"),
}


def _fill(value, text, org):
    if value == "%s":
        return text
    if value == "cadre":
        return org.cadre.id
    if value == "new":
        return new_id()
    if isinstance(value, dict):
        return {k: _fill(v, text, org) for k, v in value.items()}
    return value


def _body(org, name, text):
    who, path, body, field = TEXT_FIELDS[name]
    body = _fill(body, text, org)
    if name == "visit note":
        body = {**check_in_body(org.village, hours_ago=3), **body}
    return who, path(org, None), body, field


@pytest.mark.parametrize("name", TEXT_FIELDS)
def test_a_lone_surrogate_in_any_text_is_a_422_naming_the_field(client, org, name):
    who, path, body, field = _body(org, name, LONE)
    auth = token_for(client, getattr(org, who)) if who else {}
    response = raw_post(client, path, body, auth)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["code"] == "lone_surrogate"
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("name", [n for n in TEXT_FIELDS if "password" not in n
                                  and n not in ("login username", "unlock")])
@pytest.mark.parametrize("text", ["a\u202eb", "a\x07b", "a\x1bb", "a\x85b"])
def test_control_characters_and_bidi_overrides_in_stored_text_are_refused(client, org, name,
                                                                            text):
    who, path, body, field = _body(org, name, text)
    response = client.post(path, json=body, headers=token_for(client, getattr(org, who)))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("name", ["report title", "user name", "unit name", "village name"])
@pytest.mark.parametrize("blank", [" \u3000 \t ", "\u200b", "\u3164\u3164", " \u2060\ufeff ",
                                   "\u200b\ufe0f", "\u034f", "\U000e0100"])
def test_text_that_shows_nothing_is_refused_not_stored_empty(client, org, name, blank):
    who, path, body, field = _body(org, name, blank)
    response = client.post(path, json=body, headers=token_for(client, getattr(org, who)))
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_blank_explanation_is_refused_and_the_earlier_one_is_kept(client, org):
    auth = token_for(client, org.cadre)
    body = check_in_body(org.village, hours_ago=3, lat=32.5, lon=118.5,
                         check_out={"at": at(1), "location": {"lat": 32.5, "lon": 118.5,
                                                              "accuracy_m": 10}})
    visit = client.post("/api/v1/visits", json=body, headers=auth).get_json()
    assert visit["status"] == "pending_review"
    path = f"/api/v1/visits/{visit['id']}/explain"
    assert client.post(path, json={"note": "  在村委会开会\r\n  "}, headers=auth).status_code == 200
    refused = client.post(path, json={"note": "   "}, headers=auth)
    assert refused.status_code == 422 and "note" in refused.get_json()["errors"]
    shown = client.get(f"/api/v1/visits/{visit['id']}", headers=auth).get_json()
    assert shown["explanation"] == "在村委会开会"


def test_text_is_stored_nfc_normalised_and_trimmed_with_a_notes_lines_kept(client, org):
    auth = token_for(client, org.cadre)
    note = "\u200b  第一行\r\n\te\u0301 第二行  \u2060"
    visit = visit_of(client, org, auth, note=note)
    assert visit["note"] == "第一行\n\t\u00e9 第二行"
    blank = visit_of(client, org, token_for(client, org.colleague), note="   ")
    assert blank["note"] is None  # an optional note left blank is no note


def test_a_lone_surrogate_in_a_key_is_refused_too(client, org):
    response = raw_post(client, "/api/v1/auth/login",
                        {"username": "cadre", "password": "whatever1", "\udc00": 1})
    assert response.status_code == 422
    assert response.get_json()["code"] == "lone_surrogate"


def test_a_key_given_twice_is_a_400(client, org):
    response = client.post("/api/v1/auth/login", data=(
        f'{{"username": "cadre", "password": "wrong-one-1", "password": "{PASSWORD}"}}'),
        headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["code"] == "duplicate_key"
    assert "password" in response.get_json()["errors"]


# --- times, numbers ---------------------------------------------------------------------------

@pytest.mark.parametrize("spelling", [
    "2026-W10-1T08:00:00+08:00",   # an ISO week date
    "2026-03-02 08:00:00+08:00",   # a space for T
    "2026-03-02T08:00:00+0800",    # an offset without a colon
    "2026-03-02T08:00:00",         # no offset
    "20260302T080000+08:00",       # the basic format
    "2026-061T08:00:00+08:00",     # an ordinal date
])
def test_a_time_in_any_spelling_but_the_documents_is_refused(client, org, spelling):
    body = check_in_body(org.village)
    body["check_in"]["at"] = spelling
    response = client.post("/api/v1/visits", json=body, headers=token_for(client, org.cadre))
    assert response.status_code == 422, response.get_json()
    assert "check_in" in response.get_json()["errors"]


@pytest.mark.parametrize("spelling", ["2026-03-02T08:00Z", "2026-03-02T08:00:00.5+08:00",
                                      "2026-03-02T00:00:00Z"])
def test_the_documents_spellings_are_taken(client, org, spelling):
    body = check_in_body(org.village)
    body["check_in"]["at"] = spelling
    response = client.post("/api/v1/visits", json=body, headers=token_for(client, org.cadre))
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("day", ["2026-W10-1", "20260302", "2026-061"])
def test_a_date_in_another_spelling_is_refused(client, org, day):
    response = client.post("/api/v1/absences", json={
        "user_id": org.cadre.id, "start": day, "end": "2026-03-09", "kind": "leave"},
        headers=token_for(client, org.admin))
    assert response.status_code == 422 and "start" in response.get_json()["errors"]


@pytest.mark.parametrize("lat, lon", [("32.3", 118.3), (32.3, "118.3"), (True, 118.3)])
def test_latitude_and_longitude_must_be_json_numbers(client, org, lat, lon):
    body = check_in_body(org.village, lat=lat, lon=lon)
    response = client.post("/api/v1/visits", json=body, headers=token_for(client, org.cadre))
    assert response.status_code == 422
    village = client.post("/api/v1/villages", json={
        "code": "341122100298", "name": "新村", "township_code": "341122100", "lat": lat,
        "lon": lon}, headers=token_for(client, org.admin))
    assert village.status_code == 422


@pytest.mark.parametrize("clock", ["9999-12-31T23:59:59+00:00", "2900-01-01T00:00:00+08:00",
                                   "1900-01-01T00:00:00+08:00", "2026-03-02 08:00:00+08:00"])
def test_an_absurd_device_clock_is_refused_on_check_in_and_check_out(client, org, clock):
    auth = token_for(client, org.cadre)
    header = {**auth, "X-Client-Time": clock}
    whole = check_in_body(org.village, hours_ago=3, check_out={"at": at(1)})
    assert client.post("/api/v1/visits", json=whole, headers=header).status_code == 400
    opened = client.post("/api/v1/visits", json=check_in_body(org.village), headers=auth)
    assert opened.status_code == 201
    out = client.post(f"/api/v1/visits/{opened.get_json()['id']}/check-out",
                      json={"at": at(0)}, headers=header)
    assert out.status_code == 400
    assert out.get_json()["code"] == "invalid_client_time"


def test_a_clock_shift_that_leaves_the_service_years_is_refused(client, org):
    """A device clock of 2099 makes a check-in of today one of ~1953 once corrected."""
    response = client.post("/api/v1/visits", json=check_in_body(org.village, hours_ago=0),
                           headers={**token_for(client, org.cadre),
                                    "X-Client-Time": "2099-12-31T00:00:00+08:00"})
    assert response.status_code == 422, response.get_json()
    assert "check_in" in response.get_json()["errors"]


# --- sessions -----------------------------------------------------------------------------

def test_a_password_change_ends_every_other_session_but_the_one_that_changed_it(client, org):
    phone = token_for(client, org.cadre)
    stolen = token_for(client, org.cadre)
    changed = client.post("/api/v1/me/password", json={
        "old_password": PASSWORD, "new_password": "a-new-secret-2"}, headers=phone)
    assert changed.status_code == 204
    assert client.get("/api/v1/me", headers=phone).status_code == 200
    for path in ("/api/v1/me", "/api/v1/visits"):
        assert client.get(path, headers=stolen).status_code == 401


# --- scope ------------------------------------------------------------------------------------

CALENDAR_2026 = "date,kind\n2026-03-02,holiday\n2026-03-03,holiday\n2026-03-04,holiday\n"


def _target(client, auth, user_id):
    body = client.get(f"/api/v1/compliance/users/{user_id}?as_of=2026-11-30",
                      headers=auth).get_json()
    return next(r["target"] for r in body["rules"] if r["measure"] == "days")


def _put_calendar(client, auth, query=""):
    return client.put(f"/api/v1/calendars/2026{query}", data=CALENDAR_2026.encode(),
                      headers={**auth, "Content-Type": "text/csv"})


def test_a_county_admins_calendar_changes_that_county_only(client, org):
    root = token_for(client, org.root)
    here, elsewhere = _target(client, root, org.cadre.id), _target(client, root, org.other_cadre.id)
    loaded = _put_calendar(client, token_for(client, org.admin))
    assert loaded.status_code == 200, loaded.get_json()
    assert loaded.get_json()["county_code"] == org.county.code
    assert _target(client, root, org.cadre.id) != here
    assert _target(client, root, org.other_cadre.id) == elsewhere


def test_a_county_admin_cannot_load_another_countys_or_the_deployments_calendar(client, org):
    admin = token_for(client, org.admin)
    assert _put_calendar(client, admin, f"?unit_code={org.other_county.code}").status_code == 403
    assert _put_calendar(client, admin, "?unit_code=999999").status_code == 403
    town_admin = make_user(org.town, username="townadmin", role="admin")
    assert _put_calendar(client, token_for(client, town_admin)).status_code == 403


def test_the_deployment_wide_calendar_is_for_an_admin_with_no_unit(client, org):
    root = token_for(client, org.root)
    elsewhere = _target(client, root, org.other_cadre.id)
    loaded = _put_calendar(client, root)
    assert loaded.status_code == 200 and loaded.get_json()["county_code"] is None
    assert _target(client, root, org.other_cadre.id) != elsewhere


def test_a_countys_own_calendar_wins_over_the_deployments_for_that_year(client, org):
    root = token_for(client, org.root)
    assert _put_calendar(client, root).status_code == 200
    deployment = _target(client, root, org.other_cadre.id)
    assert _target(client, root, org.cadre.id) == deployment
    own = client.put(f"/api/v1/calendars/2026?unit_code={org.county.code}",
                     data=(CALENDAR_2026 + "2026-03-05,holiday\n2026-03-06,holiday\n").encode(),
                     headers={**token_for(client, org.admin), "Content-Type": "text/csv"})
    assert own.status_code == 200
    county = _target(client, root, org.cadre.id)
    assert county < deployment  # two more holidays, in this county only
    assert _target(client, root, org.other_cadre.id) == deployment
    rolled = client.get("/api/v1/compliance?as_of=2026-11-30", headers=root).get_json()
    targets = {row["user"]["id"]: next(r["target"] for r in row["rules"]
                                       if r["measure"] == "days") for row in rolled["rows"]}
    assert targets[org.cadre.id] == county and targets[org.other_cadre.id] == deployment


def _lock(client, username):
    for _ in range(5):
        client.post("/api/v1/auth/login", json={"username": username, "password": "wrong-pass"})
    assert client.post("/api/v1/auth/login", json={
        "username": username, "password": PASSWORD}).status_code == 429


def test_an_admin_unlocks_only_usernames_in_scope(client, org):
    _lock(client, "othercadre")
    admin = token_for(client, org.admin)
    refused = client.post("/api/v1/auth/unlock", json={"username": "othercadre"}, headers=admin)
    assert refused.status_code == 404
    unknown = client.post("/api/v1/auth/unlock", json={"username": "nobody-here"}, headers=admin)
    assert unknown.status_code == 404  # the same answer: existence does not leak
    assert client.post("/api/v1/auth/login", json={
        "username": "othercadre", "password": PASSWORD}).status_code == 429
    _lock(client, "cadre")
    assert client.post("/api/v1/auth/unlock", json={"username": "CADRE"},
                       headers=admin).status_code == 204
    assert client.post("/api/v1/auth/login", json={
        "username": "cadre", "password": PASSWORD}).status_code == 200
    assert client.post("/api/v1/auth/unlock", json={"username": "othercadre"},
                       headers=token_for(client, org.root)).status_code == 204


def test_absences_are_only_for_cadres_and_secretaries(client, org):
    body = {"user_id": org.town_supervisor.id, "start": "2026-03-02", "end": "2026-03-03",
            "kind": "leave"}
    by_secretary = client.post("/api/v1/absences", json=body,
                               headers=token_for(client, org.secretary))
    assert by_secretary.status_code == 403
    by_admin = client.post("/api/v1/absences", json=body, headers=token_for(client, org.admin))
    assert by_admin.status_code == 403
    cadre = client.post("/api/v1/absences", json={**body, "user_id": org.cadre.id},
                        headers=token_for(client, org.secretary))
    assert cadre.status_code == 201


def test_an_out_of_scope_unit_code_answers_as_an_unknown_one(client, org):
    admin = token_for(client, org.admin)

    def place(code):
        response = client.post("/api/v1/users", json={
            "username": f"p{code}", "password": PASSWORD, "name": "某人", "role": "cadre",
            "unit_code": code}, headers=admin)
        return response.status_code, response.get_json()["code"], response.get_json()["errors"]

    county_elsewhere = place(org.other_county.code)  # exists, out of scope, not a township
    town_elsewhere = place(org.other_town.code)      # exists, out of scope, a township
    unknown = place("999999999")
    assert county_elsewhere == town_elsewhere == unknown  # word for word
    status, code, errors = unknown
    assert (status, code, list(errors)) == (403, "out_of_scope", ["unit_code"])
    listed = client.get("/api/v1/users", headers=admin).get_json()
    assert listed and not [u for u in listed if u["username"].startswith("p")]  # none stored
    village = client.post("/api/v1/villages", json={
        "code": "341123100299", "name": "新村", "township_code": org.other_county.code,
        "lat": 32.3, "lon": 118.3}, headers=admin)
    assert village.status_code == 403


# --- usernames --------------------------------------------------------------------------------

@pytest.mark.parametrize("username", [
    "cadre1\u200b",      # a zero-width space
    "c\u0430dre1",       # a Cyrillic а among Latin letters
    "\u202eevil",        # a right-to-left override
    "bad name",          # a space
    "a/b",
    "x",                 # too short
    "o'brien",           # an apostrophe
    "admin\u00ad",       # a soft hyphen (a format character)
    "\u3164\u3164",     # Hangul fillers: letters that show nothing
])
def test_look_alike_and_invisible_usernames_are_refused(client, org, username):
    response = client.post("/api/v1/users", json={
        "username": username, "password": PASSWORD, "name": "某人", "role": "cadre",
        "unit_code": org.town.code}, headers=token_for(client, org.admin))
    assert response.status_code == 422, response.get_json()
    assert "username" in response.get_json()["errors"]


@pytest.mark.parametrize("username", ["\uff41\uff44\uff4d\uff49\uff4e", "ADMIN", "Admin"])
def test_a_username_that_normalises_to_an_existing_one_is_a_duplicate(client, org, username):
    response = client.post("/api/v1/users", json={
        "username": username, "password": PASSWORD, "name": "某人", "role": "cadre",
        "unit_code": org.town.code}, headers=token_for(client, org.admin))
    assert response.status_code == 409, response.get_json()


@pytest.mark.parametrize("username", ["zhang.san@东镇", "李四", "émile_2", "wang-1"])
def test_usernames_of_one_script_with_dots_and_at_signs_are_taken(client, org, username):
    response = client.post("/api/v1/users", json={
        "username": username, "password": PASSWORD, "name": "某人", "role": "cadre",
        "unit_code": org.town.code}, headers=token_for(client, org.admin))
    assert response.status_code == 201, response.get_json()


def test_a_new_username_is_stored_composed(client, org):
    response = client.post("/api/v1/users", json={
        "username": unicodedata.normalize("NFD", "émile"), "password": PASSWORD, "name": "某人",
        "role": "cadre", "unit_code": org.town.code}, headers=token_for(client, org.admin))
    assert response.status_code == 201 and response.get_json()["username"] == "\u00e9mile"


def test_a_username_logs_in_however_it_is_typed(client, org):
    decomposed = unicodedata.normalize("NFD", "émile")
    make_user(org.town, username=decomposed)  # as an account made before names were cleaned
    for typed in ("émile", decomposed, "ÉMILE", "\uff45\u0301mile"):
        response = client.post("/api/v1/auth/login", json={"username": typed,
                                                            "password": PASSWORD})
        assert response.status_code == 200, (typed, response.get_json())


def test_the_login_throttle_counts_every_spelling_of_a_name_as_one(client, org):
    for spelling in ("cadre", "CADRE", "Cadre", "\uff43adre", "cadrE"):
        client.post("/api/v1/auth/login", json={"username": spelling, "password": "wrong-pw"})
    locked = client.post("/api/v1/auth/login", json={"username": "cadre",
                                                     "password": PASSWORD})
    assert locked.status_code == 429


def test_a_blank_activity_is_no_activity(client, org):
    visit = visit_of(client, org, token_for(client, org.cadre), activity="  ")
    assert visit["activity"] is None
