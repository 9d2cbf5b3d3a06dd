"""Checking in and out with one tap: the village picked by location, the distance shown, the
visit verified inside the village and sent to review outside it."""
import math
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from .conftest import OTHER_VILLAGE, OUTSIDE, VILLAGE, log_in, screenshot, wait_until, waiting_badge

pytestmark = pytest.mark.browser
CST = timezone(timedelta(hours=8))


def km(position, village) -> str:
    """The distance as the app words it: kilometres with at most one decimal."""
    lat1, lon1, lat2, lon2 = map(math.radians, (position["latitude"], position["longitude"],
                                                village["lat"], village["lon"]))
    s = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return f"{round(2 * 6371.0088 * math.asin(math.sqrt(s)), 1):g}"


def the_only_visit(page, live, person, **expected):
    """Wait until the person has exactly one visit matching ``expected``; return it."""
    def settled():
        visits = live.visits_of(person)
        if len(visits) == 1 and all(visits[0].get(k) == v for k, v in expected.items()):
            return visits[0]
        return None
    return wait_until(page, settled, message=f"no single visit with {expected}: {live.visits_of(person)}")


def test_checking_in_and_out_inside_the_village_gives_a_verified_visit(live, page):
    person = live.person()
    log_in(page, person)
    expect(page.locator(".rule").first).to_be_visible()
    screenshot(page, "home")
    page.get_by_role("button", name="到村签到").click()

    card = page.locator(".open-visit")
    expect(card.get_by_role("heading", name=VILLAGE["name"])).to_be_visible()
    expect(card).to_contain_text("在本村范围内")
    expect(card.locator(".eyebrow .chip")).to_have_text("●在村中")
    expect(card).to_contain_text("定位精度 ±12 米")
    expect(waiting_badge(page)).to_have_text("✓0 条待同步")
    screenshot(page, "check-in")
    visit = the_only_visit(page, live, person, status="open")
    assert visit["village_code"] == VILLAGE["code"]
    assert visit["check_in"]["location"]["accuracy_m"] == pytest.approx(12)

    page.get_by_role("button", name="离村签退").click()
    expect(page.locator(".last-visit")).to_contain_text("已核实")
    visit = the_only_visit(page, live, person, status="verified")
    assert visit["flags"] == [] and visit["check_out"]["location"] is not None


def test_checking_in_outside_the_village_warns_and_the_visit_goes_to_review(live, page, context):
    context.set_geolocation(OUTSIDE)
    person = live.person()
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()

    warning = page.locator(".open-visit").get_by_role("alert")
    expect(warning).to_contain_text("超出本村范围")
    # the chip above the village's name agrees with the warning: never 在村中 out there
    place = page.locator(".open-visit .eyebrow .chip")
    expect(place).to_have_text("!超出本村范围")
    expect(place).to_have_class("chip chip-warn")
    expect(warning).to_contain_text(f"您距村部 {km(OUTSIDE, VILLAGE)} 公里")
    screenshot(page, "check-in-outside")
    page.get_by_role("button", name="离村签退").click()

    expect(page.locator(".last-visit")).to_contain_text("待审核")
    visit = the_only_visit(page, live, person, status="pending_review")
    assert "outside_geofence" in visit["flags"]


def test_a_visit_left_open_for_14_hours_offers_a_typed_check_out(live, page):
    person = live.person()
    token = live.login(person.username, person.password)
    checked_in = datetime.now(CST).replace(second=0, microsecond=0) - timedelta(hours=15)
    created = live.api("POST", "/visits", token=token, json={
        "client_id": "6f1d6c2e-1111-4c1a-9d55-0c3a7e1f0001", "village_code": VILLAGE["code"],
        "check_in": {"at": checked_in.isoformat()}})
    assert created.status_code == 201, created.text
    log_in(page, person)

    card = page.locator(".open-visit")
    expect(card).to_contain_text("超过 14 小时")
    card.get_by_role("button", name="补签退").click()
    left = checked_in + timedelta(hours=8)
    page.get_by_label("离村时间").fill(left.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="提交补签退").click()

    visit = the_only_visit(page, live, person, status="pending_review")
    assert visit["check_out"]["manual"] is True and "manual_checkout" in visit["flags"]
    assert datetime.fromisoformat(visit["check_out"]["at"]) == left


def test_a_new_check_in_while_a_visit_is_open_first_closes_that_one(live, page, context):
    person = live.person(villages=(VILLAGE, OTHER_VILLAGE))
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()
    expect(page.locator(".open-visit")).to_contain_text(VILLAGE["name"])

    context.set_geolocation({"latitude": OTHER_VILLAGE["lat"], "longitude": OTHER_VILLAGE["lon"],
                             "accuracy": 20})
    page.get_by_role("button", name="到村签到").click()
    dialog = page.get_by_role("alertdialog")
    expect(dialog).to_contain_text("还没有签退")
    dialog.get_by_role("button", name="先签退，再签到").click()

    expect(page.locator(".open-visit h2")).to_have_text(OTHER_VILLAGE["name"])
    # the first one was closed here, 2.9 km away: honest, and so it goes to review
    wait_until(page, lambda: sorted((v["village_code"], v["status"]) for v in live.visits_of(person))
               == [(VILLAGE["code"], "pending_review"), (OTHER_VILLAGE["code"], "open")],
               message=f"visits: {live.visits_of(person)}")


def test_an_accidental_check_in_can_be_moved_to_another_village_or_withdrawn(live, page):
    person = live.person(villages=(VILLAGE, OTHER_VILLAGE))
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()
    page.get_by_role("button", name="更换村").click()
    page.get_by_role("dialog").get_by_text(OTHER_VILLAGE["name"]).click()
    page.get_by_role("button", name="确定").click()
    expect(page.locator(".open-visit h2")).to_have_text(OTHER_VILLAGE["name"])
    the_only_visit(page, live, person, village_code=OTHER_VILLAGE["code"], status="open")

    page.get_by_role("button", name="撤回签到").click()
    page.get_by_role("alertdialog").get_by_role("button", name="撤回签到").click()
    expect(page.get_by_role("button", name="到村签到")).to_be_visible()
    the_only_visit(page, live, person, status="withdrawn")
