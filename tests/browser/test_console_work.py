"""The console's work pages as a supervisor and an admin use them: 待审核 (approve, reject with a
comment, several at once, reopen, reject a verified visit), thematic reports, absences, and
the admin's users, villages, CSV imports, opening balances and calendars — each checked in what
the page shows and in what the API then answers."""
from __future__ import annotations

import itertools
import os
import uuid
from datetime import date, datetime, time, timedelta, timezone

import pytest
import requests
from playwright.sync_api import expect

from .conftest import (
    OTHER_VILLAGE,
    OUTSIDE,
    PASSWORD,
    SCREENSHOTS,
    TOWNSHIP,
    VILLAGE,
    record_visit,
)

pytestmark = pytest.mark.browser
CST = timezone(timedelta(hours=8))
COUNTY = "341122"
_staff = itertools.count(1)


# --- helpers -------------------------------------------------------------------------------------

def today() -> date:
    """Today in China (the deployment's zone, as the server and the pages count it), whatever
    the machine's zone; the dates of these tests are chosen from it."""
    return datetime.now(CST).date()


def staff(live, role: str, unit: str = COUNTY) -> dict:
    """A supervisor or admin of the county (or a township), made by the seeded admin."""
    username = f"{role}{next(_staff)}_{os.getpid()}"
    answer = live.api("POST", "/users", json={"username": username, "password": PASSWORD,
                                              "name": f"测试{role}", "role": role,
                                              "unit_code": unit})
    assert answer.status_code == 201, answer.text
    return {"id": answer.json()["id"], "username": username, "password": PASSWORD,
            "name": answer.json()["name"]}


def console_log_in(page, who) -> None:
    """Log in through the form as a supervisor, admin or secretary; waits for the tabs."""
    username = who["username"] if isinstance(who, dict) else who.username
    page.goto("/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("#tabs").get_by_role("link").first.wait_for()


def days_ago_at_nine(days: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days), time(9), tzinfo=CST)


def flagged_visit(live, person, days: int = 1, hours: float = 7) -> dict:
    visit, _ = record_visit(live, person, days_ago_at_nine(days), hours, OUTSIDE)
    assert visit["status"] == "pending_review" and "outside_geofence" in visit["flags"]
    return visit


def status_of(live, visit) -> str:
    return live.api("GET", f"/visits/{visit['id']}").json()["status"]


def village_time(live, person_id, year: int | None = None) -> dict:
    """The person's village_time result for `year` (by default the server's current year)."""
    query = f"?year={year}" if year else ""
    rules = live.api("GET", f"/compliance/users/{person_id}{query}").json()["rules"]
    return next(r for r in rules if r["rule_id"] == "village_time")


def village_days(live, person_id, *visits) -> float:
    """The person's village days in the years of `visits` (early in January, a visit of a few
    days ago may fall in last year)."""
    years = {visit["check_in"]["at"][:4] for visit in visits}
    return sum(village_time(live, person_id, int(year))["actual"] for year in years)


def review_item(page, visit):
    return page.locator(f".review-item[data-visit-id='{visit['id']}']")


# --- 待审核 -------------------------------------------------------------------------------------

def test_approving_a_flagged_visit_raises_the_persons_village_days(live, desk):
    person = live.person()
    visit = flagged_visit(live, person, days=1, hours=7)        # ≥ 6 h in the village: 1 day
    token = live.login(person.username, person.password)
    assert live.api("POST", f"/visits/{visit['id']}/explain", token=token,
                    json={"note": "村部信号差，定位漂到了镇上"}).status_code == 200
    assert village_days(live, person.id, visit) == 0
    supervisor = staff(live, "supervisor")
    start = days_ago_at_nine(1)

    console_log_in(desk, supervisor)
    expect(desk.locator("#tabs [aria-current='page']")).to_have_text("总览")   # lands there
    desk.goto(f"/#/console/person/{person.id}?year={start.year}")
    figure = desk.locator(".rule[data-rule='village_time'] .rule-figure strong")
    expect(figure).to_have_text("0")

    desk.locator("#tabs").get_by_role("link", name="待审核").click()
    expect(desk.get_by_role("heading", name="待审核", exact=True)).to_be_visible()
    item = review_item(desk, visit)
    expect(item).to_contain_text(person.name)
    expect(item).to_contain_text(VILLAGE["name"])
    expect(item.locator(".review-reasons")).to_contain_text("超出村范围（距村部")
    expect(item.locator(".review-explanation")).to_have_text("本人说明：村部信号差，定位漂到了镇上")
    expect(item.locator(".review-times")).to_contain_text(f"{start.month}月{start.day}日")
    expect(item.locator(".review-times")).to_contain_text("09:00")
    expect(item.locator(".review-times")).to_contain_text("16:00")
    expect(item.locator(".review-distance")).to_contain_text("公里")

    item.get_by_role("button", name="通过", exact=True).click()
    expect(desk.get_by_role("status").filter(has_text="已通过 1 条走访。")).to_be_visible()
    expect(item).to_have_count(0)
    assert status_of(live, visit) == "approved"
    assert village_days(live, person.id, visit) == 1
    days = live.api("GET", f"/compliance/users/{person.id}/days?year={start.year}").json()["days"]
    assert [(d["date"], d["credit"]) for d in days if d["credit"]] == [(start.date().isoformat(), 1)]

    desk.goto(f"/#/console/person/{person.id}?year={start.year}")
    expect(desk.locator(".rule[data-rule='village_time'] .rule-figure strong")).to_have_text("1")


def test_rejecting_needs_a_comment_and_keeps_the_visit_until_one_is_given(live, desk):
    person = live.person()
    visit = flagged_visit(live, person)
    console_log_in(desk, staff(live, "supervisor"))
    desk.goto(f"/#/console/review?user_id={person.id}")
    expect(desk.locator(".work-filter")).to_contain_text(f"只看：{person.name}")
    item = review_item(desk, visit)

    item.get_by_role("button", name="驳回", exact=True).click()
    expect(item.get_by_role("alert")).to_have_text("请填写意见：驳回或重新审核须说明理由。")
    assert status_of(live, visit) == "pending_review"

    item.get_by_label("审核意见").fill("当天在县里开会，不在村")
    item.get_by_role("button", name="驳回", exact=True).click()
    expect(desk.get_by_text("已驳回 1 条走访。")).to_be_visible()
    expect(desk.get_by_text("没有待审核的走访。")).to_be_visible()
    assert status_of(live, visit) == "rejected"
    events = live.api("GET", f"/visits/{visit['id']}/events").json()
    assert (events[-1]["action"], events[-1]["comment"]) == ("reject", "当天在县里开会，不在村")


def test_several_visits_are_approved_at_once(live, desk):
    person = live.person()
    visits = [flagged_visit(live, person, days=d, hours=4) for d in (2, 3, 4)]
    console_log_in(desk, staff(live, "supervisor"))
    desk.goto(f"/#/console/review?user_id={person.id}")
    expect(desk.locator(".review-item")).to_have_count(3)

    desk.get_by_role("button", name="驳回所选").click()
    expect(desk.get_by_role("alert").filter(has_text="请先勾选")).to_be_visible()
    for visit in visits[:2]:
        review_item(desk, visit).locator("input.review-pick").check()
    expect(desk.locator(".review-selected")).to_have_text("已选 2 条")
    desk.get_by_role("button", name="驳回所选").click()      # no comment: refused here
    expect(desk.get_by_role("alert").filter(has_text="请填写意见")).to_be_visible()
    assert {status_of(live, v) for v in visits} == {"pending_review"}

    desk.get_by_label("全选本页").check()
    expect(desk.locator(".review-selected")).to_have_text("已选 3 条")
    desk.get_by_role("button", name="通过所选").click()
    expect(desk.get_by_text("已通过 3 条走访。")).to_be_visible()
    expect(desk.get_by_text("没有待审核的走访。")).to_be_visible()
    assert {status_of(live, v) for v in visits} == {"approved"}
    assert village_days(live, person.id, *visits) == 1.5     # three days of 4 h: ½ day each


def test_a_past_decision_is_reopened_with_a_comment_and_shown_in_the_history(live, desk):
    person = live.person()
    visit = flagged_visit(live, person)
    supervisor = staff(live, "supervisor")
    token = live.login(supervisor["username"], PASSWORD)
    assert live.api("POST", f"/visits/{visit['id']}/review", token=token,
                    json={"decision": "approve"}).status_code == 200
    console_log_in(desk, supervisor)
    desk.goto(f"/#/console/review?user_id={person.id}")
    desk.locator(".work-subnav").get_by_role("link", name="审核通过").click()
    item = review_item(desk, visit)
    expect(item.get_by_role("button", name="通过", exact=True)).to_have_count(0)

    item.get_by_role("button", name="重新审核").click()
    expect(item.get_by_role("alert")).to_contain_text("请填写意见")
    item.get_by_label("审核意见").fill("本人补充了说明，重新核查")
    item.get_by_role("button", name="重新审核").click()
    expect(desk.get_by_text("已重新审核 1 条走访，回到待审核。")).to_be_visible()
    assert status_of(live, visit) == "pending_review"
    assert village_days(live, person.id, visit) == 0

    desk.locator(".work-subnav").get_by_role("link", name="待审核").click()
    item = review_item(desk, visit)
    item.locator("summary", has_text="审核记录").click()
    events = item.locator(".event")
    expect(events).to_have_count(3)
    expect(events.nth(1)).to_contain_text("通过")
    expect(events.nth(2)).to_contain_text("重新审核")
    expect(events.nth(2)).to_contain_text("本人补充了说明，重新核查")
    expect(events.nth(2)).to_contain_text(supervisor["name"])


def test_a_verified_visit_is_rejected_with_a_reason_and_stops_counting(live, desk):
    person = live.person()
    visit, _ = record_visit(live, person, days_ago_at_nine(1), 7)
    assert visit["status"] == "verified" and village_days(live, person.id, visit) == 1
    console_log_in(desk, staff(live, "supervisor"))
    desk.goto(f"/#/console/review?status=verified&user_id={person.id}")
    item = review_item(desk, visit)
    expect(item.get_by_role("button", name="通过", exact=True)).to_have_count(0)
    item.get_by_label("审核意见").fill("当天请假，不应计入")
    item.get_by_role("button", name="驳回", exact=True).click()
    expect(desk.get_by_text("已驳回 1 条走访。")).to_be_visible()
    assert status_of(live, visit) == "rejected"
    assert village_days(live, person.id, visit) == 0


@pytest.mark.parametrize("width, height", [(1280, 800), (360, 640)])
def test_the_review_queue_is_usable_on_a_desk_and_a_phone(live, browser, width, height):
    person = live.person()
    visit = flagged_visit(live, person, days=5)
    ctx = browser.new_context(base_url=live.url, viewport={"width": width, "height": height},
                              locale="zh-CN", timezone_id="Asia/Shanghai")
    page = ctx.new_page()
    try:
        console_log_in(page, staff(live, "supervisor"))
        page.locator("#tabs").get_by_role("link", name="待审核").click()
        item = review_item(page, visit)
        expect(item).to_be_visible()
        approve = item.get_by_role("button", name="通过", exact=True)
        box = approve.bounding_box()
        assert box["height"] >= 44 and box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        (SCREENSHOTS / "console").mkdir(parents=True, exist_ok=True)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOTS / "console" / f"review-{width}x{height}.png"))
    finally:
        ctx.close()


# --- reports -------------------------------------------------------------------------------------

def report_days() -> tuple[date, date, date]:
    """Three past days of one year for reports: 5 and 4 days ago and yesterday — or, until
    5 January, 27, 28 and 31 December of last year."""
    now = today()
    last = min(now - timedelta(days=1), date((now - timedelta(days=5)).year, 12, 31))
    return last - timedelta(days=4), last - timedelta(days=3), last


def file_report(live, secretary, title, on: date) -> dict:
    token = live.login(secretary.username, secretary.password)
    answer = live.api("POST", "/reports", token=token, json={
        "client_id": str(uuid.uuid4()), "title": title, "reported_on": on.isoformat()})
    assert answer.status_code == 201, answer.text
    return answer.json()


def reports_actual(live, person_id, year: int) -> float:
    rules = live.api("GET", f"/compliance/users/{person_id}?year={year}").json()["rules"]
    return next(r for r in rules if r["rule_id"] == "thematic_reports")["actual"]


def test_reports_are_acknowledged_rejected_with_a_reason_and_recorded_for_a_secretary(live, desk):
    secretary = live.person("secretary")
    first_day, second_day, last_day = report_days()
    year = last_day.year
    first = file_report(live, secretary, "乡村振兴专题汇报", first_day)
    second = file_report(live, secretary, "城市基层党建汇报", second_day)
    assert reports_actual(live, secretary.id, year) == 2
    console_log_in(desk, staff(live, "supervisor"))
    desk.goto(f"/#/console/reports?user_id={secretary.id}&year={year}")
    one = desk.locator(f".creports-item[data-report-id='{first['id']}']")
    two = desk.locator(f".creports-item[data-report-id='{second['id']}']")
    expect(one).to_contain_text(secretary.name)

    one.get_by_role("button", name="确认").click()
    expect(one).to_contain_text("已确认")
    expect(one.get_by_role("button", name="确认")).to_have_count(0)

    two.get_by_role("button", name="驳回").click()
    expect(two.get_by_role("alert")).to_have_text("请填写驳回理由。")
    two.get_by_label("意见（驳回须填写）").fill("内容与党建无关")
    two.get_by_role("button", name="驳回").click()
    expect(two).to_contain_text("未通过")
    expect(two).to_contain_text("审核意见：内容与党建无关")
    assert reports_actual(live, secretary.id, year) == 1        # rejected ones do not count

    form = desk.locator("form.creports-record")
    form.get_by_label("书记").select_option(str(secretary.id))
    form.get_by_label("汇报日期").fill((today() + timedelta(days=3)).isoformat())
    form.get_by_label("汇报题目").fill("当面汇报：党建引领基层治理")
    form.get_by_role("button", name="提交汇报").click()
    expect(form.get_by_role("alert")).to_be_visible()                # the server: not in the future
    expect(form.get_by_label("汇报题目")).to_have_value("当面汇报：党建引领基层治理")
    form.get_by_label("汇报日期").fill(last_day.isoformat())
    form.get_by_role("button", name="提交汇报").click()
    expect(desk.get_by_text("已登记：当面汇报：党建引领基层治理")).to_be_visible()
    recorded = desk.locator(".creports-item", has_text="当面汇报：党建引领基层治理")
    expect(recorded).to_contain_text("由组织部代为登记")
    expect(form.get_by_label("汇报题目")).to_have_value("")
    assert reports_actual(live, secretary.id, year) == 2


# --- absences ------------------------------------------------------------------------------------

def a_past_week() -> tuple[int, str, str]:
    """A year and, in it, Monday to Friday of an ordinary working week before today: the first
    full week from 2 March (after the Spring Festival, before Qingming) of this year, or — until
    that week is over (to about 7 March) — of last year."""
    now = today()
    for year in (now.year, now.year - 1):
        march = date(year, 3, 2)
        monday = march + timedelta(days=(7 - march.weekday()) % 7)
        if monday + timedelta(days=4) < now:
            return year, monday.isoformat(), (monday + timedelta(days=4)).isoformat()
    raise AssertionError("unreachable: last year's March is always past")


def test_absences_change_the_persons_numbers_and_can_be_withdrawn(live, desk):
    person = live.person()
    year, start, end = a_past_week()
    before = village_time(live, person.id, year)
    console_log_in(desk, staff(live, "supervisor"))
    desk.goto(f"/#/console/absences?user_id={person.id}&year={year}")
    results = desk.locator(".absences-results dd[data-rule='village_time']")
    expect(results).to_contain_text(f"0 天 / {shown(before['target'])} 天")

    form = desk.locator("form.absences-form")
    expect(form.get_by_label("人员")).to_have_value(str(person.id))
    form.get_by_label("类别").select_option("leave")
    form.get_by_label("开始日期").fill(end)
    form.get_by_label("结束日期").fill(start)
    form.get_by_label("备注（选填）").fill("年休假")
    form.get_by_role("button", name="登记").click()
    expect(form.get_by_role("alert")).to_contain_text("end")          # the server's field error
    expect(form.get_by_label("备注（选填）")).to_have_value("年休假")

    form.get_by_label("开始日期").fill(start)
    form.get_by_label("结束日期").fill(end)
    form.get_by_role("button", name="登记").click()
    expect(desk.get_by_text("已登记：")).to_be_visible()
    leave = village_time(live, person.id, year)
    assert before["target"] - leave["target"] == pytest.approx(5 / 3, abs=0.01)   # 5 working days
    expect(results).to_contain_text(f"0 天 / {shown(leave['target'])} 天")

    item = desk.locator(".absences-item", has_text="请假")
    item.get_by_role("button", name="撤回").click()
    desk.locator("#dialog").get_by_role("button", name="撤回").click()
    expect(item).to_contain_text("已撤回")
    assert village_time(live, person.id, year)["target"] == before["target"]

    form.get_by_label("类别").select_option("official_duty")
    form.get_by_label("开始日期").fill(start)
    form.get_by_label("结束日期").fill(end)
    form.get_by_label("公务视同在村（每个工作日计 1 个在村天）").check()
    form.get_by_role("button", name="登记").click()
    expect(desk.locator(".absences-item", has_text="公务外出")).to_contain_text("视同在村")
    duty = village_time(live, person.id, year)
    assert (duty["actual"], duty["target"]) == (5, before["target"])
    expect(results).to_contain_text(f"5 天 / {shown(before['target'])} 天")


def shown(value, digits=2) -> str:
    """A number as the app shows it: at most two decimals, no trailing zeros."""
    from decimal import ROUND_HALF_UP, Decimal
    rounded = Decimal(str(value)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{rounded.normalize():f}"


# --- admin ---------------------------------------------------------------------------------------

def test_an_admin_creates_a_user_sees_the_one_time_password_once_and_deactivates_them(live, desk):
    admin = staff(live, "admin")
    username = f"newcadre_{uuid.uuid4().hex[:6]}"
    console_log_in(desk, admin)
    desk.locator("#tabs").get_by_role("link", name="管理").click()
    form = desk.locator("form.admin-new-user")
    form.get_by_label("用户名").fill(username)
    form.get_by_label("姓名").fill("新来的干部")
    form.get_by_label("角色").select_option("cadre")
    form.get_by_label("单位").select_option(TOWNSHIP)
    today = datetime.now(timezone(timedelta(hours=8))).date().isoformat()
    assert form.get_by_label("起始日期").input_value() == today   # a target counted from today
    with desk.expect_request(lambda r: r.method == "POST" and r.url.endswith("/api/v1/users")) \
            as created:
        form.get_by_role("button", name="新建").click()
    assert created.value.post_data_json["active_from"] == today
    dialog = desk.locator("#dialog")
    expect(dialog).to_contain_text("只显示这一次")
    otp = dialog.locator("[data-otp] code").inner_text()
    assert len(otp) >= 8
    logged = requests.post(f"{live.url}/api/v1/auth/login", timeout=10,
                           json={"username": username, "password": otp})
    assert logged.status_code == 200 and logged.json()["user"]["must_change_password"]
    dialog.get_by_role("button", name="知道了").click()
    row = desk.locator(f".admin-user[data-username='{username}']")
    expect(row).to_contain_text("在用")
    expect(row).to_contain_text("待改密码")
    assert otp not in desk.content()                                   # shown once, kept nowhere

    row.get_by_role("button", name="停用").click()
    dialog.get_by_role("button", name="停用").click()
    expect(row).to_contain_text("已停用")
    refused = requests.post(f"{live.url}/api/v1/auth/login", timeout=10,
                            json={"username": username, "password": otp})
    assert refused.status_code in (401, 403)

    row.get_by_role("button", name="启用").click()
    expect(row).to_contain_text("在用")
    row.get_by_role("button", name="重置密码").click()
    dialog.get_by_role("button", name="重置密码").click()
    fresh = dialog.locator("[data-otp] code").inner_text()
    assert fresh != otp
    assert requests.post(f"{live.url}/api/v1/auth/login", timeout=10, json={
        "username": username, "password": fresh}).status_code == 200


def test_an_admin_links_villages_and_edits_a_radius(live, desk):
    person = live.person(villages=(VILLAGE,))
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/users")
    row = desk.locator(f".admin-user[data-user-id='{person.id}']")
    row.locator(".admin-links-editor summary").click()
    expect(row.get_by_label(VILLAGE["name"])).to_be_checked()
    row.get_by_label(OTHER_VILLAGE["name"]).check()
    row.get_by_role("button", name="保存包联村").click()
    expect(desk.get_by_text(f"已保存 {person.name} 的包联村（2 个）。")).to_be_visible()
    me = live.api("GET", "/me", token=live.login(person.username, person.password)).json()
    assert {v["code"] for v in me["linked_villages"]} == {VILLAGE["code"], OTHER_VILLAGE["code"]}

    desk.locator(".work-subnav").get_by_role("link", name="村").click()
    radius = desk.get_by_label(f"{OTHER_VILLAGE['name']} 范围（米）")
    radius.fill("0")
    desk.locator(f"tr[data-village='{OTHER_VILLAGE['code']}']").get_by_role("button", name="保存").click()
    expect(desk.get_by_role("alert")).to_contain_text("radius_m")
    expect(radius).to_have_value("0")
    radius.fill("1500")
    desk.locator(f"tr[data-village='{OTHER_VILLAGE['code']}']").get_by_role("button", name="保存").click()
    expect(desk.get_by_text(f"{OTHER_VILLAGE['name']} 的范围已改为 1500 米")).to_be_visible()
    village = live.api("GET", f"/villages/{OTHER_VILLAGE['code']}").json()
    assert village["radius_m"] == 1500


def test_a_csv_import_with_a_bad_row_shows_the_row_and_imports_nothing(live, desk):
    good, bad = f"imp_{uuid.uuid4().hex[:6]}", f"imp_{uuid.uuid4().hex[:6]}"
    text = (f"username,name,role,unit_code\n{good},导入甲,cadre,{TOWNSHIP}\n"
            f"{bad},导入乙,mayor,{TOWNSHIP}\n")
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/imports")
    desk.get_by_label("导入内容").select_option("users")
    desk.get_by_label("或粘贴 CSV 内容").fill(text)
    desk.get_by_role("button", name="导入").click()
    alert = desk.get_by_role("alert")
    expect(alert).to_contain_text("未导入任何行")
    expect(alert.locator(".row-errors li")).to_have_count(1)
    expect(alert.locator(".row-errors li")).to_contain_text("第 3 行 role")
    expect(desk.get_by_label("或粘贴 CSV 内容")).to_have_value(text)
    usernames = {u["username"] for u in live.api("GET", "/users").json()}
    assert good not in usernames and bad not in usernames

    desk.get_by_label("或粘贴 CSV 内容").fill(text.replace("mayor", "cadre"))
    desk.get_by_role("button", name="导入").click()
    expect(desk.get_by_text("已导入 2 行。")).to_be_visible()
    passwords = desk.get_by_role("dialog").locator(".admin-passwords tr")
    expect(passwords).to_have_count(2)
    desk.get_by_role("dialog").get_by_role("button", name="知道了").click()
    expect(desk.locator(".admin-passwords")).to_have_count(0)   # shown once, then gone
    desk.goto("/#/console/admin/users")
    desk.goto("/#/console/admin/imports")
    expect(desk.get_by_text("已导入 2 行。")).to_have_count(0)
    usernames = {u["username"] for u in live.api("GET", "/users").json()}
    assert {good, bad} <= usernames


def test_an_opening_balance_adds_to_the_years_village_days(live, desk):
    person = live.person()
    assert village_time(live, person.id)["actual"] == 0
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/balances")
    desk.get_by_label("人员").select_option(str(person.id))
    desk.get_by_label("在村天数（0.5 的倍数）").fill("10.25")
    desk.get_by_role("button", name="保存期初数").click()
    expect(desk.get_by_role("alert")).to_contain_text("village_days")
    desk.get_by_label("在村天数（0.5 的倍数）").fill("10.5")
    desk.get_by_label("专题汇报次数").fill("0")
    desk.get_by_role("button", name="保存期初数").click()
    expect(desk.get_by_text(f"已保存 {person.name} {today().year} 年期初数：在村 10.5 天")).to_be_visible()
    assert village_time(live, person.id)["actual"] == 10.5


def test_a_years_calendar_is_loaded_and_a_bad_line_is_named(live, desk):
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/calendar")
    desk.get_by_label("年份").fill("2035")
    desk.get_by_label("日历内容").fill("date,kind\n2035-01-01,holiday\n2035-02-30,workday\n")
    desk.get_by_role("button", name="载入日历").click()
    expect(desk.get_by_role("alert").locator(".row-errors")).to_contain_text("第 3 行 date")
    expect(desk.get_by_label("日历内容")).to_have_value("date,kind\n2035-01-01,holiday\n2035-02-30,workday\n")
    desk.get_by_label("日历内容").fill("date,kind\n2035-01-01,holiday\n2035-02-03,workday\n")
    desk.get_by_role("button", name="载入日历").click()
    expect(desk.get_by_text("已载入 2035 年日历：2 个日期，正式日历。")).to_be_visible()


# --- who may open what ---------------------------------------------------------------------------

def test_a_supervisor_cannot_open_admin_and_a_secretary_or_cadre_cannot_open_review(live, desk,
                                                                                    browser):
    console_log_in(desk, staff(live, "supervisor"))
    expect(desk.locator("#tabs").get_by_role("link", name="管理")).to_have_count(0)
    desk.goto("/#/console/admin/users")
    expect(desk.get_by_role("heading", name="没有这个页面")).to_be_visible()
    expect(desk.locator(".admin")).to_have_count(0)

    visit = flagged_visit(live, live.person())
    for role in ("secretary", "cadre"):
        person = live.person(role)
        ctx = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 800},
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
        page = ctx.new_page()
        try:
            console_log_in(page, person)
            expect(page.locator("#tabs").get_by_role("link", name="待审核")).to_have_count(0)
            page.goto("/#/console/review")
            if role == "secretary":
                expect(page.get_by_role("heading", name="没有这个页面")).to_be_visible()
            else:   # a cadre has no console at all: the phone's home
                expect(page.locator("#tabs [aria-current='page']")).to_have_text("进度")
            expect(page.locator(".review-item")).to_have_count(0)
            expect(page.get_by_role("button", name="通过", exact=True)).to_have_count(0)
        finally:
            ctx.close()
        token = live.login(person.username, person.password)
        refused = live.api("POST", f"/visits/{visit['id']}/review", token=token,
                           json={"decision": "approve"})
        # The secretary reads the visit (same township) but may not decide it; a cadre does not see it.
        assert refused.status_code == (403 if role == "secretary" else 404), refused.text
    assert status_of(live, visit) == "pending_review"


def test_what_one_supervisor_typed_is_gone_when_the_next_one_logs_in(live, desk):
    """Drafts live in the console's modules; logging out reloads the page, so the next user
    of the same browser sees none of them."""
    first, second = staff(live, "supervisor"), staff(live, "supervisor")
    flagged_visit(live, live.person(), days=1, hours=2)   # the queue shows its form
    console_log_in(desk, first)
    desk.goto("/#/console/review")
    desk.get_by_label("批量审核意见").fill("只给第一个人看的意见")
    desk.locator("#tabs").get_by_role("link", name="我的").click()
    desk.get_by_role("button", name="退出登录").click()
    expect(desk.get_by_role("button", name="登录", exact=True)).to_be_visible()
    desk.get_by_label("用户名").fill(second["username"])   # the same page: no navigation here
    desk.get_by_label("密码").fill(PASSWORD)
    desk.get_by_role("button", name="登录", exact=True).click()
    desk.locator("#tabs").get_by_role("link", name="待审核").click()
    expect(desk.get_by_label("批量审核意见")).to_have_value("")
