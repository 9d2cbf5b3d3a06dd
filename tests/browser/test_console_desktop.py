"""The console on a desk (1280 × 800 and 1920 × 1080): the tabs in a bar under the header, the
header lined up with the content, nothing fixed or sticky over a table row or a card (the
review queue's bulk bar included, however far it is scrolled) — and on a 390 px phone the bottom
tab bar as before. Also: people listed by unit code and then the name's pinyin (RULES.md §6),
and the labels a supervisor reads (村名 / 乡镇, the review page named after its list, 已登记 for
leave, 公务视同在村 only where it can apply, 管理's own icon, 应达 in 班子)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from pypinyin import lazy_pinyin

from .conftest import PASSWORD, SCREENSHOTS, TOWNSHIP, VILLAGE, PageProblems, Person, log_in
from .test_console_work import console_log_in, flagged_visit, shown, staff, today

pytestmark = pytest.mark.browser
WEST = {"code": "341122101", "name": "西山镇"}
WEST_VILLAGE = {"code": "341122101201", "name": "石桥村", "lat": 32.100, "lon": 118.100}
DESKS = [{"width": 1280, "height": 800}, {"width": 1920, "height": 1080}]
HOME_ICON = "M4 11l8-7 8 7"   # the start of the 进度 (home) tab's icon


@dataclass
class World:
    supervisor: dict
    admin: dict
    secretary: Person
    cadres: list          # 东山镇, made in username order, named against it
    west: Person          # 西山镇


def person(live, role, unit, name, username) -> Person:
    answer = live.api("POST", "/users", json={"username": username, "password": PASSWORD,
                                              "name": name, "role": role, "unit_code": unit})
    assert answer.status_code == 201, answer.text
    return Person(answer.json()["id"], username, name, role)


@pytest.fixture(scope="module")
def world(live):
    """Two townships; in 东山镇 three cadres whose usernames run against their names' pinyin
    (张伟 d1, 白云 d2, 安琪 d3), a secretary, and twelve visits waiting for review (more than
    a desk shows at once)."""
    assert live.api("POST", "/units", json={"code": WEST["code"], "name": WEST["name"], "level": "township",
                                            "parent_code": "341122"}).status_code == 201
    assert live.api("POST", "/villages", json={**WEST_VILLAGE, "township_code": WEST["code"]}).status_code == 201
    tag = uuid.uuid4().hex[:6]
    west = person(live, "cadre", WEST["code"], "陈东", f"d0_{tag}")   # first by username, last by unit
    cadres = [person(live, "cadre", TOWNSHIP, name, f"d{n}_{tag}")
              for n, name in enumerate(("张伟", "白云", "安琪"), start=1)]
    secretary = person(live, "secretary", TOWNSHIP, "王书记", f"d4_{tag}")
    for someone in (*cadres, secretary):
        linked = live.api("PUT", f"/users/{someone.id}/linked-villages",
                          json={"village_codes": [VILLAGE["code"]]})
        assert linked.status_code == 200, linked.text
    for n in range(12):
        flagged_visit(live, cadres[n % 3], days=1 + n // 3, hours=2)
    return World(staff(live, "supervisor"), staff(live, "admin"), secretary, cadres, west)


@pytest.fixture
def open_browser(browser, live):
    """A new browser window of a given size in China; closed (and checked for page errors and
    CSP refusals) after the test."""
    opened = []

    def make(width, height):
        ctx = browser.new_context(base_url=live.url, viewport={"width": width, "height": height},
                                  locale="zh-CN", timezone_id="Asia/Shanghai")
        ctx.set_default_timeout(10_000)
        problems = PageProblems()
        page = ctx.new_page()
        problems.watch(page)
        opened.append((ctx, problems))
        return page

    yield make
    for ctx, problems in opened:
        ctx.close()
        assert not problems, problems


# What covers what: every visible fixed or sticky element against every visible table row and card.
COVERED = """() => {
    const shown = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')}`;
    const floating = [...document.querySelectorAll('body *')].filter((el) =>
        ['fixed', 'sticky'].includes(getComputedStyle(el).position) && shown(el));
    const content = [...document.querySelectorAll('tr, .card')].filter(shown);
    const out = [];
    for (const f of floating) {
        const a = f.getBoundingClientRect();
        for (const c of content) {
            if (f.contains(c) || c.contains(f)) continue;
            const b = c.getBoundingClientRect();
            if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1)
                out.push(`${name(f)} covers ${name(c)}`);
        }
    }
    return out;
}"""

FRAME = """() => {
    const box = (sel) => { const r = document.querySelector(sel).getBoundingClientRect();
        return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width }; };
    const view = document.querySelector('#view');
    const style = getComputedStyle(view);
    const v = view.getBoundingClientRect();
    return { brand: box('.brand'), lang: box('#lang-switch'), tabs: box('#tabs'), title: box('.screen-title'),
             firstTab: box('#tabs .tab'), view: box('#view'),
             tabsPosition: getComputedStyle(document.querySelector('#tabs')).position,
             contentLeft: v.left + parseFloat(style.borderLeftWidth) + parseFloat(style.paddingLeft),
             contentRight: v.right - parseFloat(style.borderRightWidth) - parseFloat(style.paddingRight),
             scrollWidth: document.documentElement.scrollWidth };
}"""


def nothing_covered(page, where: str) -> None:
    """At the top, in the middle and at the bottom of the page, nothing fixed or sticky covers
    a table row or a card."""
    height = page.evaluate("document.documentElement.scrollHeight")
    for y in (0, height // 2, height):
        page.evaluate(f"window.scrollTo(0, {y})")
        assert page.evaluate(COVERED) == [], (where, y)
    page.evaluate("window.scrollTo(0, 0)")


def framed_on_a_desk(page, width: int, where: str) -> None:
    """The tabs are a bar under the header (not at the bottom); the header's name and language
    switch line up with the content's edges; the page is no wider than the window."""
    frame = page.evaluate(FRAME)
    assert frame["tabsPosition"] == "static", where
    assert frame["tabs"]["top"] >= frame["brand"]["bottom"] - 1, where
    assert frame["tabs"]["bottom"] <= frame["view"]["top"] + 1, where
    assert abs(frame["brand"]["left"] - frame["contentLeft"]) <= 2, (where, frame)
    assert abs(frame["title"]["left"] - frame["contentLeft"]) <= 2, (where, frame)
    assert abs(frame["lang"]["right"] - frame["contentRight"]) <= 2, (where, frame)
    assert abs(frame["firstTab"]["left"] + 14 - frame["contentLeft"]) <= 2, (where, frame)
    assert frame["scrollWidth"] <= width, where


def shoot(page, name: str) -> None:
    folder = SCREENSHOTS / "console"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def desk_id(size) -> str:
    return f"{size['width']}x{size['height']}"


@pytest.mark.parametrize("size", DESKS, ids=desk_id)
def test_a_supervisors_desk_has_the_tabs_on_top_and_nothing_over_the_rows_or_cards(
        live, world, open_browser, size):
    page = open_browser(**size)
    console_log_in(page, world.supervisor)
    expect(page.locator(".rule-overview").first).to_be_visible()
    table = page.locator(".rule-overview .console-table").first
    assert table.bounding_box()["width"] >= min(size["width"], 1440) - 120   # tables use the width
    framed_on_a_desk(page, size["width"], "总览")
    nothing_covered(page, "总览")
    shoot(page, f"desk-overview-{desk_id(size)}")

    page.locator(f"[data-township='{TOWNSHIP}'] a").first.click()
    expect(page.locator("tr[data-person]").first).to_be_visible()
    framed_on_a_desk(page, size["width"], "township")
    nothing_covered(page, "township")

    page.locator("#tabs").get_by_role("link", name="待审核").click()
    cards = page.locator(".review-item")
    expect(cards).to_have_count(12)
    expect(page.locator(".screen-title")).to_have_text("待审核")
    framed_on_a_desk(page, size["width"], "审核")
    assert page.evaluate("document.documentElement.scrollHeight") > size["height"] + 300   # it scrolls
    bar = page.locator(".review-bulk")
    assert bar.bounding_box()["height"] <= 72          # one compact line
    shoot(page, f"desk-review-{desk_id(size)}")
    for y in range(0, page.evaluate("document.documentElement.scrollHeight"), 300):
        page.evaluate(f"window.scrollTo(0, {y})")
        above = bar.bounding_box()
        for card in cards.all():
            box = card.bounding_box()
            assert box["y"] >= above["y"] + above["height"] or box["y"] + box["height"] <= above["y"], y
    nothing_covered(page, "审核")


@pytest.mark.parametrize("size", DESKS, ids=desk_id)
def test_an_admins_desk_lists_people_by_unit_and_pinyin_and_covers_nothing(live, world, open_browser, size):
    page = open_browser(**size)
    console_log_in(page, world.admin)
    expect(page.locator(".rule-overview").first).to_be_visible()
    framed_on_a_desk(page, size["width"], "总览")
    nothing_covered(page, "总览")
    page.goto(f"/#/console/township/{TOWNSHIP}")
    expect(page.locator("tr[data-person]").first).to_be_visible()
    framed_on_a_desk(page, size["width"], "township")
    nothing_covered(page, "township")

    page.locator("#tabs").get_by_role("link", name="管理").click()
    expect(page.locator(".admin-user").first).to_be_visible()
    framed_on_a_desk(page, size["width"], "管理 → 人员")
    nothing_covered(page, "管理 → 人员")
    shoot(page, f"desk-admin-users-{desk_id(size)}")

    # RULES.md §6: by unit code, then the name's pinyin — the server's order, as it is shown
    listed = live.api("GET", "/users").json()
    key = [(u["unit_code"] or "", lazy_pinyin(u["name"]), u["name"], u["id"]) for u in listed]
    assert key == sorted(key)
    expect(page.locator(".admin-user strong")).to_have_text([u["name"] for u in listed])
    names = page.locator(".admin-user strong").all_inner_texts()
    assert [n for n in names if n in ("张伟", "白云", "安琪", "陈东")] == ["安琪", "白云", "张伟", "陈东"]


def test_the_pickers_of_absences_and_reports_list_people_by_unit_and_pinyin(live, world, open_browser):
    page = open_browser(1280, 800)
    console_log_in(page, world.supervisor)
    token = live.login(world.supervisor["username"], PASSWORD)
    field = [u for u in live.api("GET", "/users", token=token).json() if u["role"] in ("cadre", "secretary")]
    page.goto("/#/console/absences")
    options = page.locator("#absences-person option")
    expect(options).to_have_count(len(field) + 1)
    shown_names = [text.split("（")[0] for text in options.all_inner_texts()[1:]]
    assert shown_names == [u["name"] for u in field]
    assert [n for n in shown_names if n in ("张伟", "白云", "安琪", "陈东")] == ["安琪", "白云", "张伟", "陈东"]
    form_names = [text.split("（")[0] for text in page.locator("#absences-form-person option").all_inner_texts()[1:]]
    assert form_names == shown_names
    page.locator("#tabs").get_by_role("link", name="汇报").click()
    secretaries = [u["name"] for u in field if u["role"] == "secretary"]
    expect(page.locator("#creports-person option")).to_have_count(len(secretaries) + 1)
    assert [t.split("（")[0] for t in page.locator("#creports-person option").all_inner_texts()[1:]] == secretaries


def test_the_labels_say_what_they_mean(live, world, open_browser):
    page = open_browser(1280, 800)
    console_log_in(page, world.admin)
    # 管理 has its own icon, not 进度's house
    icons = page.locator("#tabs .tab path")
    drawn = [icons.nth(i).get_attribute("d") for i in range(icons.count())]
    admin_icon = page.locator("#tabs").get_by_role("link", name="管理").locator("path").get_attribute("d")
    assert not admin_icon.startswith(HOME_ICON) and drawn.count(admin_icon) == 1
    # 管理 → 村: 村名 and 乡镇
    page.goto("/#/console/admin/villages")
    heads = page.locator(".admin-villages thead th")
    expect(heads).to_have_text(["代码", "村名", "乡镇", "范围（米）"])
    expect(page.locator(f"tr[data-village='{VILLAGE['code']}'] [data-field='township']")).to_have_text("东山镇")
    expect(page.locator(f"tr[data-village='{WEST_VILLAGE['code']}'] [data-field='township']")).to_have_text("西山镇")

    # 请假: 公务视同在村 is offered for training and official duty, never for leave
    page.goto("/#/console/absences")
    form = page.locator("form.absences-form")
    counts = form.get_by_label("公务视同在村（每个工作日计 1 个在村天）")
    expect(form.get_by_label("类别")).to_have_value("leave")
    expect(counts).to_be_hidden()
    form.get_by_label("类别").select_option("official_duty")
    expect(counts).to_be_visible()
    form.get_by_label("类别").select_option("leave")
    expect(counts).to_be_hidden()
    # a leave entered is 已登记 (Recorded), not 审核通过
    cadre = world.cadres[0]
    day = (today() - timedelta(days=30)).isoformat()
    entered = live.api("POST", "/absences", json={"user_id": cadre.id, "start": day, "end": day,
                                                  "kind": "leave"},
                       token=live.login(world.supervisor["username"], PASSWORD))
    assert entered.status_code == 201, entered.text
    page.goto(f"/#/console/absences?user_id={cadre.id}&year={day[:4]}")
    item = page.locator(f".absences-item[data-absence-id='{entered.json()['id']}']")
    expect(item.locator(".chip")).to_contain_text("已登记")
    expect(item).not_to_contain_text("审核通过")
    page.locator("#lang-switch").click()
    expect(item.locator(".chip")).to_contain_text("Recorded")
    expect(item).not_to_contain_text("Approved")
    page.locator("#lang-switch").click()


def test_the_review_page_is_named_after_its_list(live, world, open_browser):
    page = open_browser(1280, 800)
    console_log_in(page, world.supervisor)
    page.locator("#tabs").get_by_role("link", name="待审核").click()
    title = page.locator(".screen-title")
    expect(title).to_have_text("待审核")
    for name in ("已核实", "审核通过", "未通过", "待审核"):
        page.locator(".work-subnav").get_by_role("link", name=name).click()
        expect(title).to_have_text(name)
        expect(page.locator(".work-subnav [aria-current='page']")).to_have_text(name)


def test_the_team_shows_what_is_expected_by_now_beside_each_result(live, world, open_browser):
    page = open_browser(1280, 800)
    log_in(page, world.secretary)
    page.locator("#tabs").get_by_role("link", name="班子").click()
    token = live.login(world.secretary.username, PASSWORD)
    rows = live.api("GET", f"/compliance?unit_code={TOWNSHIP}", token=token).json()["rows"]
    assert rows
    for row in rows:
        member = page.locator(".member").filter(
            has=page.get_by_role("link", name=row["user"]["name"], exact=True))
        expect(member.locator(".member-expected")).to_have_text(
            [f"应达 {shown(r['expected_to_date'])} {'天' if r['measure'] == 'days' else '次'}"
             for r in row["rules"]])
    framed_on_a_desk(page, 1280, "班子")
    nothing_covered(page, "班子")


def test_a_phone_keeps_the_bottom_tab_bar(live, world, open_browser):
    page = open_browser(390, 844)
    console_log_in(page, world.supervisor)
    expect(page.locator(".rule-overview").first).to_be_visible()
    frame = page.evaluate(FRAME)
    assert frame["tabsPosition"] == "fixed"
    assert frame["tabs"]["bottom"] == 844 and frame["tabs"]["width"] == 390
    assert frame["tabs"]["top"] > 844 - 100
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).position") == "sticky"
    page.locator("#tabs").get_by_role("link", name="待审核").click()
    expect(page.locator(".review-item")).to_have_count(12)
    assert page.locator(".review-bulk").bounding_box()["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shoot(page, "phone-review-390x844")
