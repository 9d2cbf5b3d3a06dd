"""People over time through the API (RULES.md §8; API.md "Posts, transfers and dated links"):
posts, transfers, changes of role, corrections, 换届 imports, dated links, and what results,
roll-ups and check-in make of them."""
from __future__ import annotations

import io
import math
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.audit.models import AuditEvent
from server.extensions import db
from server.progress.facts import working_calendar
from tests.api.test_compliance import CST, recent_weekday, stay
from tests.conftest import make_user, new_id, token_for

LAST_YEAR = datetime.now(CST).year - 1


def today() -> date:
    return datetime.now(CST).date()


def posts_of(client, auth, user):
    response = client.get(f"/api/v1/users/{user.id}/posts", headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def move(client, auth, user, unit_code, role, start, status=201):
    response = client.post(f"/api/v1/users/{user.id}/posts", headers=auth,
                           json={"unit_code": unit_code, "role": role,
                                 "from": start.isoformat()})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def results(client, auth, user, as_of: date) -> dict:
    response = client.get(f"/api/v1/compliance/users/{user.id}?as_of={as_of.isoformat()}",
                          headers=auth)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by_rule(body) -> dict:
    return {r["rule_id"]: r for r in body["rules"]}


def rollup_rows(client, auth, unit_code, as_of: date) -> dict:
    response = client.get(f"/api/v1/compliance?unit_code={unit_code}&as_of={as_of}",
                          headers=auth)
    assert response.status_code == 200, response.get_json()
    return {row["user"]["username"]: row for row in response.get_json()["rows"]}


# --- posts and transfers ----------------------------------------------------------------------

def test_a_person_starts_with_one_post_and_a_transfer_ends_it_the_day_before(client, org):
    admin = token_for(client, org.admin)
    assert posts_of(client, admin, org.cadre) == [{
        "id": posts_of(client, admin, org.cadre)[0]["id"], "unit_code": "341122100",
        "unit_name": "东镇", "role": "cadre", "from": None, "until": None}]
    start = today() - timedelta(days=10)
    new = move(client, admin, org.cadre, "341122101", "cadre", start)
    assert (new["unit_code"], new["role"], new["from"], new["until"]) == (
        "341122101", "cadre", start.isoformat(), None)
    old, current = posts_of(client, admin, org.cadre)
    assert old["until"] == (start - timedelta(days=1)).isoformat()
    assert current["id"] == new["id"]
    user = client.get(f"/api/v1/users/{org.cadre.id}", headers=admin).get_json()
    assert user["unit_code"] == "341122101"  # the post in effect today
    # The move is in the person's audit trail, by whom and what.
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.entity == "user", AuditEvent.entity_key == str(org.cadre.id),
        AuditEvent.action == "post_started")).all()
    assert [e.actor_id for e in events] == [org.admin.id]


def test_a_transfer_ends_the_links_to_the_old_townships_villages(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=10)
    move(client, admin, org.cadre, "341122101", "cadre", start)
    before = client.get(f"/api/v1/users/{org.cadre.id}/linked-villages?on="
                        f"{start - timedelta(days=1)}", headers=admin).get_json()
    after = client.get(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin).get_json()
    assert before["village_codes"] == ["341122100201", "341122100202"]
    assert after["village_codes"] == []
    assert {link["until"] for link in after["links"]} == {str(start - timedelta(days=1))}


def test_check_in_follows_the_post_held_on_the_check_ins_date(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=10)
    move(client, admin, org.cadre, "341122101", "cadre", start)
    cadre = token_for(client, org.cadre)
    stay(client, cadre, org.village2, recent_weekday(2), 7)          # new township, after
    stay(client, cadre, org.village, recent_weekday(15), 7)          # old township, before
    body = {"client_id": new_id(), "village_code": org.village.code,  # old township, after
            "check_in": {"at": recent_weekday(3).isoformat()}}
    refused = client.post("/api/v1/visits", json=body, headers=cadre)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "village_outside_township"
    villages = client.get("/api/v1/me/villages", headers=cadre).get_json()
    assert {v["township_code"] for v in villages} == {"341122101"}


def test_without_a_post_on_the_date_check_in_is_refused_with_no_post(client, org):
    admin = token_for(client, org.admin)
    post = posts_of(client, admin, org.colleague)[0]
    ended = today() - timedelta(days=5)
    response = client.patch(f"/api/v1/users/{org.colleague.id}/posts/{post['id']}",
                            headers=admin, json={"until": ended.isoformat()})
    assert response.status_code == 200, response.get_json()
    colleague = token_for(client, org.colleague)
    body = {"client_id": new_id(), "village_code": org.village.code,
            "check_in": {"at": recent_weekday(1).isoformat()}}
    refused = client.post("/api/v1/visits", json=body, headers=colleague)
    assert refused.status_code == 422
    assert refused.get_json()["code"] == "no_post"
    assert "任职" in refused.get_json()["message"]
    me = client.get("/api/v1/me", headers=colleague).get_json()
    assert me["post"] is None
    assert client.get("/api/v1/me/villages", headers=colleague).get_json() == []
    stay(client, colleague, org.village, recent_weekday(8), 7)  # while the post was held


# --- results over posts --------------------------------------------------------------------

def test_a_cadre_promoted_on_1_july_owes_a_third_of_the_year_and_reports_for_the_rest(client, org):
    admin = token_for(client, org.admin)
    move(client, admin, org.colleague, "341122100", "secretary", date(LAST_YEAR, 7, 1))
    calendar = working_calendar()
    year_days = calendar.count(date(LAST_YEAR, 1, 1), date(LAST_YEAR, 12, 31))
    second_half = calendar.count(date(LAST_YEAR, 7, 1), date(LAST_YEAR, 12, 31))
    rules = by_rule(results(client, admin, org.colleague, date(LAST_YEAR, 12, 31)))
    assert rules["village_time"]["target"] == round(year_days / 3, 2)
    assert rules["village_time"]["working_days"] == year_days
    assert rules["thematic_reports"]["target"] == math.ceil(6 * second_half / year_days)
    assert rules["thematic_reports"]["working_days"] == second_half
    assert rules["thematic_reports"]["active_start"] == f"{LAST_YEAR}-07-01"
    # As of 30 June the person was a cadre: reports were not theirs yet.
    assert set(by_rule(results(client, admin, org.colleague, date(LAST_YEAR, 6, 30)))) == {
        "village_time"}


def test_recording_a_move_after_a_date_never_changes_a_result_as_of_that_date(client, org):
    admin = token_for(client, org.admin)
    cadre = token_for(client, org.cadre)
    stay(client, cadre, org.village, recent_weekday(20), 7)
    as_of = today() - timedelta(days=15)
    before = results(client, admin, org.cadre, as_of)
    move(client, admin, org.cadre, "341122101", "cadre", today() - timedelta(days=10))
    move(client, admin, org.cadre, "341122101", "supervisor", today() - timedelta(days=5))
    assert results(client, admin, org.cadre, as_of) == before
    assert before["unit_code"] == "341122100" and before["post_ended"] is False


def test_roll_ups_show_a_person_under_the_post_held_on_as_of(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=10)
    move(client, admin, org.cadre, "341122101", "cadre", start)
    sup = token_for(client, org.supervisor)
    earlier = rollup_rows(client, sup, "341122", start - timedelta(days=1))
    now = rollup_rows(client, sup, "341122", today())
    assert earlier["cadre"]["unit_code"] == "341122100"
    assert now["cadre"]["unit_code"] == "341122101"
    assert now["cadre"]["user"]["unit_code"] == "341122101"
    assert "cadre" in rollup_rows(client, sup, "341122101", today())
    assert "cadre" not in rollup_rows(client, sup, "341122100", today())
    assert "cadre" in rollup_rows(client, sup, "341122100", start - timedelta(days=1))


def test_someone_whose_post_ended_is_shown_under_it_as_post_ended_with_a_final_status(
        client, org):
    admin = token_for(client, org.admin)
    move(client, admin, org.colleague, "341122", "supervisor", today() - timedelta(days=20))
    sup = token_for(client, org.supervisor)
    row = rollup_rows(client, sup, "341122", today())["colleague"]
    assert row["post_ended"] is True and row["unit_code"] == "341122100"
    assert {r["status"] for r in row["rules"]} <= {"met", "missed"}
    assert rollup_rows(client, sup, "341122", today() - timedelta(days=25))["colleague"][
        "post_ended"] is False


def test_the_export_says_whose_post_ended(client, org):
    admin = token_for(client, org.admin)
    move(client, admin, org.colleague, "341122", "supervisor", today() - timedelta(days=20))
    sup = token_for(client, org.supervisor)
    response = client.get("/api/v1/compliance/export?unit_code=341122&format=csv", headers=sup)
    assert response.status_code == 200
    lines = [line for line in response.data.decode("utf-8-sig").splitlines() if "李四" in line]
    assert lines and all("东镇（任职已结束）" in line for line in lines)


def test_a_new_person_starting_today_owes_only_the_rest_of_the_year(client, org):
    person = make_user(org.town, username="newcomer", name="新人", role="cadre",
                       active_from=today())
    auth = token_for(client, person)
    rule = by_rule(client.get("/api/v1/compliance/me", headers=auth).get_json())["village_time"]
    rest = working_calendar().count(today(), date(today().year, 12, 31))
    assert rule["target"] == round(rest / 3, 2)
    assert rule["active_start"] == str(today())
    if rule["pace_per_working_day"] is not None:  # a third of a working day, not 20 a week
        assert rule["pace_per_working_day"] * 5 <= 2


# --- corrections and bad input ------------------------------------------------------------------

def test_a_correction_that_would_overlap_another_post_is_refused_naming_it(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=10)
    new = move(client, admin, org.cadre, "341122101", "cadre", start)
    old = posts_of(client, admin, org.cadre)[0]
    response = client.patch(f"/api/v1/users/{org.cadre.id}/posts/{old['id']}", headers=admin,
                            json={"until": start.isoformat()})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "post_overlap"
    assert str(new["id"]) in body["message"]
    assert posts_of(client, admin, org.cadre)[0]["until"] == str(start - timedelta(days=1))


def test_bad_posts_are_refused_with_a_clear_422_and_nothing_written(client, org):
    admin = token_for(client, org.root)
    start = today() - timedelta(days=10)
    cases = [
        ({"unit_code": "999999", "role": "cadre", "from": str(start)}, "unknown_unit"),
        ({"unit_code": "341122", "role": "cadre", "from": str(start)}, "unit_not_township"),
        ({"unit_code": "341122101", "role": "secretary", "from": "1999-12-31"}, "invalid_input"),
        ({"unit_code": "341122101", "role": "chief", "from": str(start)}, "invalid_input"),
        ({"unit_code": "341122101", "role": "cadre"}, "invalid_input"),
    ]
    for body, code in cases:
        response = client.post(f"/api/v1/users/{org.cadre.id}/posts", headers=admin, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.get_json()["code"] == code, body
    move(client, admin, org.cadre, "341122101", "cadre", start)
    earlier = client.post(f"/api/v1/users/{org.cadre.id}/posts", headers=admin, json={
        "unit_code": "341122101", "role": "secretary", "from": str(start - timedelta(days=1))})
    assert earlier.status_code == 422
    assert earlier.get_json()["code"] == "before_current_post"
    assert len(posts_of(client, admin, org.cadre)) == 2


def test_posts_are_read_in_scope_and_written_by_admins_only(client, org):
    for who, status in ((org.supervisor, 200), (org.other_supervisor, 404),
                        (org.cadre, 403), (org.admin, 200)):
        response = client.get(f"/api/v1/users/{org.cadre.id}/posts",
                              headers=token_for(client, who))
        assert response.status_code == status, who.username
    body = {"unit_code": "341122101", "role": "cadre", "from": str(today())}
    assert client.post(f"/api/v1/users/{org.cadre.id}/posts", json=body,
                       headers=token_for(client, org.supervisor)).status_code == 403
    other_admin = make_user(org.other_county, username="otheradmin", role="admin")
    assert client.post(f"/api/v1/users/{org.cadre.id}/posts", json=body,
                       headers=token_for(client, other_admin)).status_code == 404
    outside = {"unit_code": "341123100", "role": "cadre", "from": str(today())}
    assert client.post(f"/api/v1/users/{org.cadre.id}/posts", json=outside,
                       headers=token_for(client, org.admin)).status_code == 403


# --- dated links ----------------------------------------------------------------------------

def test_changing_links_from_a_date_keeps_the_old_ones_for_earlier_dates(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=5)
    response = client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
                          json={"village_codes": ["341122100202"], "from": str(start)})
    assert response.status_code == 200, response.get_json()
    on = client.get(f"/api/v1/users/{org.cadre.id}/linked-villages?on="
                    f"{start - timedelta(days=1)}", headers=admin).get_json()
    assert on["village_codes"] == ["341122100201", "341122100202"]
    now = client.get(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin).get_json()
    assert now["village_codes"] == ["341122100202"]
    assert [(k["village_code"], k["until"]) for k in now["links"]] == [
        ("341122100201", str(start - timedelta(days=1))), ("341122100202", None)]


def test_coverage_as_of_a_date_uses_the_links_valid_then(client, org):
    cadre = token_for(client, org.cadre)
    stay(client, cadre, org.village, recent_weekday(5), 7)  # verified: synced within 7 days
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=3)
    client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
               json={"village_codes": ["341122100202"], "from": str(start)})
    sup = token_for(client, org.supervisor)

    def coverage(as_of):
        response = client.get(f"/api/v1/compliance?unit_code=341122100&include=coverage"
                              f"&as_of={as_of}", headers=sup)
        return {r["user"]["username"]: r["coverage"] for r in response.get_json()["rows"]}
    assert coverage(start - timedelta(days=1))["cadre"] == {"visited": 1, "linked": 2}
    assert coverage(today())["cadre"] == {"visited": 0, "linked": 1}


def test_links_outside_the_township_of_the_post_then_are_refused(client, org):
    admin = token_for(client, org.admin)
    response = client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
                          json={"village_codes": ["341122101201"]})
    assert response.status_code == 422
    assert response.get_json()["code"] == "linked_village_outside_township"


# --- 换届 in bulk -------------------------------------------------------------------------------

def upload(client, auth, text: str, query: str = ""):
    return client.post(f"/api/v1/imports/posts{query}", headers=auth, data={
        "file": (io.BytesIO(text.encode("utf-8")), "posts.csv")},
        content_type="multipart/form-data")


def test_a_huanjie_import_previews_then_moves_everyone_at_once(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=3)
    text = ("username,unit_code,role,from\n"
            f"cadre,341122101,cadre,{start}\n"
            f"colleague,341122100,secretary,{start}\n")
    preview = upload(client, admin, text, "?dry_run=true")
    assert preview.status_code == 200, preview.get_json()
    moves = preview.get_json()["moves"]
    assert [(m["username"], m["from_post"]["unit_code"], m["to_post"]["unit_code"],
             m["to_post"]["role"]) for m in moves] == [
        ("cadre", "341122100", "341122101", "cadre"),
        ("colleague", "341122100", "341122100", "secretary")]
    assert len(posts_of(client, admin, org.cadre)) == 1  # a preview writes nothing
    done = upload(client, admin, text)
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["imported"] == 2
    assert posts_of(client, admin, org.cadre)[-1]["unit_code"] == "341122101"
    assert posts_of(client, admin, org.colleague)[-1]["role"] == "secretary"


def test_a_huanjie_import_with_errors_names_each_row_and_writes_nothing(client, org):
    admin = token_for(client, org.admin)
    start = today() - timedelta(days=3)
    text = ("username,unit_code,role,from\n"
            f"cadre,341122101,cadre,{start}\n"
            f"nobody,341122101,cadre,{start}\n"
            f"cadre,341122100,secretary,{start}\n"
            f"colleague,341122,cadre,{start}\n"
            f"secretary,341122100,cadre,2101-01-01\n")
    response = upload(client, admin, text)
    assert response.status_code == 422
    rows = {(p["row"], p["column"]) for p in response.get_json()["errors"]["rows"]}
    assert rows == {(3, "username"), (4, "username"), (5, "unit_code"), (6, "from")}
    assert len(posts_of(client, admin, org.cadre)) == 1


def test_import_posts_on_the_command_line(runner, org, tmp_path):
    start = today() - timedelta(days=3)
    path = tmp_path / "posts.csv"
    path.write_text(f"username,unit_code,role,from\ncadre,341122101,cadre,{start}\n",
                    encoding="utf-8")
    result = runner.invoke(args=["import-posts", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 1 posts" in result.output
    db.session.expire_all()
    assert [p.unit.code for p in org.cadre.posts] == ["341122100", "341122101"]
    bad = tmp_path / "bad.csv"
    bad.write_text(f"username,unit_code,role,from\nnobody,341122101,cadre,{start}\n",
                   encoding="utf-8")
    failed = runner.invoke(args=["import-posts", str(bad)])
    assert failed.exit_code == 1
    assert "第 2 行" in failed.output


LINKED_ONLY_RULES = """
[[rules]]
id = "linked_days"
title_zh = "包联村在村天数"
title_en = "Village days in linked villages"
roles = ["cadre", "secretary"]
metric = "village_days"
period = "year"
target = { fraction = "1/3" }
linked_villages_only = true
"""


@pytest.fixture
def linked_only(tmp_path, app_config):
    path = tmp_path / "rules.toml"
    path.write_text(LINKED_ONLY_RULES, encoding="utf-8")
    app_config["RULES_FILE"] = str(path)


def test_visits_to_villages_linked_then_still_count_after_a_transfer(linked_only, client, org):
    """A rule of linked villages only counts a visit when its village was linked to the
    person on the visit's date: a transfer (which ends the old links) undoes none of them."""
    cadre = token_for(client, org.cadre)
    stay(client, cadre, org.village, recent_weekday(6), 7)        # linked then
    admin = token_for(client, org.admin)
    move(client, admin, org.cadre, "341122101", "cadre", today() - timedelta(days=4))
    client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
               json={"village_codes": ["341122101201"], "from": str(today() - timedelta(days=4))})
    stay(client, cadre, org.village2, recent_weekday(2), 7)       # linked now
    linked = by_rule(results(client, admin, org.cadre, today()))["linked_days"]
    assert linked["actual"] == 2


# --- what a moved person's records allow, and whom --------------------------------------------

def test_links_from_a_date_before_a_transfer_leave_the_new_townships_links_alone(client, org):
    admin = token_for(client, org.admin)
    moved_on = today() - timedelta(days=10)
    move(client, admin, org.cadre, "341122101", "cadre", moved_on)
    client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
               json={"village_codes": ["341122101201"], "from": str(moved_on)})
    earlier = today() - timedelta(days=20)
    response = client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
                          json={"village_codes": ["341122100202"], "from": str(earlier)})
    assert response.status_code == 200, response.get_json()

    def codes(on):
        return client.get(f"/api/v1/users/{org.cadre.id}/linked-villages?on={on}",
                          headers=admin).get_json()["village_codes"]
    assert codes(today()) == ["341122101201"]
    assert codes(earlier) == ["341122100202"]
    assert codes(moved_on - timedelta(days=1)) == ["341122100202"]
    assert codes(earlier - timedelta(days=1)) == ["341122100201", "341122100202"]


def test_ending_a_post_ends_its_links(client, org):
    admin = token_for(client, org.admin)
    post = posts_of(client, admin, org.cadre)[0]
    ended = today() - timedelta(days=3)
    client.patch(f"/api/v1/users/{org.cadre.id}/posts/{post['id']}", headers=admin,
                 json={"until": str(ended)})
    now = client.get(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin).get_json()
    assert now["village_codes"] == []
    assert {k["until"] for k in now["links"]} == {str(ended)}


def test_a_move_to_another_county_recorded_ahead_changes_who_may_do_what_on_its_date(
        client, org):
    """Recorded five days before it takes effect, a move to 邻县 leaves the person with 示范县
    until its date; from then the new county's admin administers them and the old one may
    touch neither the new post nor the person's current record."""
    from server import clock
    from server.org import services as org_services
    moved_on = today() - timedelta(days=2)
    with clock.frozen_at(datetime.combine(today() - timedelta(days=5), datetime.min.time(),
                                          CST)):
        org_services.change_post(None, org.cadre, {"unit_code": "341123100", "role": "cadre",
                                                   "starts_on": moved_on})
        db.session.commit()
    new_admin = make_user(org.other_county, username="neighbouradmin", role="admin")
    new = token_for(client, new_admin)
    assert client.get(f"/api/v1/users/{org.cadre.id}", headers=new).get_json()[
        "unit_code"] == "341123100"
    listed = client.get("/api/v1/users?unit_code=341123100", headers=new).get_json()
    assert org.cadre.id in [u["id"] for u in listed]
    old = token_for(client, org.admin)
    new_post = posts_of(client, new, org.cadre)[-1]
    assert client.patch(f"/api/v1/users/{org.cadre.id}/posts/{new_post['id']}", headers=old,
                        json={"from": str(moved_on + timedelta(days=1))}).status_code == 403
    assert client.post(f"/api/v1/users/{org.cadre.id}/posts", headers=old, json={
        "unit_code": "341122101", "role": "cadre",
        "from": str(today())}).status_code == 403
    # Results as of a date follow the unit shown then: the old supervisor reads the
    # person's results of their time in 示范县, and no longer those of today.
    sup = token_for(client, org.supervisor)
    before = client.get(f"/api/v1/compliance/users/{org.cadre.id}?as_of="
                        f"{moved_on - timedelta(days=1)}", headers=sup)
    assert before.status_code == 200
    assert client.get(f"/api/v1/compliance/users/{org.cadre.id}",
                      headers=sup).status_code == 404
    # Roll-ups place them where they are on the date asked about.
    assert "cadre" not in rollup_rows(client, sup, "341122", today())
    assert "cadre" in rollup_rows(client, sup, "341122", moved_on - timedelta(days=1))
    neighbour = token_for(client, org.other_supervisor)
    assert rollup_rows(client, neighbour, "341123", today())["cadre"]["unit_code"] == \
        "341123100"


def test_a_move_recorded_ahead_gives_the_new_unit_nothing_before_its_date(client, org):
    admin = token_for(client, org.root)
    move(client, admin, org.cadre, "341123100", "cadre", today() + timedelta(days=30))
    other = token_for(client, org.other_supervisor)
    assert client.get(f"/api/v1/compliance/users/{org.cadre.id}", headers=other).status_code \
        == 404
    assert client.get(f"/api/v1/users/{org.cadre.id}", headers=other).status_code == 404


def test_a_cadre_post_without_a_unit_is_bad_input_not_a_refusal(client, org):
    response = client.post(f"/api/v1/users/{org.cadre.id}/posts",
                           headers=token_for(client, org.admin),
                           json={"unit_code": None, "role": "cadre", "from": str(today())})
    assert response.status_code == 422 and response.get_json()["code"] == "unit_required"


def test_a_huanjie_import_does_not_tell_whether_someone_out_of_scope_exists(client, org):
    text = f"username,unit_code,role,from\nothercadre,341122100,cadre,{today()}\n"
    response = upload(client, token_for(client, org.admin), text)
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"] == [
        {"row": 2, "column": "username", "message": "未知用户：othercadre"}]
