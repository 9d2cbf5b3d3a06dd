"""The evaluation pack as a workbook: one sheet of people (a row each, the secretary first) and
one of the rectification items of the year before. Words in zh or en; facts only."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from ..progress.export import ROLE_WORDS, STATUS_WORDS, append_row, closed_mark

ITEM_WORDS = {"open": ("未开始", "open"), "in_progress": ("整改中", "in progress"),
              "done_claimed": ("已报完成", "claimed done"), "done": ("已完成", "done")}
PEOPLE = (("姓名", "Name"), ("职务", "Role"), ("任职", "Posts in the year"),
          *((f"{m}月", f"M{m}") for m in range(1, 13)),
          ("在村天数", "Village days"), ("目标", "Target"), ("状态", "Status"),
          ("专题汇报", "Reports"), ("汇报目标", "Reports target"),
          ("包联村走访", "Linked villages visited"), ("入户", "Households"),
          ("走访次数", "Visits"), ("标记·通过", "Flagged: approved"),
          ("标记·驳回", "Flagged: rejected"), ("标记·待审", "Flagged: pending"),
          ("请假（工作日）", "Leave (working days)"), ("培训", "Training"), ("公务", "Official duty"))
ITEMS = (("问题", "Critique point"), ("说明", "Detail"), ("整改期限", "Due"), ("状态", "Status"),
         ("进展", "Notes"))


def _word(table: dict, key, english: bool) -> str:
    zh, en = table.get(key, (key, key))
    return en if english else zh


def _posts(person: dict, english: bool) -> str:
    return "；".join(f"{p['unit_name'] or '–'} {_word(ROLE_WORDS, p['role'], english)} "
                    f"{p['from'] or '…'}–{p['until'] or '…'}" for p in person["posts"])


def _person_row(person: dict, english: bool) -> list:
    rules = {r["rule_id"]: r for r in person["rules"]}
    days, reports = rules.get("village_time", {}), rules.get("thematic_reports", {})
    return [person["user"]["name"], _word(ROLE_WORDS, person["user"]["role"], english),
            _posts(person, english), *person["village_days_by_month"],
            days.get("actual"), days.get("target"),
            _word(STATUS_WORDS, days["status"], english) if days else None,
            reports.get("actual"), reports.get("target"),
            f"{person['coverage']['visited']}/{person['coverage']['linked']}",
            person["households"], person["visits"], person["flagged"]["approved"],
            person["flagged"]["rejected"], person["flagged"]["pending"],
            person["absences"]["leave"], person["absences"]["training"],
            person["absences"]["official_duty"]]


def _header(sheet, title: str, columns, english: bool) -> None:
    append_row(sheet, [title])
    sheet["A1"].font = Font(bold=True)
    append_row(sheet, [en if english else zh for zh, en in columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    sheet.freeze_panes = "A3"


def pack_xlsx(pack: dict, english: bool) -> bytes:
    """The pack (as the API dumps it) as a workbook."""
    unit, year, as_of = pack["unit"], pack["year"], pack["as_of"]
    title = (f"{unit['name']} {year} evaluation pack, as of {as_of}" if english else
             f"{unit['name']} {year} 年述职评议考核材料（统计截至 {as_of}）") + closed_mark(pack, english)
    book = Workbook()
    people = book.active
    people.title = "People" if english else "人员"
    _header(people, title, PEOPLE, english)
    for person in pack["people"]:
        append_row(people, _person_row(person, english))
    people.column_dimensions["A"].width = 10
    people.column_dimensions["C"].width = 36
    items = book.create_sheet("Rectification" if english else "上年度整改")
    _header(items, title, ITEMS, english)
    for item in pack["rectifications"]:
        notes = "\n".join(f"{n['at'][:10]} {n['by']}：{n['note'] or ''}" for n in item["notes"])
        append_row(items, [item["title"], item["detail"], item["due"],
                           _word(ITEM_WORDS, item["status"], english), notes])
    for column, width in zip("ABCDE", (30, 40, 12, 10, 60)):
        items.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
