"""The supervisor's console, read side: the overview's counts per township and status, a
township's people with their results and linked-village coverage, a person's calendar, months
and flagged visits, 导出 as a file whose numbers are the API's — and who may see which of it.

One county for the whole module: 东山镇 (the seeded township) and 西山镇, a county supervisor,
a secretary and two cadres in 东山镇 and one cadre in 西山镇, with visits that count, a visit
approved after review and a flagged one still waiting.
"""
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from .conftest import (
    OTHER_VILLAGE,
    OUTSIDE,
    PASSWORD,
    SCREENSHOTS,
    TOWNSHIP,
    VILLAGE,
    Person,
    log_in,
    record_visit,
)
from .test_screens import CONTROLS_TOO_SMALL_OR_UNLABELLED, CST, shown

pytestmark = pytest.mark.browser
WEST = {"code": "341122101", "name": "西山镇"}
WEST_VILLAGE = {"code": "341122101201", "name": "石桥村", "lat": 32.100, "lon": 118.100}
STATUS_WORDS = {"met": "已达标", "on_track": "进度正常", "at_risk": "稍有落后", "behind": "落后",
                "missed": "未达标"}


@dataclass
class County:
    supervisor: Person
    secretary: Person
    cadre: Person          # 东山镇: linked to 桃园村 and 柳塘村
    colleague: Person      # 东山镇
    west_cadre: Person     # 西山镇
    credits: dict          # the cadre's village days by date
    flagged: dict          # the cadre's visit waiting for review (outside the village)
    approved: dict         # the cadre's visit approved after review (late sync)
    year: int              # the year all these visits are in (see visit_dates)
    recent: date           # the day of the visits that count and of the flagged one
    early: date            # the day of the approved visit, in January
    as_of: date            # an as-of date of `year` before the default one


def today() -> date:
    """Today in China (the deployment's zone). Every date of this module is chosen from it, so
    replacing it checks the choice on another day of the year — but the server keeps its own
    clock, so a replacement must stay in the past."""
    return datetime.now(CST).date()


def visit_dates(now: date) -> tuple[int, date, date, date]:
    """The year of the module's visits and, in it, `recent`, `early` and an earlier as-of date.

    `early` must be more than 7 days back (its visit is synced late), `recent` as near as
    possible (yesterday), both in one year and on different days. That year is the year of
    8 days ago: until 8 January it is last year, whose last day stands in for yesterday (on
    7 and 8 January that day is itself more than 7 days back: see `counting`). No test skips.
    """
    year = (now - timedelta(days=8)).year
    recent = min(now - timedelta(days=1), date(year, 12, 31))
    early = min(date(year, 1, 5), now - timedelta(days=8))
    as_of = min(date(year, 1, 31), now - timedelta(days=1))
    return year, recent, early, as_of


def new_user(live, role, unit_code, name):
    username = f"{role}_{uuid.uuid4().hex[:8]}"
    answer = live.api("POST", "/users", json={"username": username, "password": PASSWORD,
                                              "name": name, "role": role,
                                              "unit_code": unit_code})
    assert answer.status_code == 201, answer.text
    return Person(answer.json()["id"], username, name, role)


def link(live, person, *villages):
    answer = live.api("PUT", f"/users/{person.id}/linked-villages",
                      json={"village_codes": [v["code"] for v in villages]})
    assert answer.status_code == 200, answer.text


def morning(day: date, hour=9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=CST)


def counting(live, sup_token, visit) -> None:
    """A visit at the village counts: verified — or, when its day is more than 7 days back
    (`recent` on 7 and 8 January), flagged for its late sync alone and approved as a supervisor
    would, so that it counts all the same."""
    if visit["status"] == "verified":
        return
    assert visit["status"] == "pending_review" and visit["flags"] == ["late_sync"], visit
    decided = live.api("POST", f"/visits/{visit['id']}/review", token=sup_token,
                       json={"decision": "approve", "comment": "补录，情况属实"})
    assert decided.status_code == 200, decided.text


@pytest.fixture(scope="module")
def county(live):
    year, recent, early, as_of = visit_dates(today())
    answer = live.api("POST", "/units", json={"code": WEST["code"], "name": WEST["name"],
                                              "level": "township", "parent_code": "341122"})
    assert answer.status_code == 201, answer.text
    answer = live.api("POST", "/villages", json={**WEST_VILLAGE, "township_code": WEST["code"]})
    assert answer.status_code == 201, answer.text
    supervisor = new_user(live, "supervisor", "341122", "孙部长")
    secretary = new_user(live, "secretary", TOWNSHIP, "王书记")
    cadre = new_user(live, "cadre", TOWNSHIP, "张三")
    colleague = new_user(live, "cadre", TOWNSHIP, "李四")
    west_cadre = new_user(live, "cadre", WEST["code"], "赵六")
    link(live, cadre, VILLAGE, OTHER_VILLAGE)
    link(live, colleague, VILLAGE)
    link(live, west_cadre, WEST_VILLAGE)

    sup_token = live.login(supervisor.username, supervisor.password)
    for person, hours, village in ((cadre, 7, VILLAGE),                                # 1 day
                                   (colleague, 4, VILLAGE),                            # ½ day
                                   (west_cadre, 6.5, WEST_VILLAGE)):                   # 1 day
        visit, _ = record_visit(live, person, morning(recent), hours, village=village)
        counting(live, sup_token, visit)
    # more than 7 days back: late_sync, reviewed
    approved, _ = record_visit(live, cadre, morning(early), 3.5)       # ½ day once approved
    assert approved["status"] == "pending_review" and "late_sync" in approved["flags"]
    decided = live.api("POST", f"/visits/{approved['id']}/review", token=sup_token,
                       json={"decision": "approve", "comment": "补录，情况属实"})
    assert decided.status_code == 200, decided.text
    flagged, _ = record_visit(live, cadre, morning(recent, 17), 2, OUTSIDE,
                              village=OTHER_VILLAGE)
    assert flagged["status"] == "pending_review" and "outside_geofence" in flagged["flags"]
    return County(supervisor, secretary, cadre, colleague, west_cadre,
                  {recent: 1, early: 0.5}, flagged, decided.json(), year, recent, early, as_of)


def log_in_console(page, person):
    """Log in as a supervisor: the console's overview opens."""
    page.goto("/")
    page.get_by_label("用户名").fill(person.username)
    page.get_by_label("密码").fill(person.password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("#tabs").get_by_role("link", name="总览").wait_for()


def open_month(page, live, person, county, day: date) -> None:
    """On a person page of `county.year`, list the visits of `day`'s month: the page shows the
    month of its as-of date (the server's) until a month's bar is picked."""
    token = live.login(person.username, person.password)
    answer = live.api("GET", f"/compliance/users/{county.cadre.id}?year={county.year}", token=token)
    assert answer.status_code == 200, answer.text
    if day.month != int(answer.json()["as_of"][5:7]):
        page.locator(f".month-bar[data-month='{day.month}']").click()
    expect(page.locator(".person-visits h3")).to_contain_text(f"{day.year}年{day.month}月")


def rollup(live, person, unit_code, **query):
    token = live.login(person.username, person.password)
    params = "&".join(f"{k}={v}" for k, v in {"unit_code": unit_code, **query}.items())
    answer = live.api("GET", f"/compliance?{params}", token=token)
    assert answer.status_code == 200, answer.text
    return answer.json()


def shoot(page, name):
    """A full-page screenshot into screenshots/console/ (git-ignored)."""
    folder = SCREENSHOTS / "console"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def test_the_overview_counts_people_per_township_and_status_as_the_api_does(live, page, county):
    api = rollup(live, county.supervisor, "341122", year=county.year)
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console?year={county.year}")
    expect(page.get_by_role("heading", name="总览")).to_be_visible()
    expect(page.locator(".as-of")).to_contain_text("统计截至")
    for rule_id in ("village_time", "thematic_reports"):
        section = page.locator(f".rule-overview[data-rule='{rule_id}']")
        counts = Counter((row["user"]["unit_code"], r["status"]) for row in api["rows"]
                         for r in row["rules"] if r["rule_id"] == rule_id)
        for unit_code in (TOWNSHIP, WEST["code"]):
            line = section.locator(f"tr[data-township='{unit_code}']")
            for status in STATUS_WORDS:
                expect(line.locator(f"[data-status='{status}']")).to_have_text(
                    str(counts[(unit_code, status)]))
        people = sum(counts.values())
        expect(section.locator("tr[data-township='total'] [data-total]")).to_have_text(str(people))
    # 东山镇: 张三, 李四, 王书记 (and this module's admin is no field user); 西山镇: 赵六
    village_time = page.locator(".rule-overview[data-rule='village_time']")
    expect(village_time.locator(f"tr[data-township='{TOWNSHIP}'] [data-total]")).to_have_text("3")
    expect(village_time.locator(f"tr[data-township='{WEST['code']}'] [data-total]")).to_have_text("1")
    expect(village_time.locator("thead")).to_contain_text("进度正常")
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    shoot(page, "overview-360x640")
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "overview-1280x800")

    village_time.get_by_role("link", name="西山镇").click()
    expect(page.get_by_role("heading", name="西山镇")).to_be_visible()
    expect(page.locator("tr[data-person]")).to_have_count(1)


def test_the_overview_follows_the_as_of_date_and_the_year(live, page, county):
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console?year={county.year}")
    as_of = county.as_of
    page.locator("[data-control='as_of']").fill(as_of.isoformat())
    page.locator("[data-control='as_of']").dispatch_event("change")
    expect(page).to_have_url(f"{live.url}/#/console?year={county.year}&as_of={as_of.isoformat()}")
    expect(page.locator(".as-of")).to_contain_text(f"{as_of.month}月{as_of.day}日")
    api = rollup(live, county.supervisor, "341122", year=county.year, as_of=as_of.isoformat())
    counts = Counter(r["status"] for row in api["rows"] for r in row["rules"]
                     if r["rule_id"] == "village_time" and row["user"]["unit_code"] == TOWNSHIP)
    line = page.locator(f".rule-overview[data-rule='village_time'] tr[data-township='{TOWNSHIP}']")
    for status in STATUS_WORDS:
        expect(line.locator(f"[data-status='{status}']")).to_have_text(str(counts[status]))

    page.locator("[data-control='year']").select_option(str(county.year - 1))
    expect(page.locator(".as-of")).to_contain_text("12月31日")
    expect(page.locator(".rule-overview[data-rule='village_time'] tr.total [data-status='missed']")
           ).to_have_text("4")   # nobody did anything the year before; that year is over


def test_export_downloads_an_xlsx_with_the_apis_numbers(live, page, county, tmp_path):
    api = rollup(live, county.supervisor, "341122", year=county.year)
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console?year={county.year}")
    expect(page.locator(".rule-overview").first).to_be_visible()
    expect(page.locator(".as-of")).to_contain_text(
        f"{int(api['as_of'][5:7])}月{int(api['as_of'][8:10])}日")
    with page.expect_download() as started:
        page.get_by_role("button", name="导出", exact=True).click()
    download = started.value
    assert download.suggested_filename == f"zaicun-341122-{api['as_of']}.xlsx"
    saved = tmp_path / "export.xlsx"
    download.save_as(saved)
    book = load_workbook(saved)
    assert book.sheetnames == ["在村工作时间", "专题汇报"]
    sheet = book["在村工作时间"]
    assert f"统计截至 {api['as_of']}" in sheet["A1"].value
    shown_rows = [(r[1], r[3], r[4], r[5], r[6])
                  for r in sheet.iter_rows(min_row=3, values_only=True)]
    expected = [(row["user"]["name"], r["actual"], r["target"], r["expected_to_date"],
                 STATUS_WORDS[r["status"]])
                for row in api["rows"] for r in row["rules"] if r["rule_id"] == "village_time"]
    assert shown_rows == expected
    assert ("张三", 1.5) in [(name, actual) for name, actual, *_ in shown_rows]


def test_export_of_a_township_as_csv_follows_the_chosen_as_of_date(live, page, county):
    as_of = county.as_of.isoformat()
    api = rollup(live, county.supervisor, TOWNSHIP, year=county.year, as_of=as_of)
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console/township/{TOWNSHIP}?year={county.year}&as_of={as_of}")
    expect(page.locator("tr[data-person]")).to_have_count(3)
    page.locator("[data-control='format']").select_option("csv")
    with page.expect_download() as started:
        page.get_by_role("button", name="导出", exact=True).click()
    text = Path(started.value.path()).read_bytes().decode("utf-8")
    assert text.startswith("\ufeff")
    lines = [line.split(",") for line in text.splitlines()[2:]]
    expected = [(row["user"]["name"], shown(r["actual"])) for row in api["rows"]
                for r in row["rules"] if r["rule_id"] == "village_time"]
    assert [(cells[2], shown(cells[4])) for cells in lines if cells[0] == "在村工作时间"] == expected
    assert all(cells[-2] == as_of for cells in lines)


def test_a_township_lists_each_persons_results_and_linked_village_coverage(live, page, county):
    api = rollup(live, county.supervisor, TOWNSHIP, year=county.year)
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console/township/{TOWNSHIP}?year={county.year}")
    rows = page.locator("tr[data-person]")
    expect(rows).to_have_count(3)
    # the server's order, by the name's pinyin: 李四 (li), 王书记 (wang), 张三 (zhang)
    expect(rows.locator("th")).to_have_text(["李四", "王书记", "张三"])
    for row in api["rows"]:
        line = page.locator(f"tr[data-person='{row['user']['id']}']")
        for r in row["rules"]:
            unit = "天" if r["measure"] == "days" else "次"
            expect(line.locator(f"[data-rule='{r['rule_id']}'][data-field='actual']")).to_have_text(
                f"{shown(r['actual'])} / {shown(r['target'])} {unit}")
            expect(line.locator(f"[data-rule='{r['rule_id']}'][data-field='expected']")).to_have_text(
                f"{shown(r['expected_to_date'])} {unit}")
            expect(line.locator(f"[data-rule='{r['rule_id']}'][data-field='status']")).to_contain_text(
                STATUS_WORDS[r["status"]])
    cadre = page.locator(f"tr[data-person='{county.cadre.id}']")
    expect(cadre.locator("[data-field='actual'][data-rule='village_time']")).to_contain_text("1.5 / ")
    # 桃园村 counted; 柳塘村's only visit is outside the village and still waits for review
    expect(cadre.locator("[data-field='coverage']")).to_have_text("1/2")
    expect(page.locator(f"tr[data-person='{county.colleague.id}'] [data-field='coverage']")
           ).to_have_text("1/1")
    expect(page.locator(f"tr[data-person='{county.secretary.id}'] [data-field='coverage']")
           ).to_have_text("未设包联村")

    cadre.get_by_role("link", name="张三").click()
    expect(page.get_by_role("heading", name="张三")).to_be_visible()


def test_a_person_page_shows_the_year_the_months_and_the_flagged_visits(live, page, county):
    log_in_console(page, county.supervisor)
    page.goto(f"/#/console/person/{county.cadre.id}?year={county.year}")
    expect(page.get_by_role("heading", name="张三")).to_be_visible()
    expect(page.locator(".rule[data-rule='village_time'] .rule-figure")).to_contain_text("1.5 / ")
    for day, credit in county.credits.items():
        kind = "full" if credit == 1 else "half"
        cell = page.locator(f".heat-cell[data-date='{day.isoformat()}']")
        expect(cell).to_have_class(f"heat-cell {kind}")
    expect(page.locator(".heat-cell.full")).to_have_count(1)
    expect(page.locator(".heat-cell.half")).to_have_count(1)
    expect(page.locator(".heat-total")).to_contain_text("共在村 1.5 天")
    by_month = Counter()
    for day, credit in county.credits.items():
        by_month[day.month] += credit
    for month in range(1, 13):
        bar = page.locator(f".month-bar[data-month='{month}']")
        expect(bar.locator(".bar-number")).to_have_text(shown(by_month[month], 1))

    # the flagged visit's month (shown at first unless the as-of date is in another month): in
    # words, with its distance and nothing of its coordinates
    open_month(page, live, county.supervisor, county, county.recent)
    flagged = page.locator(f".visit[data-visit='{county.flagged['id']}']")
    expect(flagged).to_contain_text("柳塘村")
    expect(flagged).to_contain_text("待审核")
    expect(flagged.locator(".flags")).to_contain_text("超出村范围（距村部")
    expect(flagged.locator(".distance")).to_contain_text("距村部")
    expect(page.locator(".person-visits")).not_to_contain_text(str(OUTSIDE["latitude"]))
    assert page.evaluate(CONTROLS_TOO_SMALL_OR_UNLABELLED) == []
    shoot(page, "person-360x640")
    page.set_viewport_size({"width": 1280, "height": 800})
    shoot(page, "person-1280x800")

    # January's bar lists January's visits: approved after review, with its history
    page.locator(f".month-bar[data-month='{county.early.month}']").click()
    expect(page.locator(".person-visits h3")).to_contain_text(
        f"{county.year}年{county.early.month}月")
    approved = page.locator(f".visit[data-visit='{county.approved['id']}']")
    expect(approved).to_contain_text("审核通过")
    expect(approved.locator(".flags")).to_contain_text("同步过晚")
    approved.locator(".history summary").click()
    expect(approved.locator(".event[data-action='approve']")).to_contain_text("孙部长")
    expect(approved.locator(".event[data-action='approve']")).to_contain_text("补录，情况属实")
    expect(page.locator(".person-visits")).to_have_count(1)


def test_a_secretary_reaches_her_townships_pages_from_the_team_and_nothing_beyond(
        live, page, county):
    log_in(page, county.secretary)
    page.locator("#tabs").get_by_role("link", name="班子").click()
    page.locator(".member").filter(has_text="张三").get_by_role("link", name="张三").click()
    expect(page.get_by_role("heading", name="张三")).to_be_visible()
    year = page.locator("[data-control='year']")
    if year.input_value() != str(county.year):      # the page opens on the current year
        year.select_option(str(county.year))
        expect(page.locator(".heat-total")).to_contain_text(f"{county.year} 年")
    open_month(page, live, county.secretary, county, county.recent)
    expect(page.locator(f".visit[data-visit='{county.flagged['id']}'] .flags")).to_contain_text(
        "超出村范围")
    # a colleague's raw coordinates are neither received nor shown
    token = live.login(county.secretary.username, county.secretary.password)
    visits = live.api("GET", f"/visits?user_id={county.cadre.id}", token=token).json()
    assert len(visits) == 3 and all(v["check_in"]["location"] is None
                                    and v["check_out"]["location"] is None for v in visits)
    expect(page.locator("body")).not_to_contain_text(str(VILLAGE["lat"]))
    expect(page.locator("a[href^='#/console/review']")).to_have_count(0)

    page.locator("#tabs").get_by_role("link", name="班子").click()
    page.locator(".team-unit").click()
    expect(page.locator("tr[data-person]")).to_have_count(3)
    expect(page.locator("tr[data-person] th")).to_have_text(["李四", "王书记", "张三"])

    page.goto(f"/#/console/township/{WEST['code']}")
    expect(page.get_by_role("heading", name="无权查看")).to_be_visible()
    expect(page.locator("tr[data-person]")).to_have_count(0)
    page.goto(f"/#/console/person/{county.west_cadre.id}")
    expect(page.get_by_role("heading", name="没有找到")).to_be_visible()
    expect(page.get_by_text("赵六")).to_have_count(0)
    page.goto("/#/console")
    expect(page.get_by_role("heading", name="没有这个页面")).to_be_visible()
    expect(page.locator(".rule-overview")).to_have_count(0)


def test_a_cadre_sees_no_supervisor_pages(live, page, county):
    log_in(page, county.colleague)
    for address in ("/#/console", f"/#/console/township/{TOWNSHIP}",
                    f"/#/console/person/{county.cadre.id}"):
        page.goto(address)
        expect(page.locator("#tabs").get_by_role("link", name="进度")).to_have_attribute(
            "aria-current", "page")
        expect(page.get_by_text("我的进度")).to_be_visible()
        expect(page.locator(".screen.console")).to_have_count(0)
        expect(page.locator("#tabs").get_by_role("link", name="总览")).to_have_count(0)
        expect(page.locator("#tabs").get_by_role("link", name="待审核")).to_have_count(0)
