"""The demo county 示范县: what someone trying zaicun finds after ``zaicun seed-demo``.

The county is built once for this module (seeding takes several seconds) and only read.
"""
from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from server import TestConfig, create_app
from server.auth.models import User
from server.demo import DEMO_CADRE, DEMO_PASSWORD, print_logins, seed_demo
from server.extensions import db
from server.geo import distance_m
from server.org.models import Unit, Village
from server.policy import can_review
from server.progress.models import Absence, DayCredit, MonthCredit
from server.reports.models import ThematicReport
from server.rulebooks import rulebook_for
from server.visits import flags as F
from server.visits.models import Visit, VisitEvent
from tests.conftest import clear_tables, vars_of

ZONE = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def demo(db_url):
    """An app whose database holds the demo county (and nothing else)."""
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": db_url})
    with app.app_context():
        seed_demo()
        yield app
        db.session.remove()
        clear_tables()
        db.engine.dispose()


@pytest.fixture
def client(demo):
    return demo.test_client()


def users(role=None) -> list[User]:
    query = select(User).order_by(User.id)
    if role:
        query = query.where(User.role == role)
    return db.session.scalars(query).all()


def visits_of(user: User | None = None) -> list[Visit]:
    query = select(Visit).order_by(Visit.check_in_at)
    if user is not None:
        query = query.where(Visit.user_id == user.id)
    return db.session.scalars(query).all()


def demo_user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def login(client, username: str, password: str = DEMO_PASSWORD):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


def auth(client, username: str) -> dict:
    response = login(client, username)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def local_date(moment: datetime):
    return moment.astimezone(ZONE).date()


# --- the organisation ---------------------------------------------------------------------------

def test_the_county_has_three_townships_and_about_thirty_villages(demo):
    county = db.session.scalar(select(Unit).where(Unit.name == "示范县"))
    assert county.level == "county" and len(county.code) == 6
    assert county.parent.level == "city" and county.parent.parent.level == "province"
    townships = db.session.scalars(select(Unit).where(Unit.level == "township")).all()
    assert len(townships) == 3
    assert all(t.parent_id == county.id and len(t.code) == 9 for t in townships)
    villages = db.session.scalars(select(Village)).all()
    assert 25 <= len(villages) <= 35
    for village in villages:
        assert len(village.code) == 12 and village.code.startswith(village.township.code)
        assert village.name.endswith("村")
    assert len({v.radius_m for v in villages}) > 1


def test_villages_of_a_township_lie_a_few_kilometres_apart(demo):
    for township in db.session.scalars(select(Unit).where(Unit.level == "township")):
        villages = db.session.scalars(select(Village).where(Village.township == township)).all()
        gaps = [distance_m(a.lat, a.lon, b.lat, b.lon)
                for a in villages for b in villages if a.id < b.id]
        assert min(gaps) > 1500 and max(gaps) < 15_000


def test_there_are_at_least_25_people_in_all_four_roles_on_the_demo_password(demo):
    everyone = users()
    assert len(everyone) >= 25
    assert Counter(u.role for u in everyone).keys() == {"cadre", "secretary", "supervisor",
                                                        "admin"}
    assert len(users("secretary")) == 3
    assert not any(u.must_change_password for u in everyone)
    levels = {u.unit.level for u in users("supervisor")}
    assert levels == {"county", "township"}


def test_every_cadre_and_secretary_is_linked_to_two_to_four_villages_of_their_township(demo):
    for user in users("cadre") + users("secretary"):
        assert 2 <= len(user.linked_villages) <= 4, user.username
        assert all(v.township_id == user.unit_id for v in user.linked_villages)


# --- visits -------------------------------------------------------------------------------------

def test_visits_cover_about_a_year_ending_today_mostly_on_weekdays(demo):
    visits = visits_of()
    today = datetime.now(ZONE).date()
    days = [local_date(v.check_in_at) for v in visits]
    assert min(days) <= today - timedelta(days=350)
    assert max(days) >= local_date(datetime.now(UTC) - timedelta(hours=3))  # the open visit
    weekday_share = sum(d.weekday() < 5 for d in days) / len(days)
    assert weekday_share > 0.8
    closed = [v for v in visits if v.check_out_at]
    hours = sorted((v.check_out_at - v.check_in_at).total_seconds() / 3600 for v in closed)
    median = hours[len(hours) // 2]
    assert 2 <= median <= 8


def test_every_field_user_has_visits_at_different_paces(demo):
    counts = [len(visits_of(u)) for u in users("cadre") + users("secretary")]
    assert min(counts) > 20
    assert max(counts) > 1.5 * min(counts)


def test_most_visits_are_verified_and_flagged_ones_await_or_got_a_decision(demo):
    statuses = Counter(v.status for v in visits_of())
    assert statuses["verified"] > 0.8 * sum(statuses.values())
    assert statuses["pending_review"] > 0 and statuses["approved"] > 0
    assert statuses["rejected"] > 0 and 1 <= statuses["withdrawn"] <= 2
    pending = db.session.scalars(select(Visit).where(Visit.status == "pending_review")).all()
    assert all(v.flags for v in pending)
    flags = Counter(f for v in pending for f in v.flags) + Counter(
        f for v in visits_of() if v.status in ("approved", "rejected") for f in v.flags)
    for flag in ("outside_geofence", "low_accuracy", "manual_checkout", "too_long",
                 "impossible_travel"):
        assert flags[flag] > 0, flag


def test_flags_and_statuses_are_what_the_server_rules_give(demo):
    for person in users("cadre") + users("secretary"):
        book = rulebook_for(person)
        visits = visits_of(person)
        for visit in visits:
            assert visit.flags == F.active(expected_flags(visit, visits, book), book), visit.id
            offset = timedelta(seconds=visit.clock_offset_s or 0)
            assert visit.check_in_at == visit.check_in_at_original + offset
            if visit.status in ("verified", "pending_review") and visit.reviewed_at is None:
                assert visit.status == F.closed_status(visit.flags, book)


def expected_flags(visit: Visit, visits: list[Visit], book) -> set[str]:
    """Recompute a visit's flags from its stored data with the pure rules."""
    village = visit.village
    flags = location_flags(visit.check_in_lat, visit.check_in_lon, visit.check_in_accuracy_m,
                           visit.check_in_distance_m, village, book)
    if visit.clock_offset_s:
        flags.add("clock_skew")
    before = [v for v in visits if v is not visit and v.status != "withdrawn"
              and v.check_out_at is not None and v.check_out_at <= visit.check_in_at]
    if before:
        last = max(before, key=lambda v: (v.check_out_at, v.id))
        fix = F.Fix(last.check_out_at, point(last.check_out_lat, last.check_out_lon,
                                             last.check_out_accuracy_m))
        here = F.Fix(visit.check_in_at, point(visit.check_in_lat, visit.check_in_lon,
                                              visit.check_in_accuracy_m))
        if F.is_impossible_travel(fix, here, book):
            flags.add("impossible_travel")
    if visit.check_out_at is not None:
        flags |= location_flags(visit.check_out_lat, visit.check_out_lon,
                                visit.check_out_accuracy_m, visit.check_out_distance_m,
                                village, book)
        flags |= F.stay_flags(visit.check_in_at, visit.check_out_at, visit.check_out_manual,
                              visit.check_out_received_at, book)
    return flags


def point(lat, lon, accuracy):
    return None if lat is None else F.Point(lat, lon, accuracy)


def location_flags(lat, lon, accuracy, stored_distance, village, book) -> set[str]:
    here = point(lat, lon, accuracy)
    if here is not None:
        assert stored_distance == round(distance_m(lat, lon, village.lat, village.lon), 1)
    return F.location_flags(here, stored_distance, village.radius_m, book)


def test_a_visit_checked_in_far_from_its_village_has_the_flag_and_the_distance_measured(
        demo, client):
    far = [v for v in visits_of() if v.check_in_lat is not None
           and distance_m(v.check_in_lat, v.check_in_lon, v.village.lat, v.village.lon)
           > v.village.radius_m + 100]
    assert far
    headers = auth(client, "supervisor")
    for visit in far[:5]:
        shown = client.get(f"/api/v1/visits/{visit.id}", headers=headers).get_json()
        measured = round(distance_m(visit.check_in_lat, visit.check_in_lon,
                                    visit.village.lat, visit.village.lon), 1)
        assert shown["check_in"]["distance_m"] == measured
        assert "outside_geofence" in shown["flags"]
        assert shown["status"] in ("pending_review", "approved", "rejected")
        assert shown["counts"] == (shown["status"] == "approved")


def test_a_phone_with_a_wrong_clock_has_its_times_corrected_and_the_visit_still_counts(demo):
    skewed = [v for v in visits_of() if "clock_skew" in v.flags]
    assert skewed
    for visit in skewed:
        assert abs(visit.clock_offset_s) > 300
        assert visit.check_in_at_original != visit.check_in_at
    assert any(v.status == "verified" and v.flags == ["clock_skew"] for v in skewed)


def test_recomputing_every_credit_from_the_visits_changes_no_row(demo):
    before = credit_rows()
    assert len(before["day_credits"]) > 1000 and before["month_credits"]
    result = demo.test_cli_runner().invoke(args=["recompute-credits"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert credit_rows() == before


def credit_rows() -> dict[str, list[tuple]]:
    tables = {"day_credits": DayCredit, "month_credits": MonthCredit}
    return {name: [tuple(row) for row in db.session.execute(
        select(*model.__table__.columns).order_by(*model.__table__.primary_key.columns))]
        for name, model in tables.items()}


def test_the_county_has_people_on_track_at_risk_and_behind(demo, client):
    today = datetime.now(ZONE).date()
    # In the year's first months paces cannot tell people apart yet; the demo keeps a year of
    # history, so then the county is looked at as it stood last autumn.
    year, as_of = ((today.year, today) if today.month >= 4
                   else (today.year - 1, date(today.year - 1, 10, 1)))
    response = client.get(f"/api/v1/compliance?unit_code=341122&year={year}&as_of={as_of}",
                          headers=auth(client, "supervisor"))
    assert response.status_code == 200, response.get_json()
    statuses = Counter(rule["status"] for row in response.get_json()["rows"]
                       for rule in row["rules"] if rule["rule_id"] == "village_time")
    assert statuses["at_risk"] and statuses["behind"]
    assert statuses["on_track"] + statuses["met"] >= sum(statuses.values()) / 2


def test_old_visits_are_not_mislabelled_late_sync(demo):
    visits = visits_of()
    late = [v for v in visits if "late_sync" in v.flags]
    assert 0 < len(late) < 0.02 * len(visits)


def test_decisions_carry_a_supervisor_in_scope_a_comment_for_rejections_and_an_event(demo):
    decided = db.session.scalars(select(Visit).where(Visit.reviewed_at.is_not(None))).all()
    assert decided
    for visit in decided:
        reviewer = db.session.get(User, visit.reviewed_by_id)
        assert can_review(reviewer, visit.user)
        if visit.status == "rejected":
            assert visit.review_comment
        actions = [e.action for e in events_of(visit)]
        assert actions[-1] == ("reject" if visit.status == "rejected" else "approve")


def test_a_verified_visit_rejected_later_was_a_day_of_training_entered_as_an_absence(demo):
    absences = db.session.scalars(select(Absence)).all()
    assert [(a.kind, a.start_date == a.end_date) for a in absences] == [("training", True)]
    day, person = absences[0].start_date, absences[0].user
    rejected = [v for v in visits_of(person)
                if local_date(v.check_in_at) == day and v.status == "rejected"]
    assert len(rejected) == 1
    last = events_of(rejected[0])[-1]
    assert (last.action, last.from_status) == ("reject", "verified") and last.comment


def test_every_visit_has_a_created_event_and_withdrawals_are_recorded(demo):
    for visit in visits_of():
        events = events_of(visit)
        assert events[0].action == "created" and events[0].actor_id == visit.user_id
        assert events[-1].to_status == visit.status
        if visit.status == "withdrawn":
            assert events[-1].action == "withdrawn" and visit.check_out_at is None


def events_of(visit: Visit) -> list[VisitEvent]:
    return db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == visit.id)
                              .order_by(VisitEvent.at, VisitEvent.id)).all()


def test_the_demo_cadre_is_in_a_village_now_and_nobody_else_has_a_visit_open(demo):
    open_visits = db.session.scalars(select(Visit).where(Visit.status == "open")).all()
    assert [v.user.username for v in open_visits] == [DEMO_CADRE]
    ago = datetime.now(UTC) - open_visits[0].check_in_at
    assert timedelta(hours=1) < ago < timedelta(hours=3)
    assert open_visits[0].village in demo_user(DEMO_CADRE).linked_villages


# --- reports ------------------------------------------------------------------------------------

def test_each_secretary_has_reports_over_the_year_mostly_acknowledged(demo):
    today = datetime.now(ZONE).date()
    reports = db.session.scalars(select(ThematicReport)).all()
    for secretary in users("secretary"):
        own = [r for r in reports if r.user_id == secretary.id]
        assert 2 <= len(own) <= 8
        assert all(r.created_by_id == secretary.id and r.reported_on <= today for r in own)
    statuses = Counter(r.status for r in reports)
    assert statuses["acknowledged"] > len(reports) / 2
    assert statuses["submitted"] == 1 and statuses["rejected"] == 1
    assert all(r.review_comment for r in reports if r.status == "rejected")
    assert {r.category for r in reports} <= {"rural", "urban", "other"}


def test_the_year_has_one_transfer_and_one_promotion_that_every_screen_can_show(demo):
    """胡静 moves from 东山镇 to 青溪镇; 马俊 becomes 青溪镇's secretary when 李春梅 moves up to
    the county (RULES.md §8): their posts, links, visits and reports follow the dates."""
    from server.progress.services import results_for
    today = datetime.now(ZONE).date()
    moved, promoted, left = (db.session.scalar(select(User).where(User.username == name))
                             for name in ("cadre6", "cadre12", "secretary2"))
    transfer_day = today - timedelta(days=150)
    assert [(p.unit.code, p.role, p.starts_on, p.ends_on) for p in moved.posts] == [
        ("341122100", "cadre", None, transfer_day - timedelta(days=1)),
        ("341122101", "cadre", transfer_day, None)]
    assert {link.village.township.code for link in moved.links_on(today)} == {"341122101"}
    assert {link.village.township.code for link in moved.links_on(
        transfer_day - timedelta(days=1))} == {"341122100"}
    for visit in visits_of(moved):
        day = visit.check_in_at.astimezone(ZONE).date()
        assert visit.village.township.code == ("341122101" if day >= transfer_day
                                               else "341122100")
    promotion_day = today - timedelta(days=100)
    assert [(p.role, p.starts_on) for p in promoted.posts] == [
        ("cadre", None), ("secretary", promotion_day)]
    assert [(p.unit.code, p.role) for p in left.posts] == [
        ("341122101", "secretary"), ("341122", "supervisor")]
    assert left.role == "supervisor" and promoted.role == "secretary"
    reports = db.session.scalars(select(ThematicReport).where(
        ThematicReport.user_id == promoted.id)).all()
    assert reports and all(r.reported_on >= promotion_day for r in reports)
    assert not any(visit.check_in_at.astimezone(ZONE).date() >= promotion_day
                   for visit in visits_of(left))
    # The promoted secretary owes reports for the secretary part of the year only.
    rules = {r.rule.id: r for r in results_for(promoted, today)}
    if promotion_day.year == today.year:
        assert rules["thematic_reports"].active.start == promotion_day
        assert rules["thematic_reports"].target < 6


# --- through the API and the command line -----------------------------------------------------

def test_the_printed_password_logs_the_demo_cadre_in(demo, client):
    lines = []
    print_logins(lines.append)
    printed = "\n".join(lines)
    assert DEMO_PASSWORD in printed and DEMO_CADRE in printed and "admin" in printed
    response = login(client, DEMO_CADRE)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["role"] == "cadre"


def test_the_printed_logins_name_each_field_persons_linked_villages(demo):
    lines = []
    print_logins(lines.append)
    for user in users("cadre") + users("secretary"):
        line = next(line for line in lines if line.split()[0] == user.username)
        assert user.name in line and user.unit.name in line
        assert all(village.name in line for village in user.linked_villages), line


def test_the_demo_cadre_lists_their_visits_newest_first_with_the_open_one_on_top(demo, client):
    response = client.get("/api/v1/visits?page_size=10", headers=auth(client, DEMO_CADRE))
    assert response.status_code == 200, response.get_json()
    listed = response.get_json()
    assert len(listed) == 10
    assert listed[0]["status"] == "open" and listed[0]["check_out"] is None
    assert {v["user_id"] for v in listed} == {demo_user(DEMO_CADRE).id}
    total = json.loads(response.headers["X-Pagination"])["total"]
    assert total == len(visits_of(demo_user(DEMO_CADRE)))


def test_replaying_the_demo_cadres_check_in_is_recognised_as_the_same_request(demo, client):
    visit = db.session.scalar(select(Visit).where(Visit.status == "open"))
    body = {"client_id": visit.client_id, "village_code": visit.village.code,
            "activity": visit.activity,
            "check_in": {"at": visit.check_in_at.isoformat(),
                         "location": {"lat": visit.check_in_lat, "lon": visit.check_in_lon,
                                      "accuracy_m": visit.check_in_accuracy_m}}}
    response = client.post("/api/v1/visits", json=body, headers=auth(client, DEMO_CADRE))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == visit.id


def test_a_county_supervisor_finds_flagged_visits_waiting_for_review(demo, client):
    response = client.get("/api/v1/visits?status=pending_review",
                          headers=auth(client, "supervisor"))
    assert response.status_code == 200, response.get_json()
    waiting = response.get_json()
    assert waiting and all(v["flags"] and not v["counts"] for v in waiting)


def test_seed_demo_refuses_a_database_that_already_has_users(demo):
    result = demo.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "already has users" in result.output


def test_last_years_critique_points_are_in_every_state(demo):
    from server.evaluation.models import Rectification
    items = db.session.scalars(select(Rectification)).all()
    year = datetime.now(ZONE).year - 1
    assert {i.year for i in items} == {year}
    assert {i.status for i in items} == {"open", "in_progress", "done_claimed", "done"}
    assert {i.unit.code for i in items} == {"341122100", "341122101", "341122200"}
    sent_back = next(i for i in items if any(n.kind == "send_back" for n in i.notes))
    assert sent_back.status == "in_progress" and sent_back.notes[-1].kind == "note"


def test_last_year_is_closed_after_the_meeting_and_its_snapshot_still_holds(demo, client):
    from server.closing.models import Closing
    from server.closing.services import verify
    year = datetime.now(ZONE).year - 1
    closing = db.session.scalar(select(Closing))
    assert (closing.year, closing.unit.code, closing.as_of) == (year, "341122",
                                                               date(year, 12, 31))
    assert closing.reopened_at is None and closing.closed_by.username == "supervisor"
    assert closing.people > 0
    assert verify(year, "341122")[1]  # the demo's later writes left the closed year alone
    cadre = client.post("/api/v1/auth/login", json={"username": DEMO_CADRE,
                                                     "password": DEMO_PASSWORD}).get_json()
    mine = client.get(f"/api/v1/compliance/me?year={year}",
                      headers={"Authorization": f"Bearer {cadre['token']}"}).get_json()
    assert mine["closed"]["snapshot_sha256"] == closing.snapshot_sha256
