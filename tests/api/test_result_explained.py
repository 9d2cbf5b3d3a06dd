"""Every result carries what explains it (RULES.md §5): the working days behind target and
pace, the absences and opening balance that changed them, and whether the target can still be
met — on the person's page, in the roll-up and in the export."""
import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from server.extensions import db
from server.visits.schemas import VisitCreateSchema
from server.visits.services import create_visit
from tests.conftest import new_id, token_for

CST = timezone(timedelta(hours=8))


def village_time(body):
    return next(r for r in body["rules"] if r["rule_id"] == "village_time")


def mine(client, person, as_of, **headers):
    body = client.get(f"/api/v1/compliance/me?as_of={as_of}",
                      headers={**token_for(client, person), **headers}).get_json()
    return village_time(body)


def village_days_in_june(person, village, count=30):
    """A 7-hour stay on each of the first ``count`` dates of June 2026, each synced by the phone
    an hour after leaving (so none is late): ``count`` village days."""
    point = {"lat": village.lat, "lon": village.lon, "accuracy_m": 15}
    for day in range(1, count + 1):
        start = datetime(2026, 6, day, 8, tzinfo=CST)
        end = start + timedelta(hours=7)
        body = VisitCreateSchema().load({
            "client_id": new_id(), "village_code": village.code,
            "check_in": {"at": start.isoformat(), "location": point},
            "check_out": {"at": end.isoformat(), "location": point}})
        visit, _ = create_visit(person, body, None, now=end + timedelta(hours=1))
        assert visit.status == "verified"
    db.session.commit()


@pytest.fixture
def thirty_days(org):
    village_days_in_june(org.cadre, org.village)
    return org


def test_the_worked_example_carries_its_working_days(client, org):
    result = mine(client, org.cadre, "2026-06-30")
    assert (result["target"], result["expected_to_date"]) == (82.67, 40.0)
    assert result["official_working_days"] == result["working_days"] == 248
    assert result["working_days_to_date"] == 120
    assert result["remaining_working_days"] == 128
    assert result["absence_working_days"] == 0 and result["absences"] == []
    assert result["opening_balance"] is None and result["absence_credit"] is None
    assert result["reachable"] is True


def test_thirty_days_in_june_are_behind_but_reachable(client, thirty_days):
    result = mine(client, thirty_days.cadre, "2026-06-30")
    assert (result["actual"], result["status"]) == (30.0, "behind")    # 30 < 0.8 × 40
    assert result["remaining"] == 52.67 and result["reachable"] is True
    assert result["pace_per_working_day"] == 0.41                       # 52⅔ ÷ 128


def test_the_same_thirty_days_as_of_1_december_can_no_longer_reach_the_target(
        client, thirty_days):
    result = mine(client, thirty_days.cadre, "2026-12-01")
    assert result["actual"] == 30.0
    assert result["remaining"] == 52.67             # more than the 30 dates left in December
    assert result["reachable"] is False
    assert result["working_days"] == 248 and result["working_days_to_date"] == 226
    assert result["pace_per_working_day"] == round((248 / 3 - 30) / 22, 2)  # stays: RULES §5


def test_a_count_has_no_reach(client, org):
    body = client.get("/api/v1/compliance/me?as_of=2026-12-01",
                      headers=token_for(client, org.secretary)).get_json()
    reports = next(r for r in body["rules"] if r["rule_id"] == "thematic_reports")
    assert reports["reachable"] is None             # no ceiling on reports a date
    assert reports["working_days"] == 248 and reports["absences"] == []


def test_an_absence_lowers_the_working_days_and_is_named(client, org):
    response = client.post("/api/v1/absences", headers=token_for(client, org.secretary), json={
        "user_id": org.cadre.id, "start": "2026-05-11", "end": "2026-05-17", "kind": "leave"})
    assert response.status_code == 201, response.get_json()
    result = mine(client, org.cadre, "2026-06-30")
    assert result["official_working_days"] == 248
    assert result["working_days"] == 243 and result["absence_working_days"] == 5
    assert result["target"] == 81.0
    assert result["working_days_to_date"] == 115
    assert result["expected_to_date"] == round(81 * 115 / 243, 2)
    assert result["absences"] == [{
        "id": response.get_json()["id"], "kind": "leave", "start": "2026-05-11",
        "end": "2026-05-17", "counts_as_village_work": False, "working_days": 5,
        "working_days_to_date": 5}]
    before = mine(client, org.cadre, "2026-05-12")["absences"][0]
    assert (before["working_days"], before["working_days_to_date"]) == (5, 2)


def test_official_duty_counted_as_village_work_is_named_with_its_credit(client, org):
    response = client.post("/api/v1/absences", headers=token_for(client, org.supervisor), json={
        "user_id": org.secretary.id, "start": "2026-03-02", "end": "2026-03-06",
        "kind": "official_duty", "counts_as_village_work": True})
    assert response.status_code == 201
    body = client.get("/api/v1/compliance/me?as_of=2026-06-30",
                      headers=token_for(client, org.secretary)).get_json()
    result = village_time(body)
    assert (result["actual"], result["absence_credit"]) == (5.0, 5.0)
    assert result["working_days"] == 248 and result["target"] == 82.67
    assert [(a["kind"], a["counts_as_village_work"], a["working_days"])
            for a in result["absences"]] == [("official_duty", True, 5)]
    reports = next(r for r in body["rules"] if r["rule_id"] == "thematic_reports")
    assert reports["absences"] == [] and reports["absence_credit"] is None


def test_an_opening_balance_is_named_and_brings_the_target_back_in_reach(client, org):
    path = f"/api/v1/users/{org.cadre.id}/opening-balance/2026"
    assert client.put(path, json={"village_days": 60, "reports": 0, "note": "纸质台账"},
                      headers=token_for(client, org.admin)).status_code == 200
    result = mine(client, org.cadre, "2026-12-01")
    assert result["opening_balance"] == 60 and result["actual"] == 60
    assert result["remaining"] == 22.67 and result["reachable"] is True


def export_lines(client, org, auth, **headers):
    response = client.get(f"/api/v1/compliance/export?unit_code={org.town.code}"
                          "&as_of=2026-12-01&format=csv", headers={**auth, **headers})
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    return lines[1], lines[2:]


def test_the_roll_up_and_the_export_say_an_unreachable_target_cannot_be_met(
        client, thirty_days):
    org = thirty_days
    sup = token_for(client, org.supervisor)
    rollup = client.get(f"/api/v1/compliance?unit_code={org.town.code}&as_of=2026-12-01",
                        headers=sup).get_json()
    rows = {r["user"]["id"]: village_time(r) for r in rollup["rows"]}
    assert rows[org.cadre.id] == mine(client, org.cadre, "2026-12-01")
    assert rows[org.cadre.id]["reachable"] is False
    assert rows[org.colleague.id]["working_days"] == 248
    header, lines = export_lines(client, org, sup)
    pace, calendar = header.index("每工作日需"), header.index("日历")
    by_name = {x[header.index("姓名")]: x for x in lines if x[0] == rows[org.cadre.id]["title"]}
    assert by_name[org.cadre.name][pace] == "无法完成"
    assert {x[calendar] for x in lines} == {"官方"}
    # 82.67 with 30 dates left: also out of reach for a colleague with nothing done
    assert by_name[org.colleague.name][pace] == "无法完成"
    header, lines = export_lines(client, org, sup, **{"Accept-Language": "en"})
    assert {x[header.index("Calendar")] for x in lines} == {"official"}
    assert "cannot be met" in [x[header.index("Needed per working day")] for x in lines]


def test_the_export_keeps_the_pace_of_a_reachable_target(client, org):
    path = f"/api/v1/users/{org.cadre.id}/opening-balance/2026"
    client.put(path, json={"village_days": 60, "reports": 0},
               headers=token_for(client, org.admin))
    header, lines = export_lines(client, org, token_for(client, org.supervisor))
    cadre = next(x for x in lines if x[header.index("姓名")] == org.cadre.name
                 and x[header.index("目标")] == "82.67")
    assert cadre[header.index("每工作日需")] == "1.03"                 # 22⅔ ÷ 22


def test_the_workbook_says_it_too(client, thirty_days):
    from openpyxl import load_workbook
    response = client.get(f"/api/v1/compliance/export?unit_code={thirty_days.town.code}"
                          "&as_of=2026-12-01&format=xlsx",
                          headers=token_for(client, thirty_days.supervisor))
    sheet = load_workbook(io.BytesIO(response.data))["在村工作时间"]
    paces = {row[1]: row[9] for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert paces[thirty_days.cadre.name] == "无法完成"

