"""Logging out forgets everything personal, and is refused while writes wait; an expired token
means logging in again, after which the outbox goes on; a one-time password is changed first."""
import pytest
import requests
from playwright.sync_api import expect

from .conftest import PASSWORD, log_in, stored, wait_until, waiting_badge

pytestmark = pytest.mark.browser


def open_me(page):
    page.locator("#tabs").get_by_role("link", name="我的").click()


def synced_open_visit_stored(page):
    """What the page keeps, once it holds the open visit as the server has taken it; else None."""
    kept = stored(page)
    return kept if (kept["kv"].get("openVisit") or {}).get("synced") else None


def test_logging_out_with_nothing_waiting_revokes_the_token_and_forgets_everything(live, page):
    person = live.person()
    log_in(page, person)
    page.get_by_role("button", name="到村签到").click()
    expect(page.locator(".open-visit")).to_be_visible()   # the tap has been taken, not only made
    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    expect(page.locator(".rule").first).to_be_visible()
    before = wait_until(page, lambda: synced_open_visit_stored(page),
                        message="the open visit was never stored as synced")
    token = before["kv"]["session"]["token"]
    assert before["kv"]["me"]["user"]["name"] == person.name and before["kv"]["openVisit"]

    open_me(page)
    page.get_by_role("button", name="退出登录").click()

    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    after = stored(page)
    assert after["outbox"] == [] and after["kv"] == {}
    assert set(after["local"]) <= {"zaicun.lang"} and after["session"] == {}
    assert not [url for _, url in after["cached"] if "/api/" in url]
    assert person.name not in page.content()
    gone = requests.get(f"{live.url}/api/v1/me", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)
    assert gone.status_code == 401


def test_logout_is_refused_while_items_wait_until_they_are_copied_out(live, page):
    person = live.person()
    log_in(page, person)
    page.route("**/api/v1/visits", lambda route: route.abort()
               if route.request.method == "POST" else route.continue_())
    page.get_by_role("button", name="到村签到").click()
    expect(waiting_badge(page)).to_contain_text("1 条待同步")

    open_me(page)
    page.get_by_role("button", name="退出登录").click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("还有 1 条记录没有同步")
    expect(page.locator("#tabs")).to_be_visible()
    assert len(stored(page)["outbox"]) == 1

    refusal.get_by_role("button", name="复制全部记录").click()
    copied = page.get_by_role("dialog").get_by_role("textbox").input_value()
    assert '"check_in"' in copied and person.username not in copied
    page.get_by_role("dialog").get_by_role("button", name="知道了").click()
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("button", name="登录", exact=True)).to_be_visible()
    assert stored(page)["outbox"] == []
    assert live.visits_of(person) == []


def test_after_the_token_is_revoked_the_person_logs_in_again_and_the_outbox_goes_on(live, page):
    person = live.person()
    log_in(page, person)
    expect(page.locator(".rule").first).to_be_visible()
    token = stored(page)["kv"]["session"]["token"]
    assert live.api("POST", "/auth/logout", token=token).status_code == 204

    page.get_by_role("button", name="到村签到").click()
    expect(page.get_by_role("alert")).to_contain_text("登录已过期")
    expect(page.get_by_label("用户名")).to_have_value(person.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()

    expect(waiting_badge(page)).to_contain_text("0 条待同步")
    wait_until(page, lambda: len(live.visits_of(person)) == 1)
    expect(page.locator(".open-visit")).to_be_visible()


def test_a_one_time_password_is_changed_before_anything_else(live, page):
    person = live.person()
    reset = live.api("POST", f"/users/{person.id}/reset-password")
    assert reset.status_code == 200, reset.text
    one_time = reset.json()["one_time_password"]
    log_in_with = person.__class__(person.id, person.username, person.name, person.role, one_time)
    page.goto("/")
    page.get_by_label("用户名").fill(person.username)
    page.get_by_label("密码").fill(one_time)
    page.get_by_role("button", name="登录", exact=True).click()

    expect(page.get_by_role("heading", name="请先修改密码")).to_be_visible()
    expect(page.locator("#tabs")).to_be_hidden()
    page.get_by_label("原密码").fill(log_in_with.password)
    page.get_by_label("新密码（至少 8 位）").fill("my-own-pass-9")
    page.get_by_label("再次输入新密码").fill("my-own-pass-9")
    page.get_by_role("button", name="修改密码").click()

    expect(page.get_by_role("button", name="到村签到")).to_be_visible()
    assert live.login(person.username, "my-own-pass-9")
