"""The year-end 述职评议考核 through the API (RULES.md §10): rectification items from record to
confirmation, idempotent notes, and the evaluation pack in JSON and xlsx — who reads what."""
from __future__ import annotations

import io
from datetime import date, datetime, timedelta

from openpyxl import load_workbook
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.progress.facts import working_calendar
from tests.api.test_compliance import CST, recent_weekday, stay
from tests.conftest import make_user, new_id, token_for

THIS_YEAR = datetime.now(CST).year
LAST_YEAR = THIS_YEAR - 1


def record_item(client, org, **extra):
    body = {"unit_code": "341122100", "year": LAST_YEAR, "title": "村级活动场所利用率不高",
            "detail": "部分村党群服务中心长期闲置", "due": f"{THIS_YEAR}-06-30", **extra}
    response = client.post("/api/v1/rectifications", json=body,
                           headers=token_for(client, org.supervisor))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def note(client, who, item, text, status=201, **extra):
    response = client.post(f"/api/v1/rectifications/{item['id']}/notes", headers=who,
                           json={"note": text, **extra})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def review(client, who, item, decision, comment=None, status=200):
    body = {"decision": decision, **({"comment": comment} if comment else {})}
    response = client.post(f"/api/v1/rectifications/{item['id']}/review", headers=who, json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


# --- rectification items -------------------------------------------------------------------------

def test_an_item_goes_from_open_to_done_through_notes_a_claim_and_a_confirmation(client, org):
    item = record_item(client, org)
    assert (item["status"], item["unit_code"], item["year"]) == ("open", "341122100", LAST_YEAR)
    secretary, sup = token_for(client, org.secretary), token_for(client, org.supervisor)
    assert note(client, secretary, item, "已制定场所使用计划")["status"] == "in_progress"
    assert note(client, secretary, item, "各村已按周开放", claim_done=True)["status"] == \
        "done_claimed"
    refused = client.post(f"/api/v1/rectifications/{item['id']}/review", headers=sup,
                          json={"decision": "send_back"})
    assert refused.status_code == 422 and refused.get_json()["code"] == "comment_required"
    back = review(client, sup, item, "send_back", "请补充台账")
    assert back["status"] == "in_progress"
    note(client, secretary, item, "台账已补充", claim_done=True)
    done = review(client, sup, item, "confirm")
    assert done["status"] == "done"
    assert [n["kind"] for n in done["notes"]] == ["note", "claim", "send_back", "claim", "confirm"]
    assert done["notes"][2]["note"] == "请补充台账" and done["notes"][0]["by"] == "王书记"
    assert client.post(f"/api/v1/rectifications/{item['id']}/notes", headers=secretary,
                       json={"note": "再补一句"}).status_code == 409
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "rectification", AuditEvent.entity_key == str(item["id"]))
        .order_by(AuditEvent.id)).all()
    assert actions == ["created", "note", "claim", "send_back", "claim", "confirm"]


def test_a_decision_needs_a_claim_first(client, org):
    item = record_item(client, org)
    response = client.post(f"/api/v1/rectifications/{item['id']}/review",
                           headers=token_for(client, org.supervisor), json={"decision": "confirm"})
    assert response.status_code == 409
    assert response.get_json()["code"] == "rectification_not_claimed"


def test_a_pack_printed_again_later_shows_the_items_as_they_stood(client, org):
    """Last year's pack (as of 31 December) shows the items of the year before as they were
    then: a note added today is not in it."""
    from server.evaluation.models import Rectification
    item = record_item(client, org, year=LAST_YEAR - 1)
    note(client, token_for(client, org.secretary), item, "今年才写的进展")
    stored = db.session.get(Rectification, item["id"])
    stored.created_at = datetime(LAST_YEAR, 1, 10, 10, tzinfo=CST)
    db.session.commit()
    past = pack(client, org.supervisor, year=LAST_YEAR).get_json()
    assert [(i["id"], i["status"], i["notes"]) for i in past["rectifications"]] == [
        (item["id"], "open", [])]
    now = pack(client, org.supervisor, year=THIS_YEAR).get_json()
    assert now["rectifications"] == []   # this year's pack shows last year's items


def test_a_phones_note_is_idempotent_by_client_id(client, org):
    item = record_item(client, org)
    secretary = token_for(client, org.secretary)
    client_id = new_id()
    first = note(client, secretary, item, "已整改", client_id=client_id)
    again = note(client, secretary, item, "已整改", status=200, client_id=client_id)
    assert len(again["notes"]) == len(first["notes"]) == 1
    other = client.post(f"/api/v1/rectifications/{item['id']}/notes", headers=secretary,
                        json={"note": "另一条", "client_id": client_id})
    assert other.status_code == 409 and other.get_json()["code"] == "client_id_reused"


def test_who_may_record_read_note_and_decide(client, org):
    item = record_item(client, org)
    path = f"/api/v1/rectifications/{item['id']}"
    for who, status in ((org.secretary, 200), (org.supervisor, 200), (org.admin, 200),
                        (org.cadre, 404), (org.other_supervisor, 404), (org.town2_cadre, 404)):
        assert client.get(path, headers=token_for(client, who)).status_code == status, \
            who.username
    other_secretary = make_user(org.town2, username="westsecretary", role="secretary")
    assert client.get(path, headers=token_for(client, other_secretary)).status_code == 404
    body = {"unit_code": "341122100", "year": LAST_YEAR, "title": "问题"}
    for who, status in ((org.secretary, 403), (org.admin, 403), (org.cadre, 403),
                        (org.other_supervisor, 403)):
        assert client.post("/api/v1/rectifications", json=body,
                           headers=token_for(client, who)).status_code == status, who.username
    assert client.post(f"{path}/notes", json={"note": "x"},
                       headers=token_for(client, org.admin)).status_code == 403
    assert client.post(f"{path}/review", json={"decision": "confirm"},
                       headers=token_for(client, org.secretary)).status_code == 403
    listed = client.get("/api/v1/rectifications?unit_code=341122100",
                        headers=token_for(client, org.other_supervisor))
    assert listed.status_code == 403
    assert [i["id"] for i in client.get("/api/v1/rectifications", headers=token_for(
        client, org.secretary)).get_json()] == [item["id"]]


def test_an_item_is_for_a_township(client, org):
    response = client.post("/api/v1/rectifications", headers=token_for(client, org.supervisor),
                           json={"unit_code": "341122", "year": LAST_YEAR, "title": "问题"})
    assert response.status_code == 422 and response.get_json()["code"] == "unit_not_township"


# --- the evaluation pack -------------------------------------------------------------------------

def pack(client, who, year=THIS_YEAR, unit="341122100", status=200, **query):
    params = "&".join(f"{k}={v}" for k, v in {"unit_code": unit, **query}.items())
    response = client.get(f"/api/v1/evaluations/{year}?{params}", headers=token_for(client, who))
    assert response.status_code == status, response.get_json()
    return response


def test_the_pack_lists_the_secretary_first_and_the_facts_of_each_person(client, org):
    cadre = token_for(client, org.cadre)
    visits = [stay(client, cadre, org.village, recent_weekday(d), 7, households=4)
              for d in (2, 3)]
    far = {"client_id": new_id(), "village_code": org.village.code,
           "check_in": {"at": recent_weekday(4).isoformat(), "location": {
               "lat": org.village.lat + 0.05, "lon": org.village.lon, "accuracy_m": 10}},
           "check_out": {"at": (recent_weekday(4) + timedelta(hours=7)).isoformat()}}
    assert client.post("/api/v1/visits", json=far, headers=cadre).get_json()["status"] == \
        "pending_review"
    secretary = token_for(client, org.secretary)
    client.post("/api/v1/reports", headers=secretary, json={
        "client_id": new_id(), "reported_on": recent_weekday(1).date().isoformat(),
        "title": "抓党建促乡村振兴情况汇报"})
    client.post("/api/v1/absences", headers=token_for(client, org.supervisor), json={
        "user_id": org.cadre.id, "start": recent_weekday(9).date().isoformat(),
        "end": recent_weekday(9).date().isoformat(), "kind": "training"})
    item = record_item(client, org)

    body = pack(client, org.supervisor).get_json()
    assert body["unit"]["code"] == "341122100" and body["year"] == THIS_YEAR
    names = [p["user"]["name"] for p in body["people"]]
    assert names[0] == "王书记" and set(names) == {"王书记", "张三", "李四"}
    assert names[1:] == ["李四", "张三"]  # pinyin: Li before Zhang
    zhang = next(p for p in body["people"] if p["user"]["name"] == "张三")
    assert sum(zhang["village_days_by_month"]) == 2 and len(zhang["village_days_by_month"]) == 12
    rules = {r["rule_id"]: r for r in zhang["rules"]}
    assert rules["village_time"]["actual"] == 2
    assert (zhang["visits"], zhang["households"]) == (len(visits), 8)
    assert zhang["flagged"] == {"approved": 0, "rejected": 0, "pending": 1}
    assert zhang["coverage"] == {"visited": 1, "linked": 2}
    training_day = recent_weekday(9).date()
    assert zhang["absences"] == {"leave": 0, "official_duty": 0,
                                 "training": working_calendar().count(training_day, training_day)}
    assert [p["unit_code"] for p in zhang["posts"]] == ["341122100"]
    wang = body["people"][0]
    assert [r["title"] for r in wang["reports"]] == ["抓党建促乡村振兴情况汇报"]
    assert [i["id"] for i in body["rectifications"]] == [item["id"]]
    assert "rank" not in str(body) and "score" not in str(body)


def test_the_pack_as_a_workbook(client, org):
    record_item(client, org)
    response = pack(client, org.supervisor, format="xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["人员", "上年度整改"]
    people = [row[0] for row in book["人员"].iter_rows(min_row=3, values_only=True)]
    assert people[0] == "王书记" and len(people) == 3
    items = list(book["上年度整改"].iter_rows(min_row=3, values_only=True))
    assert items[0][0] == "村级活动场所利用率不高" and items[0][3] == "未开始"


def test_who_may_read_a_pack(client, org):
    for who, status in ((org.secretary, 200), (org.supervisor, 200), (org.admin, 200),
                        (org.town_supervisor, 200), (org.cadre, 403),
                        (org.other_supervisor, 403)):
        pack(client, who, status=status)
    pack(client, org.supervisor, unit="999999", status=403)
    assert pack(client, org.supervisor, unit="341122", status=422).get_json()["code"] == \
        "unit_not_township"
    for year in (THIS_YEAR + 1, 1, 1999):
        assert pack(client, org.supervisor, year=year, status=422).get_json()["code"] == \
            "year_out_of_range"
    past = pack(client, org.supervisor, year=LAST_YEAR).get_json()
    assert past["as_of"] == date(LAST_YEAR, 12, 31).isoformat()
