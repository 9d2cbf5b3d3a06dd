"""What the cadre and the secretary see: progress numbers exactly as the API computes them,
the calendar of village days, visits in plain words, reports and the team; both languages;
large, labelled controls at 360 × 640 and on a desktop."""
import uuid
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from playwright.sync_api import expect

from .conftest import OUTSIDE, VILLAGE, log_in, record_visit, screenshot, wait_until, waiting_badge

pytestmark = pytest.mark.browser
CST = timezone(timedelta(hours=8))
WEEKDAYS = "一二三四五六日"


def shown(value, digits=2) -> str:
    """A number as the app shows it: at most ``digits`` decimals, half up, no trailing zeros."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{rounded.normalize():f}"


def day_label(day) -> str:
    return f"{day.month}月{day.day}日 周{WEEKDAYS[day.weekday()]}"


def yesterday_at_nine():
    return (datetime.now(CST) - timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)


def open_tab(page, name):
    page.locator("#tabs").get_by_role("link", name=name).click()


def test_progress_shows_the_apis_numbers_titles_and_weekly_pace(live, page):
    person = live.person()
    _, token = record_visit(live, person, yesterday_at_nine(), 7)
    rule = live.api("GET", "/compliance/me", token=token).json()["rules"][0]
    title = next(r["title_zh"] for r in live.api("GET", "/rules", token=token).json()["rules"]
                 if r["id"] == rule["rule_id"])
    assert rule["actual"] == 1

    log_in(page, person)
    card = page.locator(f".rule[data-rule='{rule['rule_id']}']")
    expect(card.get_by_role("heading")).to_have_text(title)
    expect(card.locator(".rule-figure")).to_have_text(f"1 / {shown(rule['target'])} 天")
    expect(card).to_contain_text(f"按进度今天应达 {shown(rule['expected_to_date'])} 天")
    words = {"on_track": "进度正常", "at_risk": "稍有落后", "behind": "落后", "met": "已达标"}
    expect(card.locator(".chip")).to_contain_text(words[rule["status"]])
    # the pace, unless the days left in the year are too few for what remains (RULES.md §5)
    as_of = live.api("GET", "/compliance/me", token=token).json()["as_of"]
    left = (date.fromisoformat(rule.get("active_end") or rule["period_end"]) - date.fromisoformat(as_of)).days
    if not rule.get("reachable", rule["remaining"] <= left):
        expect(card.locator(".rule-pace")).to_have_text(
            f"今年的目标已无法完成：还差 {shown(rule['remaining'])} 天，剩余 {left} 天。")
        expect(card).not_to_contain_text("每周")
    else:
        weekly = Decimal(rule["pace_per_working_day"]) * 5
        needs_weekends = "，需要周末也在村" if weekly > 5 else ""
        expect(card.locator(".rule-pace")).to_have_text(
            f"还需 {shown(rule['remaining'])} 天，约每周 {shown(weekly, 1)} 天{needs_weekends}")
    screenshot(page, "home-progress")


def test_my_visits_shows_the_calendar_of_village_days_and_flags_in_words(live, page):
    person = live.person()
    start = yesterday_at_nine()
    record_visit(live, person, start, 7)
    flagged, _ = record_visit(live, person, start + timedelta(hours=8), 1, position=OUTSIDE)
    assert flagged["status"] == "pending_review"

    log_in(page, person)
    open_tab(page, "走访")
    if start.month != datetime.now(CST).month:
        page.get_by_role("button", name="上个月").click()
    expect(page.locator(".cal-days")).to_contain_text(f"{day_label(start)}：在村 1 天")
    expect(page.locator(".cal-total")).to_contain_text("本月 1 天")
    verified = page.locator(".visit").filter(has_text="09:00–16:00")
    expect(verified).to_contain_text("已核实")
    expect(verified).to_contain_text("7 小时 00 分")
    pending = page.locator(f".visit[data-visit='{flagged['id']}']")
    expect(pending).to_contain_text("待审核")
    expect(pending).to_contain_text("超出村范围（距村部")
    screenshot(page, "visits")

    pending.get_by_role("button", name="补充说明").click()
    pending.get_by_label("向组织部说明情况").fill("在离村部较远的自然组入户走访")
    pending.get_by_role("button", name="提交说明").click()
    wait_until(page, lambda: live.api("GET", f"/visits/{flagged['id']}").json()["explanation"]
               == "在离村部较远的自然组入户走访")
    expect(page.locator(f".visit[data-visit='{flagged['id']}']")).to_contain_text(
        "我的说明：在离村部较远的自然组入户走访")


def test_a_secretary_files_a_thematic_report_and_sees_the_team(live, page):
    secretary = live.person(role="secretary")
    colleague = live.person()
    log_in(page, secretary)
    token = live.login(secretary.username, secretary.password)
    reports_rule = next(r for r in live.api("GET", "/compliance/me", token=token).json()["rules"]
                        if r["measure"] == "reports")
    expect(page.locator(f".rule[data-rule='{reports_rule['rule_id']}']")).to_contain_text(
        f"0 / {shown(reports_rule['target'])} 次")

    open_tab(page, "汇报")
    page.get_by_label("汇报题目").fill("以党建引领基层治理")
    page.get_by_label("类别（选填）").select_option(label="农村基层党建")
    page.get_by_label("内容摘要（选填）").fill("汇报了村级组织建设和集体经济发展情况。")
    page.get_by_role("button", name="提交汇报").click()
    reports = wait_until(page, lambda: live.api("GET", f"/reports?user_id={secretary.id}").json())
    assert [(r["title"], r["category"]) for r in reports] == [("以党建引领基层治理", "rural")]
    expect(page.locator(".report").filter(has_text="以党建引领基层治理")).to_contain_text("已提交")
    expect(page.locator(f".rule[data-rule='{reports_rule['rule_id']}']")).to_contain_text("1 / ")
    screenshot(page, "reports")

    open_tab(page, "班子")
    member = page.locator(".member").filter(has_text=colleague.name)
    expect(member).to_contain_text("班子成员")
    expect(member.locator(".chip").first).to_be_visible()
    screenshot(page, "team")


def test_a_secretary_sees_only_her_own_visits_though_she_may_read_the_townships(live, page):
    secretary, colleague = live.person(role="secretary"), live.person()
    token = live.login(colleague.username, colleague.password)
    opened = live.api("POST", "/visits", token=token, json={
        "client_id": str(uuid.uuid4()), "village_code": VILLAGE["code"],
        "check_in": {"at": datetime.now(CST).replace(microsecond=0).isoformat()}})
    assert opened.status_code == 201, opened.text
    record_visit(live, colleague, yesterday_at_nine(), 7)

    log_in(page, secretary)
    expect(page.locator(".rule").first).to_be_visible()
    expect(page.locator(".open-visit")).to_have_count(0)
    open_tab(page, "走访")
    expect(page.get_by_text("这个月还没有走访记录。")).to_be_visible()
    expect(page.locator(".visit")).to_have_count(0)


def test_english_is_one_tap_away_and_is_remembered(live, page):
    log_in(page, live.person())
    page.get_by_role("button", name="Switch to English").click()
    expect(page.get_by_role("button", name="Check in")).to_be_visible()
    expect(page.locator("#tabs")).to_contain_text("Progress")
    expect(waiting_badge(page)).to_contain_text("0 to sync")
    assert page.evaluate("document.documentElement.lang") == "en"
    page.reload()
    expect(page.get_by_role("button", name="Check in")).to_be_visible()
    page.get_by_role("button", name="切换到中文").click()
    expect(page.get_by_role("button", name="到村签到")).to_be_visible()


CONTROLS_TOO_SMALL_OR_UNLABELLED = """() => {
    const problems = [];
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const targets = 'button, a[href], select, textarea, summary, input:not([type=radio]), label:has(input[type=radio])';
    for (const el of document.querySelectorAll(targets)) {
        if (!visible(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.height < 44 || r.width < 44) problems.push(`${el.outerHTML.slice(0, 80)} is ${r.width}×${r.height}`);
    }
    for (const el of document.querySelectorAll('input, select, textarea')) {
        if (!visible(el)) continue;
        if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
            problems.push(`unlabelled ${el.outerHTML.slice(0, 80)}`);
    }
    for (const el of document.querySelectorAll('button, a[href]')) {
        if (visible(el) && !(el.textContent.trim() || el.getAttribute('aria-label')))
            problems.push(`nameless ${el.outerHTML.slice(0, 80)}`);
    }
    if (document.documentElement.scrollWidth > window.innerWidth) problems.push('wider than the screen');
    return problems;
}"""


@pytest.mark.parametrize("viewport", [{"width": 360, "height": 640}, {"width": 1280, "height": 800}],
                         ids=["phone", "desktop"])
def test_every_control_is_large_enough_and_labelled(live, page, viewport):
    page.set_viewport_size(viewport)
    secretary = live.person(role="secretary")
    record_visit(live, secretary, yesterday_at_nine(), 1, position=OUTSIDE)
    page.goto("/")
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    log_in(page, secretary)
    expect(page.locator(".rule").first).to_be_visible()
    for details in page.locator("details").all():
        details.locator("summary").click()
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    page.get_by_role("button", name="到村签到").click()
    expect(page.locator(".open-visit")).to_be_visible()
    page.locator(".open-visit summary").click()
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    if viewport["width"] > 400:
        screenshot(page, "desktop-check-in")
    page.get_by_role("button", name="更换村").click()
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    page.get_by_role("dialog").get_by_role("button", name="取消").click()
    for tab in ("走访", "汇报", "班子", "我的"):
        open_tab(page, tab)
        page.wait_for_load_state()
        expect(page.locator(".screen-title")).to_be_visible()
        assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == [], tab
