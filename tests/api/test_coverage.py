"""Linked-village coverage on the roll-up (``GET /compliance?include=coverage``): of the
villages linked to each person, how many they visited with a visit that counts, this year up
to as_of — and only for those the caller may read."""
from datetime import timedelta

import pytest

from tests.api.test_compliance import recent_weekday, stay
from tests.conftest import new_id, token_for


def coverage_of(client, actor, unit_code, **query):
    params = "&".join(f"{k}={v}" for k, v in {"unit_code": unit_code, "include": "coverage",
                                              **query}.items())
    response = client.get(f"/api/v1/compliance?{params}", headers=token_for(client, actor))
    assert response.status_code == 200, response.get_json()
    return {row["user"]["name"]: row["coverage"] for row in response.get_json()["rows"]}


def far_stay(client, auth, village, start):
    """A whole visit checked in 5.5 km from the village: flagged, so pending review."""
    point = {"lat": village.lat + 0.05, "lon": village.lon, "accuracy_m": 15}
    body = {"client_id": new_id(), "village_code": village.code,
            "check_in": {"at": start.isoformat(), "location": point},
            "check_out": {"at": (start + timedelta(hours=7)).isoformat(), "location": point}}
    response = client.post("/api/v1/visits", json=body, headers=auth)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "pending_review"
    return response.get_json()


def test_coverage_counts_linked_villages_with_a_counting_visit(client, org):
    cadre = token_for(client, org.cadre)          # linked to 东村 and 南村
    stay(client, cadre, org.village, recent_weekday(3), 7)
    stay(client, cadre, org.village, recent_weekday(4), 2)  # same village again: still one
    pending = far_stay(client, cadre, org.village_b, recent_weekday(5))
    secretary = token_for(client, org.secretary)  # linked to 东村 only
    stay(client, secretary, org.village_b, recent_weekday(3), 7)  # not a linked village

    found = coverage_of(client, org.supervisor, "341122")
    assert found["张三"] == {"visited": 1, "linked": 2}      # 南村's visit waits for review
    assert found["王书记"] == {"visited": 0, "linked": 1}
    assert found["李四"] == {"visited": 0, "linked": 0}

    sup = token_for(client, org.supervisor)
    approved = client.post(f"/api/v1/visits/{pending['id']}/review", headers=sup,
                           json={"decision": "approve", "comment": "在村部开会"})
    assert approved.status_code == 200, approved.get_json()
    assert coverage_of(client, org.supervisor, "341122")["张三"] == {"visited": 2, "linked": 2}


def test_rejected_and_withdrawn_visits_do_not_cover_a_village(client, org):
    cadre = token_for(client, org.cadre)
    rejected = far_stay(client, cadre, org.village, recent_weekday(3))
    withdrawn = far_stay(client, cadre, org.village_b, recent_weekday(4))
    sup = token_for(client, org.supervisor)
    assert client.post(f"/api/v1/visits/{rejected['id']}/review", headers=sup, json={
        "decision": "reject", "comment": "不在村"}).status_code == 200
    assert client.post(f"/api/v1/visits/{withdrawn['id']}/withdraw",
                       headers=cadre).status_code == 200
    assert coverage_of(client, org.supervisor, "341122100")["张三"] == \
        {"visited": 0, "linked": 2}


def test_coverage_counts_only_visits_up_to_as_of(client, org):
    cadre = token_for(client, org.cadre)
    # two days back, or three when that is 1 January: the day before stays in the same year
    start = next(day for day in (recent_weekday(2), recent_weekday(3))
                 if (day.month, day.day) != (1, 1))
    stay(client, cadre, org.village, start, 7)
    the_day_before = (start - timedelta(days=1)).date()
    assert coverage_of(client, org.supervisor, "341122100",
                       as_of=the_day_before.isoformat())["张三"]["visited"] == 0
    assert coverage_of(client, org.supervisor, "341122100",
                       as_of=start.date().isoformat())["张三"]["visited"] == 1


def test_coverage_is_left_out_unless_asked_for(client, org):
    body = client.get("/api/v1/compliance?unit_code=341122",
                      headers=token_for(client, org.supervisor)).get_json()
    assert body["rows"] and all("coverage" not in row for row in body["rows"])


@pytest.mark.parametrize("include", ["coverage,rules", "villages", ""])
def test_an_unknown_include_is_refused(client, org, include):
    response = client.get(f"/api/v1/compliance?unit_code=341122&include={include}",
                          headers=token_for(client, org.supervisor))
    assert response.status_code == 422
    assert "include" in response.get_json()["errors"]


def test_a_secretary_gets_coverage_for_her_own_township_only(client, org):
    town2 = token_for(client, org.town2_cadre)
    stay(client, town2, org.village2, recent_weekday(3), 7)
    found = coverage_of(client, org.secretary, "341122100")
    assert set(found) == {"李四", "王书记", "张三"}
    secretary = token_for(client, org.secretary)
    for unit_code in ("341122", "341122101"):
        response = client.get(f"/api/v1/compliance?unit_code={unit_code}&include=coverage",
                              headers=secretary)
        assert response.status_code == 403


def test_a_cadre_gets_no_coverage_roll_up(client, org):
    response = client.get("/api/v1/compliance?unit_code=341122100&include=coverage",
                          headers=token_for(client, org.cadre))
    assert response.status_code == 403
