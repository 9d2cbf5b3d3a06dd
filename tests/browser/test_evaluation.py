"""述职评议 in the console: a township's evaluation pack on screen — the secretary first, a
critique point recorded and a claimed one confirmed — and printed to PDF by Chromium: A4, a
header on every page, page numbers, every person's name (pdftotext reads it back)."""
from __future__ import annotations

import re
import subprocess
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from .conftest import (
    SCREENSHOTS,
    TOWNSHIP,
    log_in,
    record_visit,
    stored,
    wait_for_script,
    wait_until,
    waiting_badge,
)
from .test_console_work import CST, console_log_in, staff, today

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def township(live):
    """A secretary and eleven cadres of 东山镇, each with a visit or two, and last year's
    critique point, claimed done by the secretary."""
    secretary = live.person(role="secretary")
    cadres = [live.person() for _ in range(11)]
    for n, person in enumerate(cadres):
        for days in range(1, 2 + n % 2):
            start = datetime.combine(today() - timedelta(days=days), datetime.min.time(),
                                     CST) + timedelta(hours=8)
            record_visit(live, person, start, 7)
    supervisor = staff(live, "supervisor")
    token = live.login(supervisor["username"], supervisor["password"])
    item = live.api("POST", "/rectifications", token=token, json={
        "unit_code": TOWNSHIP, "year": today().year - 1, "title": "村级活动场所利用率不高"})
    assert item.status_code == 201, item.text
    claimed = live.api("POST", f"/rectifications/{item.json()['id']}/notes",
                       token=live.login(secretary.username, secretary.password),
                       json={"note": "各村已按周开放", "claim_done": True})
    assert claimed.status_code == 201, claimed.text
    return secretary, cadres, supervisor, item.json()


def test_the_pack_shows_the_secretary_first_and_a_claimed_item_is_confirmed(live, desk, township):
    secretary, cadres, supervisor, item = township
    console_log_in(desk, supervisor)
    desk.locator("#tabs").get_by_role("link", name="述职评议").click()
    expect(desk.locator(".eval-person").first).to_contain_text(secretary.name)
    expect(desk.locator(".eval-person")).to_have_count(12)
    expect(desk.locator(".eval-person").nth(1).locator(".eval-bars g")).to_have_count(12)
    entry = desk.locator(f".eval-item[data-item='{item['id']}']")
    expect(entry).to_contain_text("已报完成")
    entry.get_by_role("button", name="确认完成").click()
    expect(desk.locator(f".eval-item[data-item='{item['id']}']")).to_have_attribute(
        "data-status", "done")

    desk.get_by_label("问题").fill("党员发展计划执行不到位")
    desk.get_by_role("button", name="登记").click()
    expect(desk.get_by_role("status")).to_contain_text("已登记：党员发展计划执行不到位")
    listed = live.api("GET", f"/rectifications?unit_code={TOWNSHIP}&year={today().year}")
    assert [i["title"] for i in listed.json()] == ["党员发展计划执行不到位"]


def test_the_pack_prints_on_a4_with_a_header_on_every_page(live, desk, township, tmp_path):
    secretary, cadres, supervisor, _ = township
    console_log_in(desk, supervisor)
    desk.goto(f"/#/console/evaluation?unit={TOWNSHIP}")
    expect(desk.locator(".eval-person")).to_have_count(12)
    pdf = tmp_path / "pack.pdf"
    desk.pdf(path=str(pdf), prefer_css_page_size=True, print_background=False)
    SCREENSHOTS.mkdir(exist_ok=True)
    (SCREENSHOTS / "evaluation-print.pdf").write_bytes(pdf.read_bytes())
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout
    pages = [page for page in text.split("\f") if page.strip()]
    assert 2 <= len(pages) <= 8, len(pages)
    for number, page in enumerate(pages, start=1):
        assert "东山镇" in page and f"{today().year}" in page and "统计截至" in page, number
        assert re.search(rf"\b{number}\s*/\s*{len(pages)}\b", page), number
    assert text.index(secretary.name) < min(text.index(c.name) for c in cadres)
    for person in [secretary, *cadres]:
        assert person.name in text
    assert "总览" not in text and "进度" not in text and "打印" not in text   # no navigation
    size = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True,
                          check=True).stdout
    assert "(A4)" in size   # A4 (portrait: the cards are laid out one under the other)


def test_the_secretary_notes_progress_offline_and_claims_an_item_done(live, page, context):
    secretary = live.person(role="secretary")
    supervisor = staff(live, "supervisor")
    token = live.login(supervisor["username"], supervisor["password"])
    item = live.api("POST", "/rectifications", token=token, json={
        "unit_code": TOWNSHIP, "year": today().year - 1, "title": "软弱涣散村党组织整顿不彻底"})
    assert item.status_code == 201, item.text
    log_in(page, secretary)
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    entry = page.locator(f".rect-item[data-item='{item.json()['id']}']")
    expect(entry).to_contain_text("软弱涣散村党组织整顿不彻底")
    expect(entry).to_contain_text("未开始")
    context.set_offline(True)
    entry.get_by_label("整改进展").fill("已调整村党支部书记，建立周例会制度")
    entry.get_by_label("已完成整改（报组织部确认）").check()
    entry.get_by_role("button", name="提交进展").click()
    expect(entry).to_contain_text("待同步：已调整村党支部书记")
    expect(waiting_badge(page)).to_contain_text("1 条待同步")
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    expect(waiting_badge(page)).to_contain_text("0 条待同步", timeout=15_000)
    answer = live.api("GET", f"/rectifications/{item.json()['id']}", token=token).json()
    assert answer["status"] == "done_claimed"
    assert [n["note"] for n in answer["notes"]] == ["已调整村党支部书记，建立周例会制度"]
    expect(page.locator(f".rect-item[data-item='{item.json()['id']}']")).to_contain_text(
        "已报完成", timeout=15_000)


def test_a_secretarys_later_screens_open_offline_once_logged_in(live, page, context):
    """班子 and the 整改 card are not in the first download (js/later/): once the service worker
    has taken over the phone, a secretary's login fetches them and the worker keeps them for a
    day without signal. (On the very first start the worker may take over only after the login;
    they are kept from the next start: docs/phone-app.md.)"""
    secretary = live.person(role="secretary")
    page.goto("/")
    wait_for_script(page, "navigator.serviceWorker.controller !== null")
    log_in(page, secretary)
    wait_for_script(page, """caches.keys().then(async (names) => {
        for (const name of names) {
            const keys = (await (await caches.open(name)).keys()).map((r) => r.url);
            if (keys.some((u) => u.endsWith('js/later/team.js'))
                && keys.some((u) => u.endsWith('js/later/rectifications.js'))) return true;
        }
        return false;
    })""")
    wait_until(page, lambda: stored(page)["kv"].get("rectifications") is not None)
    context.set_offline(True)
    page.reload()
    page.locator("#tabs").get_by_role("link", name="班子").click()
    expect(page.locator(".screen.team")).to_be_visible()
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    expect(page.locator(".rectifications")).to_be_visible()


def test_a_secretary_opens_her_townships_pack_from_the_team(live, page):
    secretary = live.person(role="secretary")
    log_in(page, secretary)
    page.locator("#tabs").get_by_role("link", name="班子").click()
    page.get_by_role("link", name="述职评议材料").click()
    expect(page.locator(".evaluation")).to_have_attribute("data-unit", TOWNSHIP)
    expect(page.locator(".eval-person").first).to_be_visible()
    expect(page.locator(".eval-record")).to_have_count(0)   # recording is a supervisor's
