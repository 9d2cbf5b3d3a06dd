"""Closing a year (封存, RULES.md §9) through the API: the snapshot and its hash, results of a
closed year served from it byte for byte, every write that would change the year refused and
taken again after reopening, pending reviews blocking, who may close and reopen, and a
check-out racing the closing."""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.closing import services as closing_services
from server.closing.services import canonical
from server.extensions import db
from server.progress.models import OpeningBalance
from tests.api.test_compliance import CST, stay
from tests.conftest import check_in_body, new_id, token_for

THIS_YEAR = datetime.now(CST).year
LAST_YEAR = THIS_YEAR - 1
IN_LAST_YEAR = datetime(LAST_YEAR, 6, 3, 8, tzinfo=CST)


def close(client, who, year=LAST_YEAR, code="341122", status=201, **extra):
    response = client.post("/api/v1/closings", headers=who,
                           json={"year": year, "unit_code": code, **extra})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def reopen(client, who, year=LAST_YEAR, code="341122", reason="补录漏报的到村记录", status=200):
    response = client.post(f"/api/v1/closings/{year}/{code}/reopen", headers=who,
                           json={"reason": reason})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def snapshot_of(client, who, closing) -> bytes:
    response = client.get(f"/api/v1/closings/{closing['id']}/snapshot", headers=who)
    assert response.status_code == 200
    return response.data


def refused_as_closed(response, year=LAST_YEAR):
    body = response.get_json()
    assert response.status_code == 409, body
    assert body["code"] == "period_closed" and body["year"] == year
    assert body["message"] == "该年度已封存，如需补录请联系组织部"


def late_stay(client, who, village, start, hours, reviewer, **extra):
    """A visit of last year entered now: flagged as late, so a supervisor approves it."""
    visit = stay(client, token_for(client, who), village, start, hours, **extra)
    if visit["status"] == "pending_review":
        response = client.post(f"/api/v1/visits/{visit['id']}/review",
                               headers=token_for(client, reviewer), json={"decision": "approve"})
        assert response.status_code == 200, response.get_json()
        visit = response.get_json()
    return visit


@pytest.fixture
def last_year(client, org):
    """Last year's visits for two people of 示范县 and one next door, approved."""
    sup = org.supervisor
    late_stay(client, org.cadre, org.village, IN_LAST_YEAR, 7, sup)
    late_stay(client, org.cadre, org.village_b, IN_LAST_YEAR + timedelta(days=1), 4, sup)
    late_stay(client, org.secretary, org.village, IN_LAST_YEAR, 6, sup)
    late_stay(client, org.other_cadre, org.other_village, IN_LAST_YEAR, 6, org.other_supervisor)
    return org


def test_closing_stores_the_years_results_with_their_hash_and_serves_them_byte_for_byte(
        client, last_year, runner):
    org = last_year
    sup = token_for(client, org.supervisor)
    before = client.get(f"/api/v1/compliance?unit_code=341122&year={LAST_YEAR}",
                        headers=sup).get_json()
    closing = close(client, sup, note="述职评议考核会后封存")
    assert (closing["year"], closing["unit_code"], closing["as_of"]) == (
        LAST_YEAR, "341122", f"{LAST_YEAR}-12-31")
    assert closing["closed_by"]["name"] == "孙部长" and closing["reopened_at"] is None
    stored = snapshot_of(client, sup, closing)
    assert hashlib.sha256(stored).hexdigest() == closing["snapshot_sha256"]
    document = json.loads(stored)
    assert canonical(document) == stored  # canonical: sorted keys, no whitespace
    assert closing["people"] == len(document["people"]) == len(before["rows"])
    rows = {row["user"]["id"]: row for row in document["people"]}
    assert set(rows) == {row["user"]["id"] for row in before["rows"]}  # the whole county

    after = client.get(f"/api/v1/compliance?unit_code=341122&year={LAST_YEAR}",
                       headers=sup).get_json()
    assert after["closed"] == {"closed_at": closing["closed_at"],
                               "snapshot_sha256": closing["snapshot_sha256"]}
    for row in after["rows"]:
        assert canonical(row["rules"]) == canonical(rows[row["user"]["id"]]["rules"])
    mine = client.get(f"/api/v1/compliance/me?year={LAST_YEAR}",
                      headers=token_for(client, org.cadre)).get_json()
    assert canonical(mine["rules"]) == canonical(rows[org.cadre.id]["rules"])
    assert mine["closed"]["snapshot_sha256"] == closing["snapshot_sha256"]
    village_time = next(r for r in mine["rules"] if r["rule_id"] == "village_time")
    assert village_time["actual"] == 1.5  # 7 h: a day; 4 h: half a day (RULES.md §2)
    # In English the rule titles are the rule book's; every number is still the snapshot's.
    english = client.get(f"/api/v1/compliance?unit_code=341122&year={LAST_YEAR}",
                         headers={**sup, "Accept-Language": "en"}).get_json()
    for row in english["rows"]:
        stored_rules = rows[row["user"]["id"]]["rules"]
        assert [{k: v for k, v in r.items() if k != "title"} for r in row["rules"]] == \
            [{k: v for k, v in r.items() if k != "title"} for r in stored_rules]
    assert any(r["title"] != s["title"] for r, s in zip(
        english["rows"][0]["rules"], rows[english["rows"][0]["user"]["id"]]["rules"]))
    # Next door has not closed: no mark, results as computed.
    other = client.get(f"/api/v1/compliance/me?year={LAST_YEAR}",
                       headers=token_for(client, org.other_cadre)).get_json()
    assert "closed" not in other
    # The county's export and a township's pack carry the hash.
    exported = client.get(f"/api/v1/compliance/export?unit_code=341122&year={LAST_YEAR}"
                          f"&format=csv", headers=sup)
    assert closing["snapshot_sha256"] in exported.data.decode("utf-8-sig").splitlines()[0]
    pack = client.get(f"/api/v1/evaluations/{LAST_YEAR}?unit_code=341122100",
                      headers=sup).get_json()
    assert pack["closed"]["snapshot_sha256"] == closing["snapshot_sha256"]
    for person in pack["people"]:
        assert canonical(person["rules"]) == canonical(rows[person["user"]["id"]]["rules"])

    verified = runner.invoke(args=["verify-closing", str(LAST_YEAR), "341122"])
    assert verified.exit_code == 0, verified.output
    assert "matches" in verified.output and closing["snapshot_sha256"] in verified.output


def test_verify_closing_says_when_the_database_was_changed_behind_the_app(
        client, last_year, runner):
    org = last_year
    close(client, token_for(client, org.supervisor))
    # Rows written straight into the database, as no request of the app could now.
    db.session.add(OpeningBalance(user_id=org.cadre.id, year=LAST_YEAR, village_days=5,
                                  reports=0))
    db.session.commit()
    verified = runner.invoke(args=["verify-closing", str(LAST_YEAR), "341122"])
    assert verified.exit_code == 1 and "DIFFERS" in verified.output
    # What the API serves is still the snapshot the meeting judged.
    mine = client.get(f"/api/v1/compliance/me?year={LAST_YEAR}",
                      headers=token_for(client, org.cadre)).get_json()
    assert next(r for r in mine["rules"] if r["rule_id"] == "village_time")["actual"] == 1.5


def _writes(client, org):
    """Every write of RULES.md §9 on last year in 示范县, as (name, callable → response)."""
    cadre, secretary = token_for(client, org.cadre), token_for(client, org.secretary)
    sup, admin = token_for(client, org.supervisor), token_for(client, org.admin)
    point = {"lat": org.village.lat, "lon": org.village.lon, "accuracy_m": 15}
    day = IN_LAST_YEAR + timedelta(days=20)
    return [
        ("a late whole visit", lambda: client.post("/api/v1/visits", headers=cadre, json={
            "client_id": new_id(), "village_code": org.village.code,
            "check_in": {"at": day.isoformat(), "location": point},
            "check_out": {"at": (day + timedelta(hours=7)).isoformat(), "location": point}})),
        ("a report given last year", lambda: client.post("/api/v1/reports", headers=secretary,
                                                         json={"client_id": new_id(),
                                                               "reported_on": f"{LAST_YEAR}-09-01",
                                                               "title": "基层党建专题汇报"})),
        ("an absence overlapping it", lambda: client.post("/api/v1/absences", headers=sup, json={
            "user_id": org.cadre.id, "start": f"{LAST_YEAR}-12-28", "end": f"{THIS_YEAR}-01-05",
            "kind": "training"})),
        ("its opening balance", lambda: client.put(
            f"/api/v1/users/{org.cadre.id}/opening-balance/{LAST_YEAR}", headers=admin,
            json={"village_days": 3, "reports": 0})),
        ("a transfer dated in it", lambda: client.post(
            f"/api/v1/users/{org.colleague.id}/posts", headers=admin,
            json={"unit_code": "341122101", "role": "cadre", "from": f"{LAST_YEAR}-10-01"})),
        ("links from a date in it", lambda: client.put(
            f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
            json={"village_codes": [org.village.code], "from": f"{LAST_YEAR}-11-01"})),
        ("its calendar", lambda: client.put(
            f"/api/v1/calendars/{LAST_YEAR}?unit_code=341122", headers={
                **admin, "Content-Type": "text/csv"},
            data=f"date,kind\n{LAST_YEAR}-03-02,holiday\n".encode())),
    ]


def test_every_write_to_a_closed_year_is_refused_and_taken_after_reopening(client, last_year):
    org = last_year
    cadre, sup = token_for(client, org.cadre), token_for(client, org.supervisor)
    # Visits of last year in each state a later write starts from, made before closing.
    opened = client.post("/api/v1/visits", headers=cadre, json=check_in_body(
        org.village, check_in={"at": (IN_LAST_YEAR + timedelta(days=40)).isoformat()}))
    assert opened.status_code == 201, opened.get_json()
    opened = opened.get_json()
    far = stay(client, token_for(client, org.colleague), org.village_b,
               IN_LAST_YEAR + timedelta(days=3), 7,
               check_in={"at": (IN_LAST_YEAR + timedelta(days=3)).isoformat(),
                         "location": {"lat": 32.5, "lon": 118.5, "accuracy_m": 15}})
    assert far["status"] == "pending_review"
    pending = close(client, sup, status=409)
    assert (pending["code"], pending["count"]) == ("pending_reviews", 1)
    assert "1 条" in pending["message"]
    approved = client.post(f"/api/v1/visits/{far['id']}/review", headers=sup,
                           json={"decision": "approve"})
    assert approved.status_code == 200
    closing = close(client, sup)

    visit_writes = [
        ("check-out", lambda: client.post(f"/api/v1/visits/{opened['id']}/check-out",
                                          headers=cadre, json={"at": (IN_LAST_YEAR + timedelta(
                                              days=40, hours=6)).isoformat()})),
        ("correction", lambda: client.post(f"/api/v1/visits/{opened['id']}/village",
                                           headers=cadre,
                                           json={"village_code": org.village_b.code})),
        ("withdrawal", lambda: client.post(f"/api/v1/visits/{opened['id']}/withdraw",
                                           headers=cadre)),
        ("review decision", lambda: client.post(f"/api/v1/visits/{far['id']}/review",
                                                headers=sup, json={"decision": "reopen",
                                                                   "comment": "再核实"})),
    ]
    writes = _writes(client, org)
    for name, write in visit_writes + writes:
        response = write()
        assert response.status_code == 409, (name, response.get_json())
        refused_as_closed(response)
    # Nothing of them landed: the results still are the snapshot, and it still verifies.
    assert closing_services.verify(LAST_YEAR, "341122")[1]
    # Next door and this year are open.
    assert client.post("/api/v1/visits", headers=token_for(client, org.other_cadre),
                       json=check_in_body(org.other_village, check_in={
                           "at": (IN_LAST_YEAR + timedelta(days=9)).isoformat()})
                       ).status_code == 201

    reopened = reopen(client, token_for(client, org.admin))
    assert reopened["reopen_reason"] == "补录漏报的到村记录"
    assert reopened["reopened_by"]["name"] == "管理员"
    for name, write in visit_writes[:1] + writes:
        response = write()
        assert response.status_code in (200, 201), (name, response.get_json())
    mine = client.get(f"/api/v1/compliance/me?year={LAST_YEAR}", headers=cadre).get_json()
    assert "closed" not in mine
    actions = db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "closing").order_by(AuditEvent.id)).all()
    assert actions == ["closed", "reopened"]
    # The late entries wait for review again; once decided, closing again makes a new
    # snapshot, and the first is kept.
    assert close(client, sup, status=409)["count"] == 2
    waiting = client.get("/api/v1/visits?status=pending_review", headers=sup).get_json()
    ids = [v["id"] for v in waiting]
    assert client.post("/api/v1/visits/review", headers=sup,
                       json={"ids": ids, "decision": "approve"}).status_code == 200
    again = close(client, sup)
    listed = client.get("/api/v1/closings?unit_code=341122", headers=sup).get_json()
    assert [c["id"] for c in listed] == [again["id"], closing["id"]]
    assert again["snapshot_sha256"] != closing["snapshot_sha256"]
    assert snapshot_of(client, sup, closing)  # still there


def test_who_may_close_and_reopen(client, last_year):
    org = last_year
    for who in (org.cadre, org.secretary, org.town_supervisor, org.other_supervisor):
        response = client.post("/api/v1/closings", headers=token_for(client, who),
                               json={"year": LAST_YEAR, "unit_code": "341122"})
        assert response.status_code == 403, who.username
    township = client.post("/api/v1/closings", headers=token_for(client, org.supervisor),
                           json={"year": LAST_YEAR, "unit_code": "341122100"})
    assert township.status_code == 422 and township.get_json()["code"] == "unit_not_county"
    future = client.post("/api/v1/closings", headers=token_for(client, org.supervisor),
                         json={"year": THIS_YEAR + 1, "unit_code": "341122"})
    assert future.status_code == 422
    close(client, token_for(client, org.admin))  # an admin in scope closes too
    twice = close(client, token_for(client, org.supervisor), status=409)
    assert twice["code"] == "year_closed"
    reopen(client, token_for(client, org.supervisor), status=403)
    reopen(client, token_for(client, org.admin), reason="  ", status=422)
    assert client.get("/api/v1/closings", headers=token_for(client, org.secretary)
                      ).status_code == 403
    assert client.get("/api/v1/closings", headers=token_for(client, org.other_supervisor)
                      ).get_json() == []
    reopen(client, token_for(client, org.root))
    reopen(client, token_for(client, org.root), status=404)


def test_a_new_person_in_a_closed_county_starts_after_the_closed_year(client, last_year):
    org = last_year
    close(client, token_for(client, org.supervisor))
    admin = token_for(client, org.admin)
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "newcomer", "name": "新来的", "role": "cadre", "unit_code": "341122100",
        "password": "correct-horse-2"})
    assert created.status_code == 201, created.get_json()
    posts = client.get(f"/api/v1/users/{created.get_json()['id']}/posts", headers=admin)
    assert posts.get_json()[0]["from"] == f"{THIS_YEAR}-01-01"
    dated = client.post("/api/v1/users", headers=admin, json={
        "username": "backdated", "name": "补录的", "role": "cadre", "unit_code": "341122100",
        "password": "correct-horse-2", "active_from": f"{LAST_YEAR}-05-01"})
    refused_as_closed(dated)
    assert closing_services.verify(LAST_YEAR, "341122")[1]


# --- a check-out racing the closing -------------------------------------------------------------

def _in_thread(app, work):
    """Run ``work`` (given a test client) in a thread with its own app context and session."""
    out = {}

    def run():
        with app.app_context():
            out["response"] = work(app.test_client())
            db.session.remove()
    thread = threading.Thread(target=run)
    thread.start()
    return thread, out


def _seven_hours() -> tuple[datetime, datetime]:
    """A seven-hour stay within one local day, so that it credits that day whole whatever the
    hour: ending now, or before 07:05 (a stay ending now would cross midnight) yesterday's
    08:00–15:00, its check-out synced late."""
    now = datetime.now(CST)
    if (now - timedelta(hours=7, minutes=5)).date() == now.date():
        return now - timedelta(hours=7), now
    yesterday = (now - timedelta(days=1)).replace(hour=8, minute=0, second=0, microsecond=0)
    return yesterday, yesterday + timedelta(hours=7)


def _open_visit_today(client, org):
    cadre = token_for(client, org.cadre)
    start, end = _seven_hours()
    body = check_in_body(org.village)
    body["check_in"]["at"] = start.isoformat()
    response = client.post("/api/v1/visits", headers=cadre, json=body)
    assert response.status_code == 201, response.get_json()
    return cadre, {**response.get_json(), "ends_at": end}


def _check_out(cadre, visit):
    def work(client):
        return client.post(f"/api/v1/visits/{visit['id']}/check-out", headers=cadre,
                           json={"at": visit["ends_at"].isoformat()})
    return work


def _close_this_year(sup):
    def work(client):
        return client.post("/api/v1/closings", headers=sup,
                           json={"year": THIS_YEAR, "unit_code": "341122"})
    return work


def test_a_check_out_that_comes_during_the_closing_waits_and_is_refused(
        app, client, org, monkeypatch):
    cadre, visit = _open_visit_today(client, org)
    sup = token_for(client, org.supervisor)
    computing, go_on = threading.Event(), threading.Event()
    document = closing_services.snapshot_document

    def slow_snapshot(*args):
        computing.set()
        assert go_on.wait(10)
        return document(*args)
    monkeypatch.setattr(closing_services, "snapshot_document", slow_snapshot)
    closer, closed = _in_thread(app, _close_this_year(sup))
    assert computing.wait(10)
    checker, checked = _in_thread(app, _check_out(cadre, visit))
    checker.join(0.5)
    assert checker.is_alive()  # it waits for the closing
    go_on.set()
    closer.join(10), checker.join(10)
    assert closed["response"].status_code == 201, closed["response"].get_json()
    refused_as_closed(checked["response"], THIS_YEAR)
    stored = client.get(f"/api/v1/visits/{visit['id']}", headers=cadre).get_json()
    assert stored["status"] == "open" and stored["check_out"] is None  # not half in
    assert closing_services.verify(THIS_YEAR, "341122")[1]


def test_a_check_out_under_way_when_the_closing_starts_lands_wholly_before_it(
        app, client, org, monkeypatch):
    cadre, visit = _open_visit_today(client, org)
    sup = token_for(client, org.supervisor)
    writing, go_on = threading.Event(), threading.Event()
    from server.visits import services as visits
    store = visits.writes.store_changes

    def slow_store(*args, **kwargs):
        writing.set()
        assert go_on.wait(10)
        return store(*args, **kwargs)
    monkeypatch.setattr(visits.writes, "store_changes", slow_store)
    checker, checked = _in_thread(app, _check_out(cadre, visit))
    assert writing.wait(10)
    closer, closed = _in_thread(app, _close_this_year(sup))
    closer.join(0.5)
    assert closer.is_alive()  # the closing waits for the check-out in flight
    go_on.set()
    checker.join(10), closer.join(10)
    assert checked["response"].status_code == 200, checked["response"].get_json()
    closing = closed["response"].get_json()
    assert closed["response"].status_code == 201, closing
    rows = {row["user"]["id"]: row for row in json.loads(snapshot_of(client, sup, closing))[
        "people"]}
    village_time = next(r for r in rows[org.cadre.id]["rules"] if r["rule_id"] == "village_time")
    assert village_time["actual"] == 1  # the 7-hour visit is in the snapshot
    assert closing_services.verify(THIS_YEAR, "341122")[1]
    assert date.fromisoformat(closing["as_of"]) == datetime.now(CST).date()


def test_a_visit_reaching_into_a_closed_year_is_refused(client, last_year):
    """A whole visit from the last evening of the year before into 1 January of the closed
    year credits the closed year: refused (its check-in year is still open)."""
    org = last_year
    close(client, token_for(client, org.supervisor))
    began = datetime(LAST_YEAR - 1, 12, 31, 18, tzinfo=CST)
    point = {"lat": org.village.lat, "lon": org.village.lon, "accuracy_m": 15}
    response = client.post("/api/v1/visits", headers=token_for(client, org.cadre), json={
        "client_id": new_id(), "village_code": org.village.code,
        "check_in": {"at": began.isoformat(), "location": point},
        "check_out": {"at": (began + timedelta(hours=14)).isoformat(), "location": point}})
    refused_as_closed(response)


def test_a_closed_year_is_said_before_what_else_is_wrong_and_a_visit_next_door_is_kept(
        client, last_year):
    """The closing check is finished after a visit's write (its count is read in the write's
    own statement), but a refusal of the input still comes after it; a visit of another
    county, of the same closed year, is written."""
    org = last_year
    close(client, token_for(client, org.supervisor))
    began = IN_LAST_YEAR + timedelta(days=10)
    point = {"lat": org.village.lat, "lon": org.village.lon, "accuracy_m": 15}
    backwards = {"client_id": new_id(), "village_code": org.village.code,
                 "check_in": {"at": began.isoformat(), "location": point},
                 "check_out": {"at": (began - timedelta(hours=1)).isoformat(),
                               "location": point}}
    refused_as_closed(client.post("/api/v1/visits", headers=token_for(client, org.cadre),
                                  json=backwards))
    wrong_only = client.post("/api/v1/visits", headers=token_for(client, org.cadre), json={
        **backwards, "client_id": new_id(), "check_in": {"at": datetime.now(CST).isoformat(),
                                                        "location": point},
        "check_out": {"at": (datetime.now(CST) - timedelta(hours=1)).isoformat(),
                      "location": point}})
    assert wrong_only.status_code == 422
    assert wrong_only.get_json()["code"] == "checkout_before_checkin"
    next_door = stay(client, token_for(client, org.other_cadre), org.other_village,
                     began, 7)
    assert next_door["check_in"]["at"].startswith(began.date().isoformat())


def test_someone_who_left_the_county_before_its_closed_year_is_not_held_by_it(client, org):
    admin = token_for(client, org.root)
    moved = client.post(f"/api/v1/users/{org.colleague.id}/posts", headers=admin, json={
        "unit_code": org.other_town.code, "role": "cadre", "from": f"{LAST_YEAR - 1}-03-01"})
    assert moved.status_code == 201, moved.get_json()
    close(client, token_for(client, org.supervisor))      # 示范县 closes last year
    response = client.post("/api/v1/absences", headers=token_for(client, org.other_supervisor),
                           json={"user_id": org.colleague.id, "start": f"{LAST_YEAR}-05-04",
                                 "end": f"{LAST_YEAR}-05-06", "kind": "leave"})
    assert response.status_code == 201, response.get_json()   # 邻县 has not


def test_closing_the_year_running_serves_it_as_of_the_closing_day(client, org):
    sup = token_for(client, org.supervisor)
    closing = close(client, sup, year=THIS_YEAR)
    assert closing["as_of"] == datetime.now(CST).date().isoformat()
    rollup = client.get(f"/api/v1/compliance?unit_code=341122&year={THIS_YEAR}",
                        headers=sup).get_json()
    assert rollup["as_of"] == closing["as_of"] and rollup["closed"]
    created = client.post("/api/v1/users", headers=token_for(client, org.admin), json={
        "username": "nextyear", "name": "明年来", "role": "cadre", "unit_code": "341122100",
        "password": "correct-horse-2"})
    assert created.status_code == 201, created.get_json()
    posts = client.get(f"/api/v1/users/{created.get_json()['id']}/posts",
                       headers=token_for(client, org.admin)).get_json()
    assert posts[0]["from"] == f"{THIS_YEAR + 1}-01-01"   # never inside the closed year
    after = client.get(f"/api/v1/compliance?unit_code=341122&year={THIS_YEAR}",
                       headers=sup).get_json()
    assert [r["user"]["id"] for r in after["rows"]] == [r["user"]["id"] for r in rollup["rows"]]


def test_a_roll_up_above_the_county_names_each_closed_countys_hash(client, last_year):
    org = last_year
    closing = close(client, token_for(client, org.supervisor))
    root = token_for(client, org.root)
    province = client.get(f"/api/v1/compliance?unit_code=34&year={LAST_YEAR}",
                          headers=root).get_json()
    assert "closed" not in province
    assert province["closings"] == [{"unit_code": "341122", "closed_at": closing["closed_at"],
                                     "snapshot_sha256": closing["snapshot_sha256"]}]
    exported = client.get(f"/api/v1/compliance/export?unit_code=34&year={LAST_YEAR}&format=csv",
                          headers=root)
    assert f"341122 {closing['snapshot_sha256']}" in exported.data.decode("utf-8-sig")
