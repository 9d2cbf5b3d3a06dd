"""Offline first: the app opens without the server, keeps every write in its outbox, and gets
each one to the server exactly once — through a stopped server, a 500 and a final refusal; a
500 that keeps coming makes its item failed without holding back the items of other objects."""
import json
import re
import time

import pytest
from playwright.sync_api import expect

from .conftest import (
    PASSWORD,
    VILLAGE,
    log_in,
    stored,
    wait_for_script,
    wait_until,
    waiting_badge,
)

pytestmark = pytest.mark.browser


def wait_for_service_worker(page) -> None:
    """Until the service worker controls the page (its shell cache is complete by then)."""
    wait_for_script(page, "navigator.serviceWorker.controller !== null")


def events_of(live, visit_id) -> list[str]:
    answer = live.api("GET", f"/visits/{visit_id}/events")
    assert answer.status_code == 200, answer.text
    return [e["action"] for e in answer.json()]


def test_with_the_server_down_the_app_opens_and_both_writes_land_once_when_it_is_back(live, page):
    person = live.person()
    log_in(page, person)
    expect(page.locator(".rule").first).to_be_visible()
    wait_for_service_worker(page)

    live.stop()
    try:
        page.reload()
        expect(page.get_by_role("button", name="到村签到")).to_be_visible()
        expect(page.locator(".rule").first).to_be_visible()       # the cached progress
        page.get_by_role("button", name="到村签到").click()
        expect(page.locator(".open-visit")).to_contain_text(VILLAGE["name"])
        page.get_by_role("button", name="离村签退").click()
        expect(waiting_badge(page)).to_contain_text("2 条待同步")
        expect(page.locator("#net-banner")).to_contain_text("离线")
        page.reload()                                              # nothing is lost on reload
        expect(waiting_badge(page)).to_contain_text("2 条待同步")
        expect(page.locator(".last-visit")).to_contain_text(VILLAGE["name"])
        assert [i["kind"] for i in stored(page)["outbox"]] == ["check_in", "check_out"]
    finally:
        live.start()
    back = time.monotonic()

    visits = wait_until(page, lambda: [v for v in live.visits_of(person) if v["check_out"]],
                        timeout_s=10, message="the check-in and check-out did not arrive in 10 s")
    assert time.monotonic() - back <= 10
    assert len(live.visits_of(person)) == 1 and visits[0]["status"] == "verified"
    assert events_of(live, visits[0]["id"]).count("created") == 1
    assert events_of(live, visits[0]["id"]).count("checked_out") == 1
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    assert stored(page)["outbox"] == []


def test_a_server_error_mid_sync_keeps_the_item_and_it_lands_once(live, page):
    person = live.person()
    log_in(page, person)
    attempts, clock_headers = [], []

    def first_one_fails(route):
        attempts.append(route.request.post_data)
        clock_headers.append(route.request.headers.get("x-client-time", ""))
        if len(attempts) == 1:
            route.fulfill(status=500, content_type="application/json",
                          body=json.dumps({"code": "internal_error", "message": "服务器内部错误。"}))
        else:
            route.continue_()
    page.route("**/api/v1/visits", lambda route: first_one_fails(route)
               if route.request.method == "POST" else route.continue_())

    page.get_by_role("button", name="到村签到").click()
    expect(waiting_badge(page)).to_contain_text("1 条待同步")
    wait_until(page, lambda: len(live.visits_of(person)) == 1, message="the retry never landed")
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    assert len(attempts) == 2 and attempts[0] == attempts[1]     # the same body, sent again
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", h) for h in clock_headers)
    page.wait_for_timeout(1000)
    assert len(live.visits_of(person)) == 1 and len(attempts) == 2


@pytest.mark.no_service_worker  # every write must meet the routes below
def test_a_final_refusal_is_shown_as_failed_and_the_items_after_it_still_go(live, page):
    secretary = live.person(role="secretary")
    log_in(page, secretary)
    routes = page.context
    routes.route("**/api/v1/**", lambda route: route.abort()
                 if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="到村签到").click()
    # Taken before the tab changes. A secretary's first refresh after logging in can take
    # seconds on a busy machine, and the tap waits for it (for the villages to choose from).
    expect(waiting_badge(page)).to_contain_text("1 条待同步", timeout=20_000)
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    page.get_by_label("汇报题目").fill("抓党建促乡村振兴专题汇报")
    page.get_by_role("button", name="提交汇报").click()
    expect(waiting_badge(page)).to_contain_text("2 条待同步")

    routes.route("**/api/v1/visits", lambda route: route.fulfill(
        status=422, content_type="application/json",
        body=json.dumps({"code": "invalid_input", "message": "测试：服务器拒收了这次签到"}))
        if route.request.method == "POST" else route.continue_())
    routes.unroute("**/api/v1/**")     # only now: the check-in never reaches the server
    waiting_badge(page).click()
    page.get_by_role("button", name="立即同步").click()

    failed = page.locator(".queue-item.failed")
    expect(failed).to_contain_text("测试：服务器拒收了这次签到")
    expect(failed).to_contain_text("签到 · 桃园村")
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    expect(waiting_badge(page)).to_contain_text("1 条失败")
    reports = wait_until(page, lambda: live.api("GET", f"/reports?user_id={secretary.id}").json())
    assert [r["title"] for r in reports] == ["抓党建促乡村振兴专题汇报"]
    assert live.visits_of(secretary) == []

    failed.get_by_role("button", name="复制").click()
    copied = page.get_by_role("dialog").get_by_role("textbox")
    assert json.loads(copied.input_value())[0]["body"]["village_code"] == VILLAGE["code"]
    page.get_by_role("dialog").get_by_role("button", name="知道了").click()
    failed.get_by_role("button", name="丢弃").click()
    page.get_by_role("alertdialog").get_by_role("button", name="丢弃").click()
    expect(page.locator(".queue-item")).to_have_count(0)
    expect(waiting_badge(page)).not_to_contain_text("失败")
    assert stored(page)["outbox"] == []


def server_error(route) -> None:
    route.fulfill(status=500, content_type="application/json",
                  body=json.dumps({"code": "internal_error", "message": "服务器内部错误。"}))


def test_a_report_that_keeps_getting_500_does_not_hold_back_a_later_check_in(live, page, context):
    """A 5xx is retried with backoff, five times, then shown as failed (重试 / 复制 / 丢弃);
    meanwhile the check-in queued after it goes, as it belongs to another object."""
    secretary = live.person(role="secretary")
    log_in(page, secretary)
    expect(page.locator(".rule").first).to_be_visible()      # the villages are known
    context.set_offline(True)
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    page.get_by_label("汇报题目").fill("服务器收不下的汇报")
    page.get_by_role("button", name="提交汇报").click()
    expect(waiting_badge(page)).to_contain_text("1 条待同步")
    page.locator("#tabs").get_by_role("link", name="进度").click()
    page.get_by_role("button", name="到村签到").click()
    expect(waiting_badge(page)).to_contain_text("2 条待同步")
    assert [i["kind"] for i in stored(page)["outbox"]] == ["report", "check_in"]

    report_posts, mended = [], []

    def reports(route):
        if route.request.method != "POST":
            return route.continue_()
        report_posts.append(time.monotonic())
        return route.continue_() if mended else server_error(route)
    page.route("**/api/v1/reports", reports)
    context.set_offline(False)         # the signal is back: the report gets a 500 each time

    visits = wait_until(page, lambda: live.visits_of(secretary),
                        message="the check-in was held back behind the failing report")
    assert len(visits) == 1 and visits[0]["village_code"] == VILLAGE["code"]
    expect(waiting_badge(page)).to_contain_text("1 条待同步")
    assert [i["kind"] for i in stored(page)["outbox"]] == ["report"]
    waiting_badge(page).click()
    expect(page.locator(".queue-item")).to_contain_text("服务器出错（1/5）")

    # Tried again by itself after a backoff of about two seconds …
    wait_until(page, lambda: len(report_posts) >= 2, timeout_s=5,
               message="the report was not tried again after its backoff")
    assert report_posts[1] - report_posts[0] >= 1.2
    # … and sooner on request, until the fifth 500 makes it failed.
    while len(report_posts) < 5:
        tried = len(report_posts)
        page.get_by_role("button", name="立即同步").click()
        wait_until(page, lambda tried=tried: len(report_posts) > tried, timeout_s=5)
    failed = page.locator(".queue-item.failed")
    expect(failed).to_contain_text("专题汇报 · 服务器收不下的汇报")
    expect(failed).to_contain_text("服务器出错 5 次，已停止自动重试：服务器内部错误。")
    for word in ("重试", "复制", "丢弃"):
        expect(failed.get_by_role("button", name=word, exact=True)).to_be_visible()
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    expect(waiting_badge(page)).to_contain_text("1 条失败")
    assert live.api("GET", f"/reports?user_id={secretary.id}").json() == []

    failed.get_by_role("button", name="复制", exact=True).click()
    copied = json.loads(page.get_by_role("dialog").get_by_role("textbox").input_value())
    assert copied[0]["body"]["title"] == "服务器收不下的汇报" and copied[0]["state"] == "failed"
    page.get_by_role("dialog").get_by_role("button", name="知道了").click()
    assert len(report_posts) == 5      # a failed item is not tried again by itself

    mended.append(True)                # the server is mended: 重试 sends it again
    failed.get_by_role("button", name="重试", exact=True).click()
    reports_filed = wait_until(page, lambda: live.api(
        "GET", f"/reports?user_id={secretary.id}").json(), message="the retried report never landed")
    assert [r["title"] for r in reports_filed] == ["服务器收不下的汇报"] and len(report_posts) == 6
    expect(page.locator(".queue-item")).to_have_count(0)
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    expect(waiting_badge(page)).not_to_contain_text("失败")
    assert stored(page)["outbox"] == []


def test_while_a_check_in_gets_500_its_check_out_waits_behind_it(live, page, context):
    """The items of one visit keep their order: a check-out is never sent before its check-in."""
    person = live.person()
    log_in(page, person)
    expect(page.locator(".rule").first).to_be_visible()
    context.set_offline(True)
    page.get_by_role("button", name="到村签到").click()
    expect(page.locator(".open-visit")).to_contain_text(VILLAGE["name"])
    page.get_by_role("button", name="离村签退").click()
    expect(waiting_badge(page)).to_contain_text("2 条待同步")

    sent, mended = [], []

    def visits(route):
        if route.request.method != "POST":
            return route.continue_()
        sent.append(route.request.url.rsplit("/api/v1", 1)[1])
        return route.continue_() if mended else server_error(route)
    page.route("**/api/v1/visits**", visits)
    context.set_offline(False)
    waiting_badge(page).click()

    expect(page.locator(".queue-item").first).to_contain_text("服务器出错（1/5）")
    page.wait_for_timeout(500)                # within the check-in's backoff
    assert sent == ["/visits"]                # the check-out did not jump ahead
    mended.append(True)
    page.get_by_role("button", name="立即同步").click()
    done = wait_until(page, lambda: [v for v in live.visits_of(person) if v["check_out"]],
                      message="the check-in and check-out did not land after the 500")
    assert sent[:2] == ["/visits", "/visits"] and sent[2].endswith("/check-out") and len(sent) == 3
    assert len(done) == 1 and len(live.visits_of(person)) == 1
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    assert stored(page)["outbox"] == []


def test_a_report_filed_offline_says_it_waits_for_signal_and_then_that_it_was_submitted(live, page, context):
    secretary = live.person(role="secretary")
    log_in(page, secretary)
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    context.set_offline(True)
    page.get_by_label("汇报题目").fill("无信号时登记的汇报")
    page.get_by_role("button", name="提交汇报").click()
    note = page.locator(".report-form [role='status']")
    expect(note).to_have_text("已保存在手机上，联网后自动提交。")
    expect(page.locator(".report").filter(has_text="无信号时登记的汇报")).to_contain_text("待同步")

    context.set_offline(False)
    expect(note).to_have_text("已提交。", timeout=15_000)
    reports = wait_until(page, lambda: live.api("GET", f"/reports?user_id={secretary.id}").json())
    assert [r["title"] for r in reports] == ["无信号时登记的汇报"]


@pytest.mark.no_service_worker  # every write must meet the routes below
def test_a_check_out_synced_after_the_county_closed_the_year_fails_with_the_plain_message(
        live, page):
    """RULES.md §9: a write to a closed year is refused with 409 ``period_closed``, final for the
    phone, and the phone says what to do. The year is reopened at the end (other tests of the
    module check in this year)."""
    cadre = live.person(role="cadre")
    log_in(page, cadre)
    page.get_by_role("button", name="到村签到").click()
    visit = wait_until(page, lambda: live.visits_of(cadre))[0]
    routes = page.context
    routes.route("**/api/v1/**", lambda route: route.abort()
                 if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="离村签退").click()
    expect(waiting_badge(page)).to_contain_text("1 条待同步")

    # Meanwhile the county decides what waits for review and closes the year.
    made = live.api("POST", "/users", json={
        "username": f"closer_{visit['id']}", "password": PASSWORD, "name": "县委组织部",
        "role": "supervisor", "unit_code": "341122"})
    assert made.status_code == 201, made.text
    token = live.login(f"closer_{visit['id']}", PASSWORD)
    waiting = [v["id"] for v in live.api("GET", "/visits?status=pending_review&page_size=100",
                                         token).json()]
    if waiting:
        assert live.api("POST", "/visits/review", token, json={
            "ids": waiting, "decision": "approve"}).status_code == 200
    year = time.localtime().tm_year
    closed = live.api("POST", "/closings", token, json={"year": year, "unit_code": "341122"})
    assert closed.status_code == 201, closed.text
    try:
        routes.unroute("**/api/v1/**")
        waiting_badge(page).click()
        page.get_by_role("button", name="立即同步").click()
        failed = page.locator(".queue-item.failed")
        expect(failed).to_contain_text("该年度已封存，如需补录请联系组织部")
        expect(waiting_badge(page)).to_contain_text("1 条失败")
        stored_visit = live.api("GET", f"/visits/{visit['id']}").json()
        assert stored_visit["status"] == "open"  # nothing of the check-out landed
    finally:
        reopened = live.api("POST", f"/closings/{year}/341122/reopen",
                            json={"reason": "测试结束，重新开放"})
        assert reopened.status_code == 200, reopened.text
