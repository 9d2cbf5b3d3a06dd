"""Thematic reports (API.md "Thematic reports"): filing, idempotency, scope and review."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import new_id, token_for

REPORTS = "/api/v1/reports"


def local_today() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def report_body(**fields):
    body = {"client_id": new_id(), "reported_on": local_today().isoformat(),
            "title": "基层党建专题汇报", "category": "rural", "summary": "村党组织建设情况"}
    body.update(fields)
    return body


def as_(client, org, who):
    return token_for(client, getattr(org, who))


@pytest.fixture
def filed(client, org):
    """A report the secretary filed today, still submitted."""
    response = client.post(REPORTS, json=report_body(), headers=as_(client, org, "secretary"))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# --- filing ---------------------------------------------------------------------------------

def test_a_secretary_files_a_report_for_themself(client, org):
    body = report_body()
    response = client.post(REPORTS, json=body, headers=as_(client, org, "secretary"))
    assert response.status_code == 201, response.get_json()
    report = response.get_json()
    assert report["user_id"] == org.secretary.id
    assert report["client_id"] == body["client_id"]
    assert report["reported_on"] == body["reported_on"]
    assert (report["title"], report["category"]) == (body["title"], "rural")
    assert report["status"] == "submitted"
    assert report["counts"] is True


def test_replaying_a_report_returns_it_with_200(client, org):
    auth = as_(client, org, "secretary")
    body = report_body()
    first = client.post(REPORTS, json=body, headers=auth)
    shuffled = dict(reversed(list(body.items())))
    again = client.post(REPORTS, json=shuffled, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    listed = client.get(REPORTS, headers=auth).get_json()
    assert [r["id"] for r in listed] == [first.get_json()["id"]]


@pytest.mark.parametrize("change", [{"title": "另一个题目"}, {"category": "urban"},
                                    {"reported_on": "2020-01-01"}])
def test_a_different_report_under_the_same_client_id_is_a_conflict(client, org, change):
    auth = as_(client, org, "secretary")
    body = report_body()
    assert client.post(REPORTS, json=body, headers=auth).status_code == 201
    response = client.post(REPORTS, json={**body, **change}, headers=auth)
    assert response.status_code == 409
    assert response.get_json()["code"] == "client_id_reused"


@pytest.mark.parametrize("days_from_today, status", [
    (-400, 201),
    (0, 201),
    (1, 422),
    (30, 422),
])
def test_reported_on_may_not_be_in_the_future(client, org, days_from_today, status):
    reported_on = (local_today() + timedelta(days=days_from_today)).isoformat()
    response = client.post(REPORTS, json=report_body(reported_on=reported_on),
                           headers=as_(client, org, "secretary"))
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "reported_on" in response.get_json()["errors"]


@pytest.mark.parametrize("fields", [
    {"title": ""}, {"category": "party"}, {"client_id": "not-a-uuid"}, {"reported_on": "3/2/2026"},
])
def test_an_invalid_report_is_refused(client, org, fields):
    response = client.post(REPORTS, json=report_body(**fields),
                           headers=as_(client, org, "secretary"))
    assert response.status_code == 422


@pytest.mark.parametrize("who", ["cadre", "admin", "root"])
def test_only_secretaries_and_supervisors_file_reports(client, org, who):
    response = client.post(REPORTS, json=report_body(), headers=as_(client, org, who))
    assert response.status_code == 403


@pytest.mark.parametrize("who", ["supervisor", "town_supervisor"])
def test_a_supervisor_records_a_report_for_a_secretary_in_scope(client, org, who):
    response = client.post(REPORTS, json=report_body(user_id=org.secretary.id),
                           headers=as_(client, org, who))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["user_id"] == org.secretary.id
    mine = client.get(f"{REPORTS}?user_id={org.secretary.id}",
                      headers=as_(client, org, "secretary")).get_json()
    assert [r["id"] for r in mine] == [response.get_json()["id"]]


def test_a_supervisor_must_name_the_secretary(client, org):
    response = client.post(REPORTS, json=report_body(), headers=as_(client, org, "supervisor"))
    assert response.status_code == 422
    assert "user_id" in response.get_json()["errors"]


def test_a_supervisor_cannot_record_for_a_secretary_out_of_scope(client, org):
    response = client.post(REPORTS, json=report_body(user_id=org.secretary.id),
                           headers=as_(client, org, "other_supervisor"))
    assert response.status_code == 403


def test_a_secretary_cannot_file_for_someone_else(client, org):
    response = client.post(REPORTS, json=report_body(user_id=org.cadre.id),
                           headers=as_(client, org, "secretary"))
    assert response.status_code == 403


# --- reading --------------------------------------------------------------------------------

def test_reports_are_listed_by_user_and_year(client, org):
    auth = as_(client, org, "secretary")
    this_year = local_today().year
    dates = [date(this_year - 1, 6, 1), date(this_year, 1, 2), local_today()]
    ids = {}
    for day in dates:
        response = client.post(REPORTS, json=report_body(reported_on=day.isoformat()),
                               headers=auth)
        assert response.status_code == 201
        ids[day] = response.get_json()["id"]
    supervisor = as_(client, org, "supervisor")
    query = f"{REPORTS}?user_id={org.secretary.id}&year="
    this = client.get(query + str(this_year), headers=supervisor).get_json()
    last = client.get(query + str(this_year - 1), headers=supervisor).get_json()
    assert {r["id"] for r in this} == {ids[dates[1]], ids[dates[2]]}
    assert [r["id"] for r in last] == [ids[dates[0]]]
    empty = client.get(f"{REPORTS}?user_id={org.cadre.id}", headers=supervisor).get_json()
    assert empty == []


@pytest.mark.parametrize("who, status", [
    ("secretary", 200), ("supervisor", 200), ("town_supervisor", 200), ("admin", 200),
    ("other_supervisor", 404), ("cadre", 404),
])
def test_a_report_is_read_by_id_in_scope_only(client, org, filed, who, status):
    response = client.get(f"{REPORTS}/{filed['id']}", headers=as_(client, org, who))
    assert response.status_code == status


@pytest.mark.parametrize("who", ["other_supervisor", "cadre"])
def test_a_user_filter_out_of_scope_is_forbidden(client, org, filed, who):
    response = client.get(f"{REPORTS}?user_id={org.secretary.id}", headers=as_(client, org, who))
    assert response.status_code == 403


def test_a_list_without_filters_shows_only_reports_in_scope(client, org, filed):
    assert client.get(REPORTS, headers=as_(client, org, "other_supervisor")).get_json() == []
    assert [r["id"] for r in client.get(REPORTS, headers=as_(client, org, "supervisor"))
            .get_json()] == [filed["id"]]


# --- withdrawing and reviewing --------------------------------------------------------------

def withdraw(client, auth, report):
    return client.post(f"{REPORTS}/{report['id']}/withdraw", headers=auth)


def review(client, auth, report, decision, comment=None):
    body = {"decision": decision}
    if comment is not None:
        body["comment"] = comment
    return client.post(f"{REPORTS}/{report['id']}/review", json=body, headers=auth)


def test_a_submitted_report_is_withdrawn_and_no_longer_counts(client, org, filed):
    response = withdraw(client, as_(client, org, "secretary"), filed)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "withdrawn"
    assert response.get_json()["counts"] is False


def test_a_withdrawn_report_cannot_be_reviewed(client, org, filed):
    withdraw(client, as_(client, org, "secretary"), filed)
    response = review(client, as_(client, org, "supervisor"), filed, "acknowledge")
    assert response.status_code == 409


@pytest.mark.parametrize("decision, comment", [("acknowledge", None), ("reject", "内容空泛")])
def test_a_reviewed_report_can_no_longer_be_withdrawn(client, org, filed, decision, comment):
    review(client, as_(client, org, "supervisor"), filed, decision, comment)
    response = withdraw(client, as_(client, org, "secretary"), filed)
    assert response.status_code == 409


@pytest.mark.parametrize("who, status", [("colleague", 404), ("supervisor", 403)])
def test_only_the_secretary_or_the_filer_withdraws(client, org, filed, who, status):
    response = withdraw(client, as_(client, org, who), filed)
    assert response.status_code == status
    assert client.get(f"{REPORTS}/{filed['id']}", headers=as_(client, org, "secretary")) \
        .get_json()["status"] == "submitted"


@pytest.mark.parametrize("decision, comment, status, counts", [
    ("acknowledge", None, "acknowledged", True),
    ("acknowledge", "很好", "acknowledged", True),
    ("reject", "请补充整改情况", "rejected", False),
])
def test_a_supervisor_acknowledges_or_rejects_a_report(client, org, filed, decision, comment,
                                                       status, counts):
    response = review(client, as_(client, org, "supervisor"), filed, decision, comment)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert (report["status"], report["counts"]) == (status, counts)
    assert report["review_comment"] == comment
    shown = client.get(f"{REPORTS}/{filed['id']}", headers=as_(client, org, "secretary"))
    assert (shown.get_json()["status"], shown.get_json()["counts"]) == (status, counts)


@pytest.mark.parametrize("comment", [None, "", "   "])
def test_a_rejection_needs_a_comment(client, org, filed, comment):
    response = review(client, as_(client, org, "supervisor"), filed, "reject", comment)
    assert response.status_code == 422
    assert "comment" in response.get_json()["errors"]


def test_a_report_is_decided_only_once(client, org, filed):
    auth = as_(client, org, "supervisor")
    assert review(client, auth, filed, "acknowledge").status_code == 200
    assert review(client, auth, filed, "reject", "改主意了").status_code == 409


@pytest.mark.parametrize("who, status", [
    ("secretary", 403), ("admin", 403), ("other_supervisor", 404), ("cadre", 404),
])
def test_only_a_supervisor_in_scope_reviews(client, org, filed, who, status):
    response = review(client, as_(client, org, who), filed, "acknowledge")
    assert response.status_code == status


def test_an_unknown_decision_is_refused(client, org, filed):
    response = review(client, as_(client, org, "supervisor"), filed, "approve")
    assert response.status_code == 422
