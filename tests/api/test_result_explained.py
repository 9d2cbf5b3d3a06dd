"""Every result carries what explains it (RULES.md §5): the working days behind target and
pace, the absences and opening balance that changed them, and whether the target can still be
met — on the person's page, in the roll-up and in the export."""
import csv
import io

from tests.conftest import token_for


def village_time(body):
    return next(r for r in body["rules"] if r["rule_id"] == "village_time")


def mine(client, person, as_of):
    body = client.get(f"/api/v1/compliance/me?as_of={as_of}",
                      headers=token_for(client, person)).get_json()
    return village_time(body)


def test_the_worked_example_carries_its_working_days(client, org):
    result = mine(client, org.cadre, "2026-06-30")
    assert (result["target"], result["expected_to_date"]) == (82.67, 40.0)
    assert result["official_working_days"] == result["working_days"] == 248
    assert result["working_days_to_date"] == 120
    assert result["absence_working_days"] == 0 and result["opening_balance"] == 0
    assert result["reachable"] is True


def test_a_target_out_of_reach_says_so(client, org):
    result = mine(client, org.cadre, "2026-12-01")
    assert result["remaining"] == 82.67                 # 30 calendar days are left
    assert result["reachable"] is False
    reports = next(r for r in client.get(
        "/api/v1/compliance/me?as_of=2026-12-01",
        headers=token_for(client, org.secretary)).get_json()["rules"]
        if r["rule_id"] == "thematic_reports")
    assert reports["reachable"] is None                 # only village days have a reach


def test_an_opening_balance_is_named_and_brings_the_target_back_in_reach(client, org):
    path = f"/api/v1/users/{org.cadre.id}/opening-balance/2026"
    assert client.put(path, json={"village_days": 60, "reports": 0, "note": "纸质台账"},
                      headers=token_for(client, org.admin)).status_code == 200
    result = mine(client, org.cadre, "2026-12-01")
    assert result["opening_balance"] == 60 and result["actual"] == 60
    assert result["remaining"] == 22.67 and result["reachable"] is True


def test_an_absence_lowers_the_working_days_and_is_named(client, org):
    response = client.post("/api/v1/absences", headers=token_for(client, org.secretary), json={
        "user_id": org.cadre.id, "start": "2026-05-11", "end": "2026-05-15", "kind": "leave"})
    assert response.status_code == 201, response.get_json()
    result = mine(client, org.cadre, "2026-06-30")
    assert result["official_working_days"] == 248
    assert result["working_days"] == 243 and result["absence_working_days"] == 5
    assert result["target"] == 81.0
    assert result["working_days_to_date"] == 115


def test_the_roll_up_and_the_export_say_an_unreachable_target_cannot_be_met(client, org):
    sup = token_for(client, org.supervisor)
    rollup = client.get(f"/api/v1/compliance?unit_code={org.town.code}&as_of=2026-12-01",
                        headers=sup).get_json()
    row = next(r for r in rollup["rows"] if r["user"]["id"] == org.cadre.id)
    assert village_time(row)["reachable"] is False
    assert village_time(row)["working_days"] == 248
    response = client.get(f"/api/v1/compliance/export?unit_code={org.town.code}"
                          "&as_of=2026-12-01&format=csv", headers=sup)
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header = lines[1]
    line = next(x for x in lines[2:] if x[header.index("姓名")] == org.cadre.name
                and x[0] == village_time(row)["title"])
    assert line[header.index("每工作日需")] == "无法完成"
    assert line[header.index("日历")] == "官方工作日历"
    english = client.get(f"/api/v1/compliance/export?unit_code={org.town.code}"
                         "&as_of=2026-12-01&format=csv",
                         headers={**sup, "Accept-Language": "en"})
    lines = list(csv.reader(io.StringIO(english.data.decode("utf-8-sig"))))
    assert "cannot be met" in [x[lines[1].index("Needed per working day")] for x in lines[2:]]


def test_the_workbook_says_it_too(client, org):
    from openpyxl import load_workbook
    response = client.get(f"/api/v1/compliance/export?unit_code={org.town.code}"
                          "&as_of=2026-12-01&format=xlsx",
                          headers=token_for(client, org.supervisor))
    values = [cell.value for sheet in load_workbook(io.BytesIO(response.data)).worksheets
              for row in sheet.iter_rows() for cell in row]
    assert "无法完成" in values
