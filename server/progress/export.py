"""The roll-up as a file for the evaluation meeting: xlsx (a sheet per rule) or csv (long form).

Rows keep the roll-up's order (unit code, then the name's pinyin) — never ranked.

Names come from people (a display name, a unit's name, a CSV import), so no text reaches a
spreadsheet as a formula (OWASP "CSV injection"): text that starts with = + - @, a tab or a CR
is a string cell with the quote prefix in the xlsx, and starts with ' in the csv. Numbers stay
numbers.

The words (headers, statuses, 日历 官方/估算, 无法完成) are in the request's language: English
when Accept-Language prefers it, Chinese otherwise (the route hands in ``english``).
"""
from __future__ import annotations

import csv
import io
import re

from flask import send_file
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill

from .. import clock

STATUS_WORDS = {
    "met": ("已达标", "met"), "on_track": ("进度正常", "on track"),
    "at_risk": ("稍有落后", "at risk"), "behind": ("落后", "behind"), "missed": ("未达标", "missed"),
}
STATUS_FILL = {"met": "C6EFCE", "on_track": "DDEBF7", "at_risk": "FFEB9C", "behind": "FFC7CE",
               "missed": "FFC7CE"}
CALENDAR_WORDS = {"official": ("官方工作日历", "official calendar"),  # the title row
                  "estimated": ("估算（周一至周五）", "estimated (Mon–Fri)")}
CALENDAR_KIND = {"official": ("官方", "official"), "estimated": ("估算", "estimated")}  # 日历
UNREACHABLE = ("无法完成", "cannot be met")  # 每工作日需 when `reachable` is false
COLUMNS = [  # (key, zh, en, width)
    ("unit", "单位", "Unit", 18), ("name", "姓名", "Name", 12), ("role", "职务", "Role", 10),
    ("actual", "实际", "Actual", 10), ("target", "目标", "Target", 10),
    ("expected_to_date", "应完成（截至统计日）", "Expected to date", 18),
    ("status", "状态", "Status", 12), ("remaining", "尚差", "Remaining", 10),
    ("remaining_working_days", "剩余工作日", "Working days left", 14),
    ("pace_per_working_day", "每工作日需", "Needed per working day", 16),
]
ROLE_WORDS = {"cadre": ("班子成员", "cadre"), "secretary": ("党委书记", "secretary")}
POST_ENDED = ("（任职已结束）", " (post ended)")  # after the unit: shown under a past post


def _word(table: dict, key: str, english: bool) -> str:
    zh, en = table.get(key, (key, key))
    return en if english else zh


def _cells(row: dict, result: dict, english: bool) -> dict:
    user = row["user"]
    unit = (user.get("unit_name") or "") + (POST_ENDED[english] if row.get("post_ended") else "")
    return {"unit": unit, "name": user["name"],
            "role": _word(ROLE_WORDS, user["role"], english),
            **{k: result[k] for k in ("actual", "target", "expected_to_date", "remaining",
                                      "remaining_working_days", "pace_per_working_day")},
            "status": _word(STATUS_WORDS, result["status"], english),
            # An impossible pace is no plan: say the target can no longer be met instead.
            **({"pace_per_working_day": UNREACHABLE[english]}
               if result.get("reachable") is False else {})}


def _generated_at() -> str:
    return clock.now().astimezone(clock.zone()).strftime("%Y-%m-%d %H:%M")


def closed_mark(data: dict, english: bool) -> str:
    """The title's words for a closed year's results: the snapshot's hash (RULES.md §9)."""
    closed = data.get("closed")
    if closed:
        sha = closed["snapshot_sha256"]
        return f"; closed, snapshot SHA-256 {sha}" if english else f"；已封存，快照 SHA-256 {sha}"
    counties = "; ".join(f"{c['unit_code']} {c['snapshot_sha256']}"
                         for c in data.get("closings", ()))
    if not counties:
        return ""
    return (f"; closed counties, snapshot SHA-256: {counties}" if english
            else f"；已封存的县（区）快照 SHA-256：{counties}")


def _title(data: dict, english: bool) -> str:
    calendar = _word(CALENDAR_WORDS, data["calendar"], english)
    unit = data.get("unit_name") or ""
    if english:
        return (f"{unit} village work compliance {data['year']} — as of {data['as_of']}; "
                f"{calendar}; generated {_generated_at()}{closed_mark(data, english)}")
    return (f"{unit}{data['year']}年度在村工作情况 — 统计截至 {data['as_of']}；{calendar}；"
            f"生成于 {_generated_at()}{closed_mark(data, english)}")


def _rules(data: dict) -> list[tuple[str, str]]:
    """The rules present in the roll-up, in first-seen order: (id, title)."""
    seen: dict[str, str] = {}
    for row in data["rows"]:
        for result in row["rules"]:
            seen.setdefault(result["rule_id"], result["title"])
    return list(seen.items())


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value) -> bool:
    """Whether a spreadsheet program could take this value for a formula: text starting with
    = + - @, a tab or a carriage return (OWASP's list). Numbers never are."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def xlsx_bytes(data: dict, english: bool) -> bytes:
    """A workbook with a sheet per rule, header frozen, statuses coloured and in words."""
    book = Workbook()
    book.remove(book.active)
    taken: set[str] = set()
    for rule_id, title in _rules(data) or [("-", "-")]:
        sheet = book.create_sheet(title=_sheet_title(title, taken))
        append_row(sheet, [_title(data, english)])
        sheet["A1"].font = Font(bold=True)
        append_row(sheet, [en if english else zh for _, zh, en, _ in COLUMNS])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in data["rows"]:
            for result in (r for r in row["rules"] if r["rule_id"] == rule_id):
                cells = _cells(row, result, english)
                append_row(sheet, [cells[key] for key, *_ in COLUMNS])
                status_cell = sheet.cell(row=sheet.max_row, column=7)
                status_cell.fill = PatternFill("solid", fgColor=STATUS_FILL[result["status"]])
        for index, (_, _, _, width) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[sheet.cell(row=2, column=index).column_letter].width = width
        sheet.freeze_panes = "A3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def append_row(sheet, values: list) -> None:
    """Add a row below the last; text that looks like a formula stays text (a string cell,
    shown as written: openpyxl alone would store "=..." as a formula)."""
    sheet.append([_number(value) for value in values])
    for cell in sheet[sheet.max_row]:
        if looks_like_formula(cell.value):
            cell.data_type = "s"
            cell.quotePrefix = True


def _csv_text(value):
    """A csv field: text that looks like a formula gets a leading ' (shown, never run)."""
    return "'" + value if looks_like_formula(value) else value


def _number(value):
    """A cell's value: decimals as numbers; text without the control characters an xlsx
    file cannot hold (a name may carry one; the sheet shows U+FFFD in its place)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return float(value) if hasattr(value, "as_tuple") else value


def _sheet_title(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name: at most 31 characters, none of []:*?/\\ ."""
    base = (re.sub(r"[\[\]:*?/\\]", "_", ILLEGAL_CHARACTERS_RE.sub("", title)).strip("'")
            or "-")[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def csv_bytes(data: dict, english: bool) -> bytes:
    """Long form: one line per person × rule, UTF-8 with BOM, a title line first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_csv_text(_title(data, english))])
    writer.writerow([("Rule" if english else "规则")] +
                    [en if english else zh for _, zh, en, _ in COLUMNS] +
                    [("As of" if english else "统计截至"), ("Calendar" if english else "日历")])
    for row in data["rows"]:
        for result in row["rules"]:
            cells = _cells(row, result, english)
            writer.writerow([_csv_text(value) for value in
                             [result["title"]] + [cells[key] for key, *_ in COLUMNS] +
                             [data["as_of"], _word(CALENDAR_KIND, result["calendar"], english)]])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(data: dict, kind: str, english: bool):
    """Send the roll-up as a file named after the unit and the as-of date."""
    stem = f"zaicun-{data.get('unit_code') or 'all'}-{data['as_of']}"
    if kind == "csv":
        return attachment(csv_bytes(data, english), f"{stem}.csv", "text/csv")
    return attachment(xlsx_bytes(data, english), f"{stem}.xlsx", XLSX_TYPE)


def attachment(content: bytes, name: str, mimetype: str):
    """A file download, ``no-store`` like every API answer: send_file's own ``no-cache``
    would let a shared browser or proxy keep the names and results on disk."""
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True,
                         download_name=name)
    response.headers["Cache-Control"] = "no-store"
    return response
