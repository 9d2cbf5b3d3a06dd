"""People over time in the console and on the phone (RULES.md §8): a person's posts as a
timeline, the transfer dialog, 免职, links from a date with the past ones listed, the 换届
import with its preview, and the phone of someone with no post today."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from .conftest import (
    FAR_VILLAGE,
    OTHER_TOWNSHIP,
    OTHER_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    log_in,
    waiting_badge,
)
from .test_console_work import console_log_in, staff, today

pytestmark = pytest.mark.browser


def posts_of(live, person) -> list[dict]:
    answer = live.api("GET", f"/users/{person.id}/posts")
    assert answer.status_code == 200, answer.text
    return answer.json()


def open_posts(desk, person):
    row = desk.locator(f".admin-user[data-user-id='{person.id}']")
    row.locator(".admin-posts-editor summary").click()
    return row


def test_a_transfer_is_made_in_a_dialog_that_says_what_ends_and_shows_in_the_timeline(live, desk):
    person = live.person(villages=(VILLAGE,))
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/users")
    row = open_posts(desk, person)
    timeline = row.locator(".posts-timeline li")
    expect(timeline).to_have_count(1)
    expect(timeline.first).to_contain_text("东山镇")
    expect(timeline.first).to_contain_text("至今")

    start = today() - timedelta(days=3)
    row.get_by_role("button", name="调动 / 任职…").click()
    dialog = desk.get_by_role("dialog")
    dialog.get_by_label("新单位").select_option(OTHER_TOWNSHIP)
    dialog.get_by_label("起始日期").fill(start.isoformat())
    last = start - timedelta(days=1)
    expect(dialog.locator("[data-effect]")).to_contain_text(f"{last.month}月{last.day}日")
    dialog.get_by_role("button", name="确定").click()
    expect(dialog).to_be_hidden()
    expect(desk.get_by_role("status")).to_contain_text(f"{person.name} 自")
    # The list is redrawn after the move; the person's posts stay open, showing the new post.
    row = desk.locator(f".admin-user[data-user-id='{person.id}']")
    expect(row.locator(".admin-posts-editor")).to_have_attribute("open", "")
    expect(row.locator(".posts-timeline li")).to_have_count(2)
    expect(row.locator(".posts-timeline li[data-state='current']")).to_contain_text("青溪镇")
    expect(row.locator(".posts-timeline li[data-state='ended']")).to_contain_text("东山镇")
    posts = posts_of(live, person)
    assert [(p["unit_code"], p["from"], p["until"]) for p in posts] == [
        (TOWNSHIP, None, last.isoformat()), (OTHER_TOWNSHIP, start.isoformat(), None)]
    # The old township's links ended with the move: none today, the old one listed as past.
    row.locator(".admin-links-editor summary").click()
    expect(row.get_by_label(FAR_VILLAGE["name"])).not_to_be_checked()
    expect(row.locator(f".links-history [data-village='{VILLAGE['code']}']")).to_be_visible()


def test_a_refused_transfer_says_why_in_the_dialog_and_changes_nothing(live, desk):
    person = live.person(villages=(VILLAGE,))
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/users")
    row = open_posts(desk, person)
    row.get_by_role("button", name="调动 / 任职…").click()
    dialog = desk.get_by_role("dialog")
    dialog.get_by_label("新单位").select_option("341122")       # a county: not for a cadre
    dialog.get_by_role("button", name="确定").click()
    expect(dialog.get_by_role("alert")).to_contain_text("不是乡镇")
    dialog.get_by_role("button", name="取消").click()
    assert len(posts_of(live, person)) == 1


def test_ending_a_post_shows_it_ended_and_the_phone_then_says_no_current_post(live, desk, context):
    person = live.person(villages=(VILLAGE,))
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/users")
    row = open_posts(desk, person)
    row.get_by_role("button", name="免职…").click()
    dialog = desk.get_by_role("dialog")
    ended = today() - timedelta(days=1)
    dialog.get_by_label("最后一天").fill(ended.isoformat())
    dialog.get_by_role("button", name="确定").click()
    expect(desk.get_by_role("status")).to_contain_text(f"{person.name} 的任职已于")
    assert posts_of(live, person)[0]["until"] == ended.isoformat()

    phone = context.new_page()
    phone.goto("/")
    phone.get_by_label("用户名").fill(person.username)
    phone.get_by_label("密码").fill(person.password)
    phone.get_by_role("button", name="登录", exact=True).click()
    expect(phone.get_by_role("heading", name="当前无任职")).to_be_visible()
    expect(phone.locator("#check-in")).to_have_count(0)


def test_links_change_from_a_date_and_the_earlier_ones_stay_listed(live, desk):
    person = live.person(villages=(VILLAGE,))
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/users")
    row = desk.locator(f".admin-user[data-user-id='{person.id}']")
    row.locator(".admin-links-editor summary").click()
    row.get_by_label(VILLAGE["name"]).uncheck()
    row.get_by_label(OTHER_VILLAGE["name"]).check()
    start = today() - timedelta(days=2)
    row.get_by_label("生效日期").fill(start.isoformat())
    row.get_by_role("button", name="保存包联村").click()
    expect(row.locator(f".links-history [data-village='{VILLAGE['code']}']")).to_be_visible()
    before = live.api("GET", f"/users/{person.id}/linked-villages?on="
                             f"{start - timedelta(days=1)}").json()
    now = live.api("GET", f"/users/{person.id}/linked-villages").json()
    assert before["village_codes"] == [VILLAGE["code"]]
    assert now["village_codes"] == [OTHER_VILLAGE["code"]]


def test_a_huanjie_import_is_previewed_before_anything_is_written(live, desk):
    moving, promoted = live.person(), live.person()
    console_log_in(desk, staff(live, "admin"))
    desk.goto("/#/console/admin/huanjie")
    start = today() - timedelta(days=1)
    bad = (f"username,unit_code,role,from\n{moving.username},{OTHER_TOWNSHIP},cadre,{start}\n"
           f"nobody_here,{OTHER_TOWNSHIP},cadre,{start}\n")
    desk.get_by_label("CSV 内容").fill(bad)
    desk.get_by_role("button", name="预览").click()
    expect(desk.locator(".row-errors")).to_contain_text("第 3 行 username")
    expect(desk.locator(".huanjie-preview")).to_have_count(0)

    good = (f"username,unit_code,role,from\n{moving.username},{OTHER_TOWNSHIP},cadre,{start}\n"
            f"{promoted.username},{TOWNSHIP},secretary,{start}\n")
    desk.get_by_label("CSV 内容").fill(good)
    desk.get_by_role("button", name="预览").click()
    preview = desk.locator(".huanjie-preview")
    expect(preview.locator("tbody tr")).to_have_count(2)
    expect(preview.locator(f"tr[data-username='{moving.username}']")).to_contain_text("青溪镇")
    expect(preview.locator(f"tr[data-username='{promoted.username}']")).to_contain_text("党委书记")
    assert len(posts_of(live, moving)) == 1          # a preview writes nothing
    preview.get_by_role("button", name="确认导入 2 人").click()
    expect(desk.get_by_role("status")).to_contain_text("已导入 2 人的任职")
    assert posts_of(live, moving)[-1]["unit_code"] == OTHER_TOWNSHIP
    assert posts_of(live, promoted)[-1]["role"] == "secretary"


def test_a_queued_check_in_refused_for_no_post_shows_why(live, page):
    """The phone queued a check-in (no signal); meanwhile the person's post was ended the day
    before. When the check-in reaches the server it is refused with no_post, and the 待同步 list
    says so in the server's words."""
    person = live.person(villages=(VILLAGE,))
    log_in(page, person)
    page.route("**/api/v1/visits", lambda route: route.abort()
               if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="到村签到").click()
    expect(waiting_badge(page)).to_contain_text("1 条待同步", timeout=20_000)
    post = posts_of(live, person)[0]
    ended = live.api("PATCH", f"/users/{person.id}/posts/{post['id']}",
                     json={"until": (today() - timedelta(days=1)).isoformat()})
    assert ended.status_code == 200, ended.text
    page.unroute("**/api/v1/visits")
    waiting_badge(page).click()
    page.get_by_role("button", name="立即同步").click()
    failed = page.locator(".queue-item.failed")
    expect(failed).to_contain_text("该日期您没有班子成员或书记任职，不能签到。")
    assert live.visits_of(person) == []
