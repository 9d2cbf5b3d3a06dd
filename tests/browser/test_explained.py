"""Honest, explained screens on the phone (issue 13): every number says how it is computed, a
target that can no longer be met says so and shows no pace, the colours follow the status, the
home card's last visit follows its review, what the cadre typed is shown back, and a report
filed online says it was submitted."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from .conftest import OUTSIDE, PASSWORD, Person, log_in, record_visit, screenshot, wait_until

pytestmark = pytest.mark.browser
CST = timezone(timedelta(hours=8))

# RULES.md §5's worked example (2026): 248 working days, 120 of them by 30 June.
WORKED = {"rule_id": "village_time", "title": "村里时间", "measure": "days",
          "period_start": "2026-01-01", "period_end": "2026-12-31",
          "active_start": "2026-01-01", "active_end": "2026-12-31",
          "actual": 35, "target": 82.67, "expected_to_date": 40, "status": "at_risk",
          "remaining": 47.67, "remaining_working_days": 128, "pace_per_working_day": 0.37,
          "calendar": "official", "reachable": True, "working_days": 248, "working_days_to_date": 120}


def explain(page, result, today, lang="zh-CN"):
    """explainResult of js/explain.js, run in the app's page with the app's own words."""
    return page.evaluate("""async ([result, today, lang]) => {
        const { explainResult } = await import('/js/explain.js');
        const { tables } = await import('/js/i18n.js');
        const t = (key, params = {}) => (tables[lang][key] ?? key)
            .replace(/\\{(\\w+)\\}/g, (_, name) => (params[name] ?? ''));
        return explainResult(result, t, today);
    }""", [result, today, lang])


def test_explain_result_spells_out_the_worked_example(live, page):
    page.goto("/")
    lines = explain(page, WORKED, "2026-06-30")
    assert "目标 = 全年工作日 248 天 × ⅓ = 82.67 天" in lines
    assert "按进度应达 = 目标 × 已过工作日 ÷ 全年工作日 = 82.67 × 120 ÷ 248 = 40 天" in lines
    assert any("满 6 小时算 1 天" in line and "满 3 小时算半天" in line for line in lines)
    assert "已完成少于按进度应达，但不少于它的八成（32 天）：稍有落后。" in lines
    assert "还需 47.67 天，剩余 128 个工作日：每个工作日 0.37 天，约每周 1.9 天。" in lines
    assert "每周超过 5 天，需要周末也在村。" not in lines

    # on 1 November 77.67 days cannot fit in the 60 days left: no pace, it says so
    late = {**WORKED, "actual": 5, "remaining": 77.67, "status": "behind", "reachable": False,
            "pace_per_working_day": None, "remaining_working_days": 42}
    lines = explain(page, late, "2026-11-01")
    assert "今年的目标已无法完成：还差 77.67 天，剩余 60 天。" in lines
    assert not any("每周" in line for line in lines)
    # the same without the server's `reachable` (an older server): worked out from the dates
    del late["reachable"]
    assert "今年的目标已无法完成：还差 77.67 天，剩余 60 天。" in explain(page, late, "2026-11-01")

    # above 5 a week it needs weekend days; an opening balance and absences are named
    steep = {**WORKED, "pace_per_working_day": 1.42, "opening_balance": {"village_days": 10},
             "absence_working_days": 5}
    lines = explain(page, steep, "2026-06-30")
    assert "每周超过 5 天，需要周末也在村。" in lines
    assert "其中含系统启用前补录的 10 天" in lines
    assert "请假、培训、外出公务的 5 个工作日已从工作日中扣除。" in lines
    english = explain(page, WORKED, "2026-06-30", "en")
    assert "Target = the year's working days 248 × ⅓ = 82.67 days" in english


def with_result(page, **changes):
    """Serve /compliance/me with the first rule result changed as given (None removes)."""
    def handle(route):
        answer = route.fetch()
        body = answer.json()
        rule = {**body["rules"][0], **changes}
        body["rules"][0] = {k: v for k, v in rule.items() if v is not None or k == "pace_per_working_day"}
        route.fulfill(response=answer, json=body)
    page.route("**/api/v1/compliance/me*", handle)


def days_left(as_of: str, end: str) -> int:
    return (date.fromisoformat(end) - date.fromisoformat(as_of)).days


def test_a_target_that_cannot_be_met_says_so_and_shows_no_pace(live, page):
    person = live.person()
    token = live.login(person.username, person.password)
    me = live.api("GET", "/compliance/me", token=token).json()
    end = me["rules"][0].get("active_end") or me["rules"][0]["period_end"]
    left = days_left(me["as_of"], end)
    with_result(page, remaining=left + 5.5, status="behind", reachable=False, pace_per_working_day=None)

    log_in(page, person)
    card = page.locator(".rule[data-rule='village_time']")
    pace = card.locator(".rule-pace")
    expect(pace).to_have_text(f"今年的目标已无法完成：还差 {left + 5.5:g} 天，剩余 {left} 天。")
    expect(pace).to_have_class("rule-pace unreachable")
    expect(card).not_to_contain_text("每周")
    expect(card.locator(".chip")).to_have_text("↓落后")
    expect(card.locator(".bar")).to_have_class("bar bar-bad")
    screenshot(page, "home-unreachable")

    card.get_by_text("怎么算的").click()
    expect(card.locator(".explain-lines")).to_contain_text("满 6 小时算 1 天，满 3 小时算半天")
    expect(card.locator(".explain-lines")).to_contain_text(
        f"今年的目标已无法完成：还差 {left + 5.5:g} 天，剩余 {left} 天。")


def test_a_steep_pace_says_it_needs_weekends_and_a_met_target_is_green(live, page):
    person = live.person()
    with_result(page, status="on_track", reachable=True, remaining=20, pace_per_working_day=1.42,
                remaining_working_days=14)
    log_in(page, person)
    card = page.locator(".rule[data-rule='village_time']")
    expect(card.locator(".rule-pace")).to_have_text("还需 20 天，约每周 7.1 天，需要周末也在村")

    page.unroute("**/api/v1/compliance/me*")
    with_result(page, status="met", actual=98, remaining=0, reachable=True, pace_per_working_day=None)
    page.reload()
    expect(card.locator(".chip")).to_have_text("✓已达标")
    expect(card.locator(".bar")).to_have_class("bar bar-good")
    fill = card.locator(".bar-fill").evaluate("e => getComputedStyle(e).backgroundColor")
    assert fill == "rgb(23, 104, 58)"          # --good, not the brand's dark red
    expect(card.locator(".rule-pace")).to_have_text("已达标，继续保持。")


def test_tapping_a_result_explains_it_from_the_servers_own_fields(live, page):
    person = live.person()
    _, token = record_visit(live, person, datetime.now(CST).replace(hour=8, minute=0, second=0,
                                                                      microsecond=0) - timedelta(days=1), 7)
    rule = next(r for r in live.api("GET", "/compliance/me", token=token).json()["rules"]
                if r["rule_id"] == "village_time")
    log_in(page, person)
    card = page.locator(".rule[data-rule='village_time']")
    lines = card.locator(".explain-lines")
    expect(lines).to_be_hidden()
    card.get_by_text("怎么算的").click()
    expect(lines).to_be_visible()
    expect(lines).to_contain_text("已完成 1 天")
    target = f"{rule['target']:g}"
    if "working_days" in rule:
        scope = "全年" if rule.get("active_start") == rule["period_start"] else "在岗期间"
        expect(lines).to_contain_text(f"目标 = {scope}工作日 {rule['working_days']} 天 × ⅓ = {target} 天")
        expect(lines).to_contain_text(f"÷ {rule['working_days']} = {rule['expected_to_date']:g} 天")
    else:
        expect(lines).to_contain_text(f"目标 {target} 天")
    screenshot(page, "home-explained")


def supervisor(live) -> tuple[Person, str]:
    username = f"supervisor_{uuid.uuid4().hex[:8]}"
    answer = live.api("POST", "/users", json={"username": username, "password": PASSWORD,
                                              "name": "孙部长", "role": "supervisor", "unit_code": "341122"})
    assert answer.status_code == 201, answer.text
    person = Person(answer.json()["id"], username, "孙部长", "supervisor")
    return person, live.login(username, PASSWORD)


def review(live, token, visit_id, decision, comment):
    answer = live.api("POST", f"/visits/{visit_id}/review", token=token,
                      json={"decision": decision, "comment": comment})
    assert answer.status_code == 200, answer.text


def test_what_the_cadre_typed_is_shown_back_and_a_short_visit_earns_no_day(live, page):
    person = live.person()
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()
    card = page.locator(".open-visit")
    expect(card.locator(".eyebrow")).to_have_text("●在村中")
    card.get_by_text("走访户数、备注（选填）").click()
    page.get_by_label("走访户数", exact=True).fill("12")
    page.get_by_label("备注", exact=True).fill("了解春耕用水")
    page.get_by_role("button", name="离村签退").click()

    last = page.locator(".last-visit")
    expect(last).to_contain_text("已核实")
    expect(last).to_contain_text("走访 12 户")
    expect(last).to_contain_text("备注：了解春耕用水")
    expect(last.locator(".visit-short")).to_contain_text("不足 3 小时：单独不计在村日")
    visit = wait_until(page, lambda: [v for v in live.visits_of(person) if v["status"] == "verified"])[0]
    assert (visit["households"], visit["note"]) == (12, "了解春耕用水")

    page.locator("#tabs").get_by_role("link", name="走访").click()
    item = page.locator(f".visit[data-visit='{visit['id']}']")
    expect(item).to_contain_text("走访 12 户 · 备注：了解春耕用水")
    expect(item).to_contain_text("不足 3 小时")
    screenshot(page, "visits-entered")


def test_the_last_visit_follows_its_review_and_an_approved_visit_takes_no_explanation(live, page, context):
    person = live.person()
    _, sup_token = supervisor(live)
    earlier, _ = record_visit(live, person, datetime.now(CST).replace(hour=8, minute=0, second=0,
                                                                        microsecond=0) - timedelta(days=1),
                              4, position=OUTSIDE)
    review(live, sup_token, earlier["id"], "approve", "核实属实")

    context.set_geolocation(OUTSIDE)
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()
    expect(page.locator(".open-visit .eyebrow")).to_have_text("!超出本村范围")
    expect(page.locator(".open-visit .eyebrow")).not_to_contain_text("在村中")
    page.get_by_role("button", name="离村签退").click()
    expect(page.locator(".last-visit")).to_contain_text("这次走访将由组织部审核")
    visit = wait_until(page, lambda: [v for v in live.visits_of(person)
                                      if v["status"] == "pending_review"])[0]

    review(live, sup_token, visit["id"], "reject", "定位不在村内")
    page.reload()
    last = page.locator(".last-visit")
    expect(last).to_contain_text("未通过")
    expect(last).to_contain_text("审核意见：定位不在村内")
    expect(last).not_to_contain_text("待审核")
    expect(last).not_to_contain_text("这次走访将由组织部审核")

    page.locator("#tabs").get_by_role("link", name="走访").click()
    if earlier["check_in"]["at"][:7] != datetime.now(CST).strftime("%Y-%m"):
        page.get_by_role("button", name="上个月").click()
    approved = page.locator(f".visit[data-visit='{earlier['id']}']")
    expect(approved).to_contain_text("审核通过")
    expect(approved.get_by_role("button", name="补充说明")).to_have_count(0)
    screenshot(page, "visits-reviewed")


def test_a_report_filed_online_says_it_was_submitted(live, page):
    secretary = live.person(role="secretary")
    log_in(page, secretary)
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    page.get_by_label("汇报题目").fill("村级集体经济发展情况")
    page.get_by_role("button", name="提交汇报").click()
    expect(page.locator(".report-form [role='status']")).to_have_text("已提交。")
    expect(page.locator(".report-form")).not_to_contain_text("联网后")
    assert wait_until(page, lambda: live.api("GET", f"/reports?user_id={secretary.id}").json())


def inside(page, child, wrap) -> bool:
    """Whether `child` lies within the visible part of the scrolling `wrap`, left to right."""
    c, w = page.locator(child).bounding_box(), page.locator(wrap).bounding_box()
    return c["x"] >= w["x"] - 1 and c["x"] + c["width"] <= w["x"] + w["width"] + 1


def test_the_person_page_on_a_phone_opens_on_the_current_month_and_says_its_date_once(live, page):
    secretary, colleague = live.person(role="secretary"), live.person()
    record_visit(live, colleague, datetime.now(CST).replace(hour=8, minute=0, second=0, microsecond=0)
                 - timedelta(days=1), 7)
    today = datetime.now(CST).date()
    answer = live.api("POST", "/absences", json={"user_id": colleague.id, "start": today.isoformat(),
                                                 "end": today.isoformat(), "kind": "leave"})
    assert answer.status_code == 201, answer.text
    as_of = live.api("GET", f"/compliance/users/{colleague.id}").json()["as_of"]

    log_in(page, secretary)
    page.goto(f"/#/console/person/{colleague.id}")
    expect(page.locator(".heat-map")).to_be_visible()
    heat_cell = f".heat .heat-cell[data-date='{as_of}']"
    bar = f".bars .month-bar[data-month='{int(as_of[5:7])}']"
    wait_until(page, lambda: inside(page, heat_cell, ".heat .chart-wrap"),
               message="the heat map does not show the as-of date")
    wait_until(page, lambda: inside(page, bar, ".bars .chart-wrap"),
               message="the monthly bars do not show the as-of month")
    assert page.locator(".heat .chart-wrap").evaluate("e => e.scrollWidth > e.clientWidth")
    expect(page.get_by_text("统计截至")).to_have_count(1)
    leave = page.locator(".person-absences .report")
    expect(leave).to_contain_text("已登记")
    expect(leave).not_to_contain_text("审核通过")
    screenshot(page, "person-phone")
