"""封存 in the console (RULES.md §9): an admin reaches the page from the overview, is told in
plain words when a visit still waits for review, closes last year for the county and sees the row
with its full SHA-256 (the downloaded snapshot hashes to it), sees 已封存 on the roll-up and on
the evaluation pack, is refused a second closing with the server's message, and reopens the
year with a reason (required) — each step checked in what the page shows and the API answers."""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import TOWNSHIP, VILLAGE
from .test_console_work import COUNTY, console_log_in, staff, today

pytestmark = pytest.mark.browser


def test_an_admin_closes_a_year_is_refused_twice_and_reopens_it_with_a_reason(live, desk):
    year = today().year - 1
    admin = staff(live, "admin")
    console_log_in(desk, admin)
    desk.locator(".overview .closings-link").click()
    expect(desk.get_by_role("heading", name="封存", exact=True)).to_be_visible()
    expect(desk.locator(".closings")).to_contain_text("还没有封存过任何年度")
    form = desk.locator(".closing-form")
    expect(form.get_by_label("年度")).to_have_value(str(year))        # last year by default
    form.get_by_label("县").select_option(COUNTY)
    form.get_by_label("备注（选填）").fill("述职评议考核会后封存")

    def close_and_confirm():
        form.get_by_role("button", name="封存").click()
        confirm = desk.get_by_role("alertdialog")
        expect(confirm).to_contain_text(f"封存 示范县 {year} 年度？")
        confirm.get_by_role("button", name="封存").click()

    # A visit of last year entered late waits for review: the count in words, and nothing
    # stored; a county supervisor approves it, and the year can be closed.
    cadre = live.person()
    point = {"lat": VILLAGE["lat"], "lon": VILLAGE["lon"], "accuracy_m": 15}
    began = datetime(year, 6, 3, 8, tzinfo=timezone(timedelta(hours=8)))
    late = live.api("POST", "/visits", live.login(cadre.username, cadre.password), json={
        "client_id": str(uuid.uuid4()), "village_code": VILLAGE["code"],
        "check_in": {"at": began.isoformat(), "location": point},
        "check_out": {"at": (began + timedelta(hours=7)).isoformat(), "location": point}})
    assert late.status_code == 201 and late.json()["status"] == "pending_review", late.text
    close_and_confirm()
    expect(desk.locator(".work-error")).to_contain_text("该年度还有 1 条待审核的记录，审核完毕后才能封存")
    assert live.api("GET", "/closings").json() == []
    supervisor = staff(live, "supervisor")
    approved = live.api("POST", f"/visits/{late.json()['id']}/review",
                        live.login(supervisor["username"], supervisor["password"]),
                        json={"decision": "approve"})
    assert approved.status_code == 200, approved.text

    close_and_confirm()
    expect(desk.get_by_role("status")).to_contain_text(f"已封存 示范县 {year} 年度")
    row = desk.locator(f".closing[data-year='{year}'][data-unit='{COUNTY}']")
    expect(row).to_have_attribute("data-state", "closed")
    expect(row).to_contain_text("已封存")
    expect(row).to_contain_text("述职评议考核会后封存")
    expect(row).to_contain_text(admin["name"])
    sha = row.locator(".sha256").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha), sha
    [closing] = live.api("GET", "/closings").json()
    assert (closing["year"], closing["unit_code"], closing["snapshot_sha256"]) == (year, COUNTY, sha)
    with desk.expect_download() as snapshot:
        row.get_by_role("button", name="下载快照").click()
    assert hashlib.sha256(Path(snapshot.value.path()).read_bytes()).hexdigest() == sha

    # The roll-up and the evaluation pack of the closed year say so, with the hash.
    desk.goto(f"/#/console?year={year}")
    expect(desk.locator(".overview .closed-notice")).to_contain_text(sha)
    desk.goto(f"/#/console/evaluation?unit={TOWNSHIP}&year={year}")
    expect(desk.locator(".evaluation .closed-notice")).to_contain_text("该年度已封存")
    expect(desk.locator(".print-head .print-closed")).to_contain_text(sha)

    # A second closing is refused with the server's message; nothing new is stored.
    desk.goto("/#/console/closings")
    close_and_confirm()
    expect(desk.locator(".work-error")).to_contain_text("已经封存")
    assert len(live.api("GET", "/closings").json()) == 1

    # Reopening needs a reason; then the row says who reopened it, and why.
    row.get_by_role("button", name="重新开放…").click()
    dialog = desk.get_by_role("dialog")
    dialog.get_by_role("button", name="重新开放").click()
    expect(dialog.get_by_role("alert")).to_contain_text("请写明重新开放的理由")
    dialog.get_by_label("重新开放的理由").fill("补录一条经核实的走访")
    dialog.get_by_role("button", name="重新开放").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_attribute("data-state", "reopened")
    expect(row).to_contain_text("已重新开放")
    expect(row).to_contain_text("补录一条经核实的走访")
    expect(row.get_by_role("button", name="重新开放…")).to_have_count(0)
    [closing] = live.api("GET", "/closings").json()
    assert closing["reopened_at"] and closing["reopen_reason"] == "补录一条经核实的走访"
    assert closing["reopened_by"]["id"] == admin["id"]
