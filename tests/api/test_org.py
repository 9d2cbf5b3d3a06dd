"""Organisation (API.md "Organisation"): units, villages, users, linked villages and /me."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.auth.models import User
from server.extensions import db
from server.geo import distance_m, gcj02_to_wgs84
from tests.conftest import at, check_in_body, token_for


def as_(client, org, who):
    return token_for(client, getattr(org, who))


def codes(response, key="code"):
    assert response.status_code == 200, response.get_json()
    return {item[key] for item in response.get_json()}


# --- units ----------------------------------------------------------------------------------

def test_an_admin_creates_a_township_below_a_county_in_scope(client, org):
    auth = as_(client, org, "admin")
    body = {"code": "341122102", "name": "南镇", "level": "township", "parent_code": "341122"}
    response = client.post("/api/v1/units", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == body
    assert "341122102" in codes(client.get("/api/v1/units", headers=auth))


def test_an_admin_without_a_unit_creates_a_province(client, org):
    response = client.post("/api/v1/units", json={"code": "32", "name": "江苏省",
                                                  "level": "province"},
                           headers=as_(client, org, "root"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["parent_code"] is None


@pytest.mark.parametrize("parent_code, level", [
    ("341122100", "township"),   # a township below a township
    ("341122", "county"),        # a county below a county
    ("341122", "city"),          # a level above its parent
    ("34", "province"),
])
def test_a_unit_sits_below_a_parent_of_a_higher_level(client, org, parent_code, level):
    response = client.post("/api/v1/units", json={"code": "X1", "name": "错层",
                                                  "level": level, "parent_code": parent_code},
                           headers=as_(client, org, "root"))
    assert response.status_code == 422
    assert "parent_code" in response.get_json()["errors"]
    assert parent_code in response.get_json()["message"]


@pytest.mark.parametrize("body", [
    {"code": "341122", "name": "重复县", "level": "county", "parent_code": "3411"},
    {"code": "341122100", "name": "重复镇", "level": "township", "parent_code": "341122"},
])
def test_a_duplicate_unit_code_is_a_conflict(client, org, body):
    response = client.post("/api/v1/units", json=body, headers=as_(client, org, "root"))
    assert response.status_code == 409


@pytest.mark.parametrize("who, parent_code, status", [
    ("admin", "341123", 403),        # the neighbouring county is out of scope
    ("admin", None, 403),            # a county admin cannot add a root unit
    ("supervisor", "341122", 403),   # supervisors only read
    ("cadre", "341122", 403),
])
def test_only_an_admin_creates_units_and_only_in_scope(client, org, who, parent_code, status):
    body = {"code": "999", "name": "新单位", "level": "township" if parent_code else "province",
            "parent_code": parent_code}
    response = client.post("/api/v1/units", json=body, headers=as_(client, org, who))
    assert response.status_code == status


@pytest.mark.parametrize("who, expected", [
    ("supervisor", {"341122", "341122100", "341122101"}),
    ("town_supervisor", {"341122100"}),
    ("other_supervisor", {"341123", "341123100"}),
    ("root", {"34", "3411", "341122", "341122100", "341122101", "341123", "341123100"}),
])
def test_units_are_listed_within_the_callers_scope(client, org, who, expected):
    assert codes(client.get("/api/v1/units", headers=as_(client, org, who))) == expected


@pytest.mark.parametrize("who", ["cadre", "secretary"])
def test_field_people_do_not_read_units(client, org, who):
    assert client.get("/api/v1/units", headers=as_(client, org, who)).status_code == 403


# --- villages -------------------------------------------------------------------------------

def post_village(client, auth, **fields):
    body = {"code": "341122100299", "name": "新村", "township_code": "341122100",
            "lat": 32.25, "lon": 118.25, **fields}
    return client.post("/api/v1/villages", json=body, headers=auth)


def test_an_admin_creates_a_village_with_a_default_radius_of_1000_m(client, org):
    response = post_village(client, as_(client, org, "admin"))
    assert response.status_code == 201, response.get_json()
    village = response.get_json()
    assert village["code"] == "341122100299"
    assert village["township_code"] == "341122100"
    assert (village["lat"], village["lon"]) == (32.25, 118.25)
    assert village["radius_m"] == 1000


@pytest.mark.parametrize("crs", [None, "wgs84"])
def test_a_wgs84_point_is_stored_as_given(client, org, crs):
    extra = {"crs": crs} if crs else {}
    response = post_village(client, as_(client, org, "admin"), lat=32.1, lon=118.2, **extra)
    assert response.status_code == 201
    assert (response.get_json()["lat"], response.get_json()["lon"]) == (32.1, 118.2)


def test_a_gcj02_point_is_converted_to_wgs84(client, org):
    response = post_village(client, as_(client, org, "admin"), lat=32.25, lon=118.25,
                            crs="gcj02")
    assert response.status_code == 201
    village = response.get_json()
    lat, lon = gcj02_to_wgs84(32.25, 118.25)
    assert village["lat"] == pytest.approx(lat, abs=1e-9)
    assert village["lon"] == pytest.approx(lon, abs=1e-9)
    assert distance_m(32.25, 118.25, village["lat"], village["lon"]) > 100  # really moved


@pytest.mark.parametrize("fields, status, field", [
    ({"code": "341122100201"}, 409, "code"),             # 东村 exists
    ({"township_code": "341122"}, 422, "township_code"),  # a county is not a township
    ({"township_code": "999"}, 403, "township_code"),     # unknown: as out of scope, no leak
    ({"code": "12345"}, 422, "code"),                     # village codes have 12 digits
    ({"lat": 91}, 422, "lat"),
    ({"radius_m": 0}, 422, "radius_m"),
])
def test_a_bad_village_is_refused(client, org, fields, status, field):
    response = post_village(client, as_(client, org, "admin"), **fields)
    assert response.status_code == status, response.get_json()
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize("who, township_code", [
    ("admin", "341123100"),       # the neighbouring county's township
    ("supervisor", "341122100"),  # supervisors only read
    ("cadre", "341122100"),
])
def test_villages_are_created_by_admins_in_scope_only(client, org, who, township_code):
    response = post_village(client, as_(client, org, who), township_code=township_code)
    assert response.status_code == 403


@pytest.mark.parametrize("who, query, expected", [
    ("supervisor", "", {"341122100201", "341122100202", "341122101201"}),
    ("supervisor", "?township_code=341122101", {"341122101201"}),
    ("town_supervisor", "", {"341122100201", "341122100202"}),
    ("other_supervisor", "", {"341123100201"}),
])
def test_villages_are_listed_in_scope_and_by_township(client, org, who, query, expected):
    response = client.get("/api/v1/villages" + query, headers=as_(client, org, who))
    assert codes(response) == expected


def test_a_township_filter_out_of_scope_is_forbidden(client, org):
    response = client.get("/api/v1/villages?township_code=341123100",
                          headers=as_(client, org, "supervisor"))
    assert response.status_code == 403


def whole_visit(village, hours_ago, lat):
    """A visit 1 h long, checked in and out at ``lat`` on the village's meridian."""
    body = check_in_body(village, hours_ago=hours_ago, lat=lat)
    body["check_out"] = {"at": at(hours_ago - 1), "location": body["check_in"]["location"]}
    return body


def test_changing_a_villages_radius_is_audited_and_applies_to_new_visits_only(client, org):
    cadre = as_(client, org, "cadre")
    about_500_m_north = org.village.lat + 0.0045
    old = client.post("/api/v1/visits", json=whole_visit(org.village, 5, about_500_m_north),
                      headers=cadre)
    assert old.status_code == 201, old.get_json()
    assert old.get_json()["flags"] == []

    response = client.patch(f"/api/v1/villages/{org.village.code}", json={"radius_m": 200},
                            headers=as_(client, org, "admin"))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["radius_m"] == 200

    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "village", AuditEvent.entity_key == org.village.code)).all()
    assert len(events) == 1
    assert events[0].actor_id == org.admin.id
    assert events[0].changes["radius_m"] == [1000, 200]

    again = client.get(f"/api/v1/visits/{old.get_json()['id']}", headers=cadre).get_json()
    assert again["flags"] == [] and again["status"] == old.get_json()["status"]
    new = client.post("/api/v1/visits", json=whole_visit(org.village, 2, about_500_m_north),
                      headers=cadre)
    assert new.status_code == 201, new.get_json()
    assert "outside_geofence" in new.get_json()["flags"]


def test_changing_a_villages_point_converts_gcj02(client, org):
    response = client.patch(f"/api/v1/villages/{org.village.code}",
                            json={"lat": 32.31, "lon": 118.31, "crs": "gcj02", "name": "东村新址"},
                            headers=as_(client, org, "admin"))
    assert response.status_code == 200, response.get_json()
    lat, lon = gcj02_to_wgs84(32.31, 118.31)
    assert response.get_json()["lat"] == pytest.approx(lat, abs=1e-9)
    assert response.get_json()["lon"] == pytest.approx(lon, abs=1e-9)
    assert response.get_json()["name"] == "东村新址"


@pytest.mark.parametrize("who, status", [("supervisor", 403), ("other_supervisor", 404),
                                         ("cadre", 403)])
def test_only_an_admin_in_scope_changes_a_village(client, org, who, status):
    response = client.patch(f"/api/v1/villages/{org.village.code}", json={"radius_m": 50},
                            headers=as_(client, org, who))
    assert response.status_code == status


# --- users ----------------------------------------------------------------------------------

def user_body(**fields):
    return {"username": "newcadre", "password": "a-good-password", "name": "新干部",
            "role": "cadre", "unit_code": "341122100", **fields}


def test_an_admin_creates_a_user_who_can_log_in(client, org):
    response = client.post("/api/v1/users", json=user_body(active_from="2026-01-01"),
                           headers=as_(client, org, "admin"))
    assert response.status_code == 201, response.get_json()
    user = response.get_json()
    assert isinstance(user["id"], int)
    assert user["username"] == "newcadre"
    assert user["role"] == "cadre"
    assert user["unit_code"] == "341122100"
    assert user["active_from"] == "2026-01-01"
    assert "password" not in user and "password_hash" not in user
    login = client.post("/api/v1/auth/login",
                        json={"username": "newcadre", "password": "a-good-password"})
    assert login.status_code == 200


@pytest.mark.parametrize("username, password", [
    ("newcadre", "short"),
    ("newcadre", "1234567"),
    ("newcadre", "newcadre"),
    ("longusername", "longusername"),
])
def test_the_password_policy_applies_to_new_users_through_the_api(client, org, username,
                                                                  password):
    response = client.post("/api/v1/users", json=user_body(username=username, password=password),
                           headers=as_(client, org, "admin"))
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]
    assert db.session.scalar(select(User).where(User.username == username)) is None


@pytest.mark.parametrize("password, exit_ok", [
    ("short", False),
    ("1234567", False),
    ("clidude1", False),        # the username
    ("12345678", True),
])
def test_the_password_policy_applies_to_create_user_on_the_command_line(runner, org, password,
                                                                        exit_ok):
    result = runner.invoke(args=["create-user", "--username", "clidude1", "--password", password,
                                 "--name", "命令行", "--role", "cadre",
                                 "--unit-code", "341122100"])
    assert (result.exit_code == 0) is exit_ok, result.output
    created = db.session.scalar(select(User).where(User.username == "clidude1"))
    assert (created is not None) is exit_ok


@pytest.mark.parametrize("role, unit_code, status", [
    ("cadre", "341122100", 201),
    ("secretary", "341122100", 201),
    ("cadre", "341122", 422),         # field people belong to a township
    ("secretary", "341122", 422),
    ("cadre", None, 422),
    ("supervisor", "341122", 201),
    ("supervisor", "341122100", 201),
    ("supervisor", None, 422),         # a supervisor needs a unit to be scoped to
    ("admin", "341122", 201),
    ("admin", "341122100", 201),
])
def test_a_role_needs_a_unit_of_the_right_level(client, org, role, unit_code, status):
    response = client.post("/api/v1/users", json=user_body(role=role, unit_code=unit_code),
                           headers=as_(client, org, "root"))
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "unit_code" in response.get_json()["errors"]


def test_only_an_admin_without_a_unit_creates_an_admin_without_a_unit(client, org):
    body = user_body(role="admin", unit_code=None)
    assert client.post("/api/v1/users", json=body,
                       headers=as_(client, org, "admin")).status_code == 403
    assert client.post("/api/v1/users", json=body,
                       headers=as_(client, org, "root")).status_code == 201


@pytest.mark.parametrize("who, fields, status", [
    ("admin", {"unit_code": "341123100"}, 403),   # the neighbouring county
    ("supervisor", {}, 403),
    ("secretary", {}, 403),
    ("admin", {"username": "cadre"}, 409),        # taken
    ("admin", {"role": "boss"}, 422),
    ("admin", {"unit_code": "999"}, 403),         # unknown: as out of scope, no leak
])
def test_a_user_is_refused_when_out_of_scope_duplicate_or_invalid(client, org, who, fields,
                                                                  status):
    response = client.post("/api/v1/users", json=user_body(**fields),
                           headers=as_(client, org, who))
    assert response.status_code == status, response.get_json()


@pytest.mark.parametrize("who, query, expected", [
    ("supervisor", "?unit_code=341122",
     {"cadre", "colleague", "secretary", "town2cadre", "supervisor", "townsup", "admin"}),
    ("supervisor", "?unit_code=341122100", {"cadre", "colleague", "secretary", "townsup"}),
    ("supervisor", "?unit_code=341122101", {"town2cadre"}),
    ("town_supervisor", "", {"cadre", "colleague", "secretary", "townsup"}),
    ("other_supervisor", "", {"othercadre", "othersup"}),
])
def test_users_are_listed_by_unit_including_the_units_below(client, org, who, query, expected):
    response = client.get("/api/v1/users" + query, headers=as_(client, org, who))
    assert codes(response, "username") == expected


@pytest.mark.parametrize("who, unit_code", [
    ("supervisor", "341123"),
    ("town_supervisor", "341122"),     # above one's own unit
    ("supervisor", "nosuchunit"),
])
def test_a_unit_filter_out_of_scope_is_forbidden(client, org, who, unit_code):
    response = client.get(f"/api/v1/users?unit_code={unit_code}", headers=as_(client, org, who))
    assert response.status_code == 403


@pytest.mark.parametrize("who, status", [
    ("supervisor", 200), ("admin", 200), ("other_supervisor", 404), ("cadre", 403),
])
def test_a_user_is_read_by_id_in_scope_only(client, org, who, status):
    response = client.get(f"/api/v1/users/{org.colleague.id}", headers=as_(client, org, who))
    assert response.status_code == status
    if status == 200:
        assert response.get_json()["username"] == "colleague"


@pytest.mark.parametrize("patch, expected", [
    ({"name": "李四新"}, {"name": "李四新"}),
    ({"unit_code": "341122101"}, {"unit_code": "341122101"}),
    ({"role": "secretary"}, {"role": "secretary"}),
    ({"active_from": "2026-01-01", "active_until": "2026-12-31"},
     {"active_from": "2026-01-01", "active_until": "2026-12-31"}),
    ({"active": False}, {"active": False}),
])
def test_an_admin_changes_a_user(client, org, patch, expected):
    auth = as_(client, org, "admin")
    response = client.patch(f"/api/v1/users/{org.colleague.id}", json=patch, headers=auth)
    assert response.status_code == 200, response.get_json()
    stored = client.get(f"/api/v1/users/{org.colleague.id}", headers=auth).get_json()
    assert {k: stored[k] for k in expected} == expected


@pytest.mark.parametrize("who, patch, status", [
    ("supervisor", {"name": "改名"}, 403),
    ("admin", {"unit_code": "341122"}, 422),        # a cadre in a county
    ("admin", {"unit_code": "341123100"}, 403),     # moved out of scope
    ("admin", {"active_from": "2026-12-31", "active_until": "2026-01-01"}, 422),
])
def test_a_bad_change_to_a_user_is_refused(client, org, who, patch, status):
    response = client.patch(f"/api/v1/users/{org.colleague.id}", json=patch,
                            headers=as_(client, org, who))
    assert response.status_code == status, response.get_json()


# --- linked villages ------------------------------------------------------------------------

def put_links(client, auth, user, village_codes):
    return client.put(f"/api/v1/users/{user.id}/linked-villages",
                      json={"village_codes": village_codes}, headers=auth)


def test_an_admin_replaces_a_persons_linked_villages(client, org):
    response = put_links(client, as_(client, org, "admin"), org.colleague,
                         [org.village_b.code, org.village.code])
    assert response.status_code == 200, response.get_json()
    me = client.get("/api/v1/me", headers=as_(client, org, "colleague")).get_json()
    assert {v["code"] for v in me["linked_villages"]} == {org.village.code, org.village_b.code}
    response = put_links(client, as_(client, org, "admin"), org.colleague, [org.village.code])
    assert {v["code"] for v in response.get_json()["linked_villages"]} == {org.village.code}


def test_one_user_read_names_the_villages_they_are_linked_to(client, org):
    put_links(client, as_(client, org, "admin"), org.colleague,
              [org.village_b.code, org.village.code])
    for reader in ("admin", "supervisor"):
        shown = client.get(f"/api/v1/users/{org.colleague.id}",
                           headers=as_(client, org, reader)).get_json()
        assert sorted(shown["linked_village_codes"]) == sorted([org.village.code,
                                                                org.village_b.code])
    listed = client.get("/api/v1/users", headers=as_(client, org, "admin")).get_json()
    assert all("linked_village_codes" not in u for u in listed)   # one user's read only


@pytest.mark.parametrize("village_codes, field", [
    (["341122101201"], "village_codes.0"),                   # 西村 is in 西镇
    (["341122100201", "341123100201"], "village_codes.1"),   # 北村 next door
    (["341122100299"], "village_codes.0"),                   # no such village
])
def test_a_linked_village_outside_the_persons_township_is_refused(client, org, village_codes,
                                                                  field):
    response = put_links(client, as_(client, org, "admin"), org.cadre, village_codes)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]
    me = client.get("/api/v1/me", headers=as_(client, org, "cadre")).get_json()
    assert {v["code"] for v in me["linked_villages"]} == {org.village.code, org.village_b.code}


def test_only_cadres_and_secretaries_are_linked_to_villages(client, org):
    response = put_links(client, as_(client, org, "admin"), org.town_supervisor,
                         [org.village.code])
    assert response.status_code == 422


@pytest.mark.parametrize("who, status", [("supervisor", 403), ("other_supervisor", 404),
                                         ("secretary", 403)])
def test_only_an_admin_in_scope_links_villages(client, org, who, status):
    response = put_links(client, as_(client, org, who), org.colleague, [org.village.code])
    assert response.status_code == status


# --- me -------------------------------------------------------------------------------------

def test_me_shows_the_user_unit_role_and_linked_villages(client, org):
    response = client.get("/api/v1/me", headers=as_(client, org, "cadre"))
    assert response.status_code == 200
    me = response.get_json()
    assert me["user"]["id"] == org.cadre.id
    assert me["user"]["role"] == "cadre"
    assert me["unit"]["code"] == "341122100"
    assert me["unit"]["level"] == "township"
    assert [v["code"] for v in me["linked_villages"]] == [org.village.code, org.village_b.code]
    assert me["linked_villages"][0]["radius_m"] == 1000


def test_me_for_an_admin_without_a_unit(client, org):
    me = client.get("/api/v1/me", headers=as_(client, org, "root")).get_json()
    assert me["user"]["role"] == "admin"
    assert me["unit"] is None
    assert me["linked_villages"] == []


@pytest.mark.parametrize("who, expected", [
    ("cadre", {"341122100201", "341122100202"}),
    ("colleague", {"341122100201", "341122100202"}),   # linked to none, still sees the township
    ("town2_cadre", {"341122101201"}),
    ("supervisor", set()),
])
def test_my_villages_are_those_of_my_township(client, org, who, expected):
    assert codes(client.get("/api/v1/me/villages", headers=as_(client, org, who))) == expected
