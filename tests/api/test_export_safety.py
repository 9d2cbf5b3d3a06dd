"""The compliance export never hands a spreadsheet a formula, and is never stored by a cache.

Names come from people: a display name, a unit's name, a row of an imported CSV. Any of them
may start with = + - @ (OWASP "CSV injection"); the xlsx keeps them as string cells (quote
prefix), the csv prefixes them with ', numbers stay numbers.
"""
from __future__ import annotations

import csv
import io
import re
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from server.progress.export import looks_like_formula
from tests.conftest import make_unit, make_user, token_for

FORMULA_NAMES = ["=1+1", '=HYPERLINK("http://x","y")', "@SUM(A1)", "+cmd", "-1+1"]
FORMULA_UNIT = '=HYPERLINK("http://evil.example","点此")'
IMPORTED_NAME = "=cmd|' /C calc'!A0"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX = "/api/v1/compliance/export?unit_code={code}&format=xlsx"
CSV = "/api/v1/compliance/export?unit_code={code}&format=csv"


@pytest.fixture
def formula_town(client, org):
    """A township named like a formula in 示范县, its cadres named like formulas, one of them
    brought in by a CSV import."""
    town = make_unit(code="341122109", name=FORMULA_UNIT, level="township",
                     parent_code="341122")
    for name in FORMULA_NAMES:
        make_user(town, name=name, role="cadre")
    out = io.StringIO()
    csv.writer(out).writerows([["username", "name", "role", "unit_code"],
                               ["imported.one", IMPORTED_NAME, "cadre", town.code]])
    response = client.post("/api/v1/imports/users", data=out.getvalue().encode("utf-8"),
                           content_type="text/csv; charset=utf-8",
                           headers=token_for(client, org.admin))
    assert response.status_code < 300, response.get_json()
    return town


def sheet_xml(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return {name: book.read(name).decode("utf-8") for name in book.namelist()
                if name.startswith("xl/worksheets/")}


def test_formula_text_is_never_a_formula_in_the_xlsx(client, org, formula_town):
    sup = token_for(client, org.supervisor)
    response = client.get(XLSX.format(code="341122"), headers=sup)
    assert response.status_code == 200
    for name, xml in sheet_xml(response.data).items():
        assert not re.search(r"<f[\s>/]", xml), f"{name} holds a formula"
    book = load_workbook(io.BytesIO(response.data))
    names, units = set(), set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate} = {cell.value!r}"
                if looks_like_formula(cell.value):
                    assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
        for row in sheet.iter_rows(min_row=3):
            units.add(row[0].value)
            names.add(row[1].value)
            assert row[3].data_type == "n" and isinstance(row[3].value, (int, float))
            assert row[4].data_type == "n" and isinstance(row[4].value, (int, float))
    assert set(FORMULA_NAMES) | {IMPORTED_NAME} <= names  # as written, as text
    assert FORMULA_UNIT in units


def test_the_xlsx_title_naming_a_formula_unit_is_text(client, org, formula_town):
    response = client.get(XLSX.format(code=formula_town.code),
                          headers=token_for(client, org.supervisor))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    assert sheet["A1"].value.startswith(FORMULA_UNIT)
    assert sheet["A1"].data_type == "s" and sheet["A1"].quotePrefix


def test_formula_text_is_quoted_in_the_csv(client, org, formula_town):
    for code in ("341122", formula_town.code):
        response = client.get(CSV.format(code=code), headers=token_for(client, org.supervisor))
        assert response.status_code == 200
        lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
        for line in lines:
            for field in line:
                assert not field.startswith(FORMULA_STARTS), field
        rows = lines[2:]
        names = {row[2] for row in rows}
        assert {"'" + name for name in FORMULA_NAMES + [IMPORTED_NAME]} <= names
        assert "'" + FORMULA_UNIT in {row[1] for row in rows}
        assert all(re.fullmatch(r"-?\d+(\.\d+)?", row[4]) for row in rows)  # actual: a number
    assert lines[0][0].startswith("'" + FORMULA_UNIT)  # the township's own title line


@pytest.mark.parametrize("value, formula", [
    ("=1+1", True), ("+cmd", True), ("-1+1", True), ("@SUM(A1)", True), ("\t=1", True),
    ("\r=1", True), ("张三", False), ("a=1", False), ("", False), (-1, False),
    (-1.5, False), (Decimal("-2.5"), False), (None, False),
])
def test_what_looks_like_a_formula(value, formula):
    assert looks_like_formula(value) is formula


@pytest.mark.parametrize("url", [XLSX, CSV])
def test_the_export_is_never_stored_by_a_cache(client, org, url):
    response = client.get(url.format(code="341122"), headers=token_for(client, org.supervisor))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
