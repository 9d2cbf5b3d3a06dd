"""Chinese throughout (issue 13, item 4): every error's ``message`` and every field error in
``errors`` is in the request's language, Chinese by default and English on request.

Driven by the OpenAPI document: for every operation with a JSON body, each field gets a
wrong-typed value, null, and, where the document bounds it, one out of bounds (nested fields
too); a body missing its required fields, one with an unknown field, one that is not an object,
one that is not JSON and one naming a field twice are sent as well. Every operation with query
parameters gets each one invalid. Then what only the services refuse (an absence ending before
it starts, a cadre placed in a county, …) and the CSV uploads' row errors. Asked in Chinese, no
answer may hold a Latin word but the names and values it echoes (field keys, the values sent,
the operation's enum values) and the names of a format (JSON, UTF-8); asked in English, no Han
character. The catalogue itself (``server/field_messages.py``) is checked against every
message marshmallow can give.
"""
from __future__ import annotations

import inspect
import io
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from marshmallow import ValidationError, validate
from marshmallow import fields as ma_fields

from server import TestConfig, create_app
from server.extensions import db
from server.field_messages import EXACT, PATTERNS, localize
from server.messages import MESSAGES
from tests.conftest import (
    PASSWORD,
    at,
    build_org,
    check_in_body,
    clear_tables,
    new_id,
    token_for,
    vars_of,
)

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
# Names of formats a Chinese answer may keep as they are spelled.
PROPER_NOUNS = {"JSON", "UTF"}
ZH, EN = {"Accept-Language": "zh-CN"}, {"Accept-Language": "en"}
LANGUAGES = pytest.mark.parametrize("language", [ZH, EN], ids=["zh", "en"])
METHODS = ("get", "post", "put", "patch", "delete")
SYNC_MAX_ROWS = 5  # a larger upload becomes an import job


def _document() -> dict:
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": "sqlite://"})
    return app.test_client().get("/api/v1/openapi.json").get_json()


DOC = _document()


def resolve(schema: dict) -> dict:
    """The schema a ``$ref`` (or a one-item ``allOf`` around one) points to."""
    if "allOf" in schema and len(schema["allOf"]) == 1:
        schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return {**DOC["components"]["schemas"][name],
                **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def words_in(*values) -> set[str]:
    """The Latin words of keys and strings, however deeply nested."""
    words: set[str] = set()
    for value in values:
        if isinstance(value, dict):
            words |= words_in(*value.keys(), *value.values())
        elif isinstance(value, (list, tuple, set)):
            words |= words_in(*value)
        elif value is not None:
            words.update(LATIN_WORD.findall(str(value)))
    return words


def operation_words(operation: dict) -> set[str]:
    """The names an answer about this operation may echo: its fields, parameters and the
    values of its enums (a message lists the choices; a rule names the other field)."""
    words: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            node = resolve(node)
            words.update(words_in(list(node.get("properties", {}))))
            words.update(words_in(node.get("enum", [])))
            if node.get("in") in ("query", "path", "header"):
                words.update(words_in(node["name"]))
            for key, value in node.items():
                if key not in ("description", "summary", "responses"):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk({k: v for k, v in operation.items() if k in ("parameters", "requestBody")})
    return words


def strings_of(errors):
    """Every string inside ``errors`` (dict keys are field names, and so left out); a CSV row
    error's ``column`` names a column."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            if not (key == "column" and "row" in errors):
                yield from strings_of(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from strings_of(value)
    elif isinstance(errors, str):
        yield errors


def foreign_words(body: dict, english: bool, echoed: set[str] = frozenset()) -> list[str]:
    """What in ``message`` and ``errors`` is not in the asked language. A Chinese text may hold
    the field keys of ``errors``, the words ``echoed`` (sent, or named by the operation) and the
    names of formats; nothing else Latin."""
    texts = [body.get("message", ""), *strings_of(body.get("errors"))]
    if english:
        return [t for t in texts if HAN.search(t)]
    allowed = PROPER_NOUNS | set(echoed) | keys_of(body.get("errors"))
    return [t for t in texts if set(LATIN_WORD.findall(t)) - allowed]


def keys_of(errors) -> set[str]:
    if isinstance(errors, dict):
        return words_in(list(errors)) | {w for v in errors.values() for w in keys_of(v)}
    if isinstance(errors, list):
        return {w for v in errors for w in keys_of(v)}
    return set()


# --- every operation, every field: what the schemas refuse ----------------------------------

@dataclass
class Bad:
    """One refused request: what it is, and a JSON body, raw bytes or a query string."""
    what: str
    json: object = None
    raw: str | None = None
    query: dict | None = None


def invalid_values(schema: dict) -> list[tuple[str, object]]:
    """``(what, value)``: wrong-typed values for ``schema`` and ones out of its bounds."""
    schema = resolve(schema)
    kind, fmt = schema.get("type"), schema.get("format")
    cases: list[tuple[str, object]] = []
    if not schema.get("nullable") and kind != "array":
        cases.append(("null", None))
    if kind == "string":
        cases += [("a number for a string", 12345), ("a list for a string", ["x"])]
        if fmt == "date":
            cases += [("a date with slashes", "2026/01/01"), ("a date too early", "1999-12-31"),
                      ("a day that is not", "2026-02-30")]
        elif fmt == "date-time":
            cases += [("a time without offset", "2026-01-01 08:00"),
                      ("a time too early", "1900-01-01T00:00:00+08:00")]
        elif fmt == "uuid":
            cases.append(("a uuid of the wrong shape", "123"))
        elif not fmt:
            cases.append(("a NUL in the text", "a\u0000b"))
        if "enum" in schema:
            cases.append(("a value outside the enum", "x1"))
        if "pattern" in schema:
            cases.append(("a value not matching the pattern", "!"))
        if "maxLength" in schema:
            cases.append(("a text too long", "x" * (schema["maxLength"] + 1)))
        if schema.get("minLength"):
            cases.append(("an empty text", ""))
        return cases
    if kind in ("integer", "number"):
        cases += [("a string for a number", "12a"), ("a boolean for a number", True)]
        if kind == "integer":
            cases.append(("a fraction for an integer", 1.5))
        if "maximum" in schema:
            cases.append(("a number too large", schema["maximum"] + 1))
        if "minimum" in schema:
            cases.append(("a number too small", schema["minimum"] - 1))
        return cases
    if kind == "boolean":
        return cases + [("a string for a boolean", "yes"), ("a number for a boolean", 1)]
    if kind == "array":
        cases += [("a string for a list", "x"), ("null for a list", None)]
        if schema.get("minItems"):
            cases.append(("an empty list", []))
        if "maxItems" in schema:
            cases.append(("a list too long", ["x"] * (schema["maxItems"] + 1)))
        cases += [(f"a list item: {what}", [value])
                  for what, value in invalid_values(schema.get("items", {}))]
        return cases
    if kind == "object" or "properties" in schema:
        return cases + [("a number for an object", 5), ("an unknown nested field", {"zz": 1})] + [
            (f"{name}: {what}", {name: value})
            for name, prop in schema.get("properties", {}).items()
            for what, value in invalid_values(prop)]
    return cases


def body_cases(schema: dict) -> list[Bad]:
    """Bodies to refuse: missing required fields, an unknown field, not an object, not JSON, a
    field twice, and each field invalid in each way its type can be."""
    schema = resolve(schema)
    cases = [Bad("an unknown field", json={"no_such_field": 1}),
             Bad("a list for the body", json=[]), Bad("a number for the body", json=7),
             Bad("a body that is not JSON", raw='{"a": '),
             Bad("a field given twice", raw='{"zz": 1, "zz": 2}')]
    if schema.get("required"):
        cases.append(Bad("no fields at all", json={}))
    for name, prop in schema.get("properties", {}).items():
        cases += [Bad(f"{name}: {what}", json={name: value}) for what, value in
                  invalid_values(prop)]
    return cases


def query_cases(parameters: list[dict]) -> list[Bad]:
    """Query strings to refuse: each parameter given a value its schema does not take (any
    value is a string there: a number is no wrong type for a string parameter)."""
    cases = []
    for parameter in parameters:
        if parameter["in"] != "query":
            continue
        for what, value in invalid_values(parameter["schema"]):
            if isinstance(value, str) or type(value) in (int, float) and "string" not in what:
                cases.append(Bad(f"{parameter['name']}: {what}",
                                 query={parameter["name"]: str(value)}))
    return cases


def json_body(operation: dict) -> dict | None:
    return operation.get("requestBody", {}).get("content", {}).get("application/json")


OPERATIONS = [(method.upper(), path, operation) for path, item in DOC["paths"].items()
              for method, operation in item.items() if method in METHODS
              and (json_body(operation) or any(p["in"] == "query"
                                               for p in operation.get("parameters", [])))]


def role_for(path: str) -> str:
    """Who may call it: a supervisor reviews, a cadre records, a root admin does the rest."""
    if path.endswith("/review"):
        return "supervisor"
    if path.startswith(("/api/v1/visits", "/api/v1/reports", "/api/v1/absences",
                        "/api/v1/compliance/me")):
        return "cadre"
    return "root"


@dataclass
class World:
    client: object
    org: object
    tokens: dict
    open_visit: dict = field(default_factory=dict)


ROLES = ("root", "admin", "cadre", "secretary", "supervisor")


@pytest.fixture(scope="module")
def world(db_url):
    """One app, one organisation, one token per role and an open visit of the secretary's for
    the whole module (every request of it is refused, so nothing else is stored)."""
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": db_url,
                      "IMPORT_SYNC_MAX_ROWS": SYNC_MAX_ROWS})
    with app.app_context():
        org = build_org()
        client = app.test_client()
        tokens = {role: token_for(client, getattr(org, role)) for role in ROLES}
        response = client.post("/api/v1/visits", headers=tokens["secretary"],
                               json=check_in_body(org.village, hours_ago=1))
        assert response.status_code == 201, response.get_json()
        yield World(client, org, tokens, response.get_json())
        db.session.remove()
        clear_tables()
        db.engine.dispose()


def concrete(path: str, org, **values) -> str:
    """The path with its parameters filled in (a body is refused before they are looked up):
    the cadre's, the first village, a visit that is not, unless ``values`` says otherwise."""
    values = {"code": org.village.code, "user_id": org.cadre.id, "year": 2026,
              "ref": "6f1c2d4e-0a1b-4c2d-8e3f-123456789abc", "report_id": 1,
              "absence_id": 1, "post_id": 1, "item_id": 1, "unit_code": org.county.code,
              "closing_id": 1, **values}
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), path)


def send(world: World, method: str, path: str, role: str | None, language: dict, bad: Bad,
         headers: dict | None = None):
    headers = {**language, **(world.tokens[role] if role else {}), **(headers or {})}
    if bad.raw is not None:
        return world.client.open(path, method=method, data=bad.raw, headers=headers,
                                 content_type="application/json")
    return world.client.open(path, method=method, json=bad.json, query_string=bad.query,
                             headers=headers)


@LANGUAGES
@pytest.mark.parametrize("method, path, operation", OPERATIONS,
                         ids=[f"{m} {p.removeprefix('/api/v1')}" for m, p, _ in OPERATIONS])
def test_every_refusal_of_bad_input_speaks_the_asked_language(world, method, path, operation,
                                                              language):
    english = language is EN
    role = None if path == "/api/v1/auth/login" else role_for(path)
    content = json_body(operation)
    cases = body_cases(content["schema"]) if content else []
    cases += query_cases(operation.get("parameters", []))
    known = operation_words(operation)
    wrong = []
    for bad in cases:
        response = send(world, method, concrete(path, world.org), role, language, bad)
        answer = response.get_json()
        assert response.status_code in (400, 422), (bad.what, response.status_code, answer)
        assert answer["code"] and answer["message"], (bad.what, answer)
        foreign = foreign_words(answer, english, known | words_in(bad.json, bad.query))
        if foreign:
            wrong.append((bad.what, foreign))
    assert not wrong, wrong


# --- what only the services refuse ----------------------------------------------------------

def _after_today(days: int = 2) -> str:
    """A day after today wherever the service's time zone is (UTC+14 at most)."""
    return (date.today() + timedelta(days=days)).isoformat()


CALENDAR_OK = "date,kind\n2026-01-01,holiday\n"

# (what, role, method, path(org), request(org, world) → keywords of send, status, code,
#  {field: the Chinese field error} or None to leave the fields unchecked)
SERVICE_REFUSALS = [
    ("an absence that ends before it starts", "supervisor", "POST", "/api/v1/absences",
     lambda o, w: {"json": {"user_id": o.cadre.id, "start": "2026-01-06", "end": "2026-01-05",
                            "kind": "leave"}},
     422, "invalid_input", {"end": ["早于开始日期。"]}),
    ("a cadre placed in a county", "root", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "newcadre", "password": PASSWORD, "name": "某人",
                            "role": "cadre", "unit_code": o.county.code}},
     422, "unit_not_township", {"unit_code": ["须为乡镇。"]}),
    ("a supervisor with no unit", "root", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "newsup", "password": PASSWORD, "name": "某人",
                            "role": "supervisor"}},
     422, "unit_required", {"unit_code": ["必填。"]}),
    ("a person in an unknown unit", "root", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "newcadre", "password": PASSWORD, "name": "某人",
                            "role": "cadre", "unit_code": "999999999"}},
     422, "unknown_unit", {"unit_code": ["不存在。"]}),
    ("a person in a unit out of scope", "admin", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "newcadre", "password": PASSWORD, "name": "某人",
                            "role": "cadre", "unit_code": o.other_town.code}},
     403, "out_of_scope", {"unit_code": ["不在您的管辖范围内。"]}),
    ("a username taken", "root", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "cadre", "password": PASSWORD, "name": "某人",
                            "role": "cadre", "unit_code": o.town.code}},
     409, "duplicate", {"username": ["已存在。"]}),
    ("a weak password for a new person", "root", "POST", "/api/v1/users",
     lambda o, w: {"json": {"username": "newcadre", "password": "newcadre", "name": "某人",
                            "role": "cadre", "unit_code": o.town.code}},
     422, "weak_password", {"password": [MESSAGES["weak_password"][0]]}),
    ("a village in a county", "root", "POST", "/api/v1/villages",
     lambda o, w: {"json": {"code": "341122100299", "name": "新村", "township_code": o.county.code,
                            "lat": 32.3, "lon": 118.3}},
     422, "unit_not_township", {"township_code": ["不是乡镇。"]}),
    ("a village code taken", "root", "POST", "/api/v1/villages",
     lambda o, w: {"json": {"code": o.village.code, "name": "新村", "township_code": o.town.code,
                            "lat": 32.3, "lon": 118.3}},
     409, "duplicate", {"code": ["已存在。"]}),
    ("a village moved by its latitude alone", "root", "PATCH", "/api/v1/villages/{code}",
     lambda o, w: {"json": {"lat": 32.0}},
     422, "invalid_input", {"lon": ["lat 与 lon 须一起修改。"]}),
    ("a county under a township", "root", "POST", "/api/v1/units",
     lambda o, w: {"json": {"code": "X99", "name": "某县", "level": "county",
                            "parent_code": o.town.code}},
     422, "bad_parent", {"parent_code": ["上级单位层级不正确。"]}),
    ("a person active until before they start", "root", "PATCH", "/api/v1/users/{user_id}",
     lambda o, w: {"json": {"active_from": "2026-02-01", "active_until": "2026-01-01"}},
     422, "invalid_input", {"active_until": ["早于 active_from。"]}),
    ("a village of another township linked", "root", "PUT",
     "/api/v1/users/{user_id}/linked-villages",
     lambda o, w: {"json": {"village_codes": [o.village2.code]}},
     422, "linked_village_outside_township", {"village_codes.0": ["不在该乡镇。"]}),
    ("villages linked to a supervisor", "root", "PUT", "/api/v1/users/{user_id}/linked-villages",
     lambda o, w: {"json": {"village_codes": [o.village.code]},
                   "path": {"user_id": o.supervisor.id}},
     422, "not_field_user", None),
    ("an unknown village linked", "root", "PUT", "/api/v1/users/{user_id}/linked-villages",
     lambda o, w: {"json": {"village_codes": ["999999999999"]}},
     422, "unknown_village", {"village_codes.0": ["不存在。"]}),
    ("a check-in in another township", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village2)},
     422, "village_outside_township", {"village_code": ["不在您所在的乡镇。"]}),
    ("a check-in in the future", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village, hours_ago=-2)},
     422, "time_in_future", None),
    ("a check-out before the check-in", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village, hours_ago=2, check_out={"at": at(3)})},
     422, "checkout_before_checkin", {"check_out": ["早于签到时间。"]}),
    ("an unknown activity", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village, activity="no_such_activity")},
     422, "invalid_input", {"activity": ["未知的工作内容。"]}),
    ("an unreadable device clock", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village), "headers": {"X-Client-Time": "yesterday"}},
     400, "invalid_client_time", None),
    ("a device clock that puts the check-in before 2000", "cadre", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village),
                   "headers": {"X-Client-Time": "2100-12-31T00:00:00+08:00"}},
     422, "invalid_input", None),
    ("a second open visit", "secretary", "POST", "/api/v1/visits",
     lambda o, w: {"json": check_in_body(o.village)},
     409, "visit_open", None),
    ("approving an open visit", "supervisor", "POST", "/api/v1/visits/{ref}/review",
     lambda o, w: {"json": {"decision": "approve"}, "path": {"ref": w.open_visit["id"]}},
     409, "cannot_review", None),
    ("rejecting without a comment", "supervisor", "POST", "/api/v1/visits/{ref}/review",
     lambda o, w: {"json": {"decision": "reject"}, "path": {"ref": w.open_visit["id"]}},
     422, "comment_required", {"comment": ["必填。"]}),
    ("a report dated days ahead", "secretary", "POST", "/api/v1/reports",
     lambda o, w: {"json": {"client_id": new_id(), "reported_on": _after_today(), "title": "汇报"}},
     422, "date_in_future", {"reported_on": ["晚于当前时间。"]}),
    ("compliance as of a day to come", "cadre", "GET", "/api/v1/compliance/me",
     lambda o, w: {"query_string": {"as_of": _after_today()}},
     422, "as_of_future", {"as_of": ["不能晚于今天。"]}),
    ("compliance as of a day outside the year", "cadre", "GET", "/api/v1/compliance/me",
     lambda o, w: {"query_string": {"year": "2025", "as_of": "2026-01-05"}},
     422, "as_of_outside_year", {"as_of": ["不在所选年度内。"]}),
    ("an opening balance of 0.3 village days", "root", "PUT",
     "/api/v1/users/{user_id}/opening-balance/{year}",
     lambda o, w: {"json": {"village_days": 0.3, "reports": 0}},
     422, "invalid_input", {"village_days": ["须为 0.5 的倍数。"]}),
    ("a calendar for a township", "root", "PUT", "/api/v1/calendars/{year}",
     lambda o, w: {"query_string": {"unit_code": o.town.code}, "data": CALENDAR_OK.encode(),
                   "content_type": "text/csv"},
     422, "unit_not_county", {"unit_code": ["不是县（区）。"]}),
    ("a wrong current password", "cadre", "POST", "/api/v1/me/password",
     lambda o, w: {"json": {"old_password": "wrong-horse-9", "new_password": "another-horse-2"}},
     422, "wrong_password", {"old_password": [MESSAGES["wrong_password"][0]]}),
    ("a new password that is the old one", "cadre", "POST", "/api/v1/me/password",
     lambda o, w: {"json": {"old_password": PASSWORD, "new_password": PASSWORD}},
     422, "weak_password", {"new_password": ["新密码不能与原密码相同。"]}),
    ("a login naming the username twice", None, "POST", "/api/v1/auth/login",
     lambda o, w: {"data": '{"username": "a", "username": "b", "password": "x"}',
                   "content_type": "application/json"},
     400, "duplicate_key", {"username": ["重复的字段。"]}),
    ("a login holding NUL", None, "POST", "/api/v1/auth/login",
     lambda o, w: {"json": {"username": "a\u0000b", "password": "x"}},
     422, "nul_character", None),
]


@LANGUAGES
@pytest.mark.parametrize("what, role, method, path, request_of, status, code, expected",
                         SERVICE_REFUSALS, ids=[case[0] for case in SERVICE_REFUSALS])
def test_what_the_services_refuse_is_said_in_the_asked_language(
        world, what, role, method, path, request_of, status, code, expected, language):
    kwargs = request_of(world.org, world)
    sent_headers = kwargs.pop("headers", {})
    headers = {**language, **(world.tokens[role] if role else {}), **sent_headers}
    response = world.client.open(concrete(path, world.org, **kwargs.pop("path", {})),
                                 method=method, headers=headers, **kwargs)
    body = response.get_json()
    assert (response.status_code, body.get("code")) == (status, code), body
    english = language is EN
    echoed = operation_words(DOC["paths"][path][method.lower()]) | words_in(
        kwargs, sent_headers, world.open_visit["client_id"])
    assert not foreign_words(body, english, echoed), body
    if expected is not None:
        assert list(body["errors"]) == list(expected), body
        if not english:
            assert body["errors"] == expected


# --- CSV uploads: row errors ------------------------------------------------------------------

VILLAGES = "code,name,township_code,lat,lon"
USERS = "username,name,role,unit_code,active_from,active_until,village_codes"
VILLAGE_ROW = "341122100301,甲村,341122100,32.1,118.1"

# (what, upload path, the file, [(row, column, the Chinese message)])
CSV_REFUSALS = [
    ("a missing column", "/api/v1/imports/villages",
     "code,name,township_code,lat\n341122100301,甲村,341122100,32.1\n",
     [(1, "lon", "缺少该列。")]),
    ("an unknown column", "/api/v1/imports/villages",
     f"{VILLAGES},colour\n{VILLAGE_ROW},red\n", [(1, "colour", "未知的列。")]),
    ("a column given twice", "/api/v1/imports/villages",
     f"{VILLAGES},code\n{VILLAGE_ROW},341122100302\n", [(1, "code", "该列出现了 2 次。")]),
    ("a row longer than the header", "/api/v1/imports/villages",
     f"{VILLAGES}\n{VILLAGE_ROW},1000,wgs84\n", [(2, "", "字段数多于表头（7 > 5）。")]),
    ("a latitude that is no number", "/api/v1/imports/villages",
     f"{VILLAGES}\n{VILLAGE_ROW}\n341122100302,乙村,341122100,north,118.1\n",
     [(3, "lat", "须为数字。")]),
    ("a latitude out of range", "/api/v1/imports/villages",
     f"{VILLAGES}\n341122100301,甲村,341122100,95,118.1\n",
     [(2, "lat", "须不小于 -90，且不大于 90。")]),
    ("a village code of the wrong shape", "/api/v1/imports/villages",
     f"{VILLAGES}\n12,甲村,341122100,32.1,118.1\n", [(2, "code", "须为 12 位数字。")]),
    ("a coordinate system not known", "/api/v1/imports/villages",
     f"{VILLAGES},crs\n{VILLAGE_ROW},mars\n", [(2, "crs", "须为以下之一：wgs84、gcj02。")]),
    ("a name left empty", "/api/v1/imports/villages",
     f"{VILLAGES}\n341122100301,,341122100,32.1,118.1\n", [(2, "name", "必填。")]),
    ("a village placed in a county", "/api/v1/imports/villages",
     f"{VILLAGES}\n341122100301,甲村,341122,32.1,118.1\n",
     [(2, "township_code", "单位 341122 不是乡镇。")]),
    ("a village code given twice", "/api/v1/imports/villages",
     f"{VILLAGES}\n{VILLAGE_ROW}\n{VILLAGE_ROW}\n",
     [(3, "code", "村已存在：341122100301")]),
    ("a file that is not UTF-8", "/api/v1/imports/villages",
     b"code,name\n\xff\xfe\n", [(0, "", "文件不是 UTF-8 编码。")]),
    ("a file holding NUL", "/api/v1/imports/villages",
     "code\x00,name\n", [(0, "", "文件含有空字符（U+0000）。")]),
    ("a role not known", "/api/v1/imports/users", f"{USERS}\nnewone,某人,boss,341122100,,,\n",
     [(2, "role", "须为以下之一：cadre、secretary、supervisor、admin。")]),
    ("a username with a space", "/api/v1/imports/users",
     f"{USERS}\nnew one,某人,cadre,341122100,,,\n",
     [(2, "username", "只能含字母、数字和 . _ - @。")]),
    ("a username too short", "/api/v1/imports/users", f"{USERS}\nx,某人,cadre,341122100,,,\n",
     [(2, "username", "须为 2–64 个字符。")]),
    ("a cadre placed in a county", "/api/v1/imports/users",
     f"{USERS}\nnewone,某人,cadre,341122,,,\n", [(2, "unit_code", "单位 341122 不是乡镇。")]),
    ("a date with slashes", "/api/v1/imports/users",
     f"{USERS}\nnewone,某人,cadre,341122100,2026/01/01,,\n",
     [(2, "active_from", "日期须写作 2026-03-01 这样的格式。")]),
    ("active until before active from", "/api/v1/imports/users",
     f"{USERS}\nnewone,某人,cadre,341122100,2026-02-01,2026-01-01,\n",
     [(2, "active_until", "不能早于 active_from。")]),
    ("a village of another township", "/api/v1/imports/users",
     f"{USERS}\nnewone,某人,cadre,341122100,,,341122101201\n",
     [(2, "village_codes", "村 341122101201 不在该人员所在的乡镇。")]),
    ("a calendar day of no known kind", "/api/v1/calendars/2026?unit_code=341122",
     "date,kind\n2026-01-01,holiday\n2026-02-14,work\n",
     [(3, "kind", "须为 holiday（放假）或 workday（调休上班）。")]),
    ("a calendar date with slashes", "/api/v1/calendars/2026?unit_code=341122",
     "date,kind\n2026/01/01,holiday\n",
     [(2, "date", "不是有效日期（应写作 2026-01-01 这样的格式）。")]),
    ("a calendar date of another year", "/api/v1/calendars/2026?unit_code=341122",
     "date,kind\n2025-12-31,holiday\n", [(2, "date", "不在 2026 年内。")]),
    ("a calendar day without its kind", "/api/v1/calendars/2026?unit_code=341122",
     "date,kind\n2026-01-01\n", [(2, "kind", "缺少该项。")]),
    ("a calendar without dates", "/api/v1/calendars/2026?unit_code=341122",
     "date,kind\n", [(1, "date", "文件中没有日期。")]),
]
CALENDAR_KINDS = {"holiday", "workday"}  # what a calendar file's rows must spell
# The schema each row of an import goes through, whose enum values a row error may list.
ROW_SCHEMAS = {"/api/v1/imports/villages": "VillageCreate", "/api/v1/imports/users": "UserCreate"}


def schema_words(name: str | None) -> set[str]:
    if name is None:
        return set()
    return operation_words({"requestBody": {"$ref": f"#/components/schemas/{name}"}})


def upload(world: World, path: str, text: str | bytes, language: dict, multipart=False):
    data = text.encode() if isinstance(text, str) else text
    method = "PUT" if "/calendars/" in path else "POST"
    if multipart:
        return world.client.open(path, method=method, headers={**world.tokens["root"],
                                                               **language},
                                 data={"file": (io.BytesIO(data), "file.csv")},
                                 content_type="multipart/form-data")
    return world.client.open(path, method=method, data=data, content_type="text/csv",
                             headers={**world.tokens["root"], **language})


@LANGUAGES
@pytest.mark.parametrize("what, path, text, expected", CSV_REFUSALS,
                         ids=[case[0] for case in CSV_REFUSALS])
def test_a_csv_files_row_errors_are_said_in_the_asked_language(world, what, path, text,
                                                               expected, language):
    response = upload(world, path, text, language, multipart=language is EN)
    body = response.get_json()
    assert response.status_code == 422, body
    rows = body["errors"]["rows"]
    assert [(r["row"], r["column"]) for r in rows] == [(row, col) for row, col, _ in expected]
    english = language is EN
    if not english:
        assert [r["message"] for r in rows] == [message for _, _, message in expected]
    echoed = words_in(text if isinstance(text, str) else "") | CALENDAR_KINDS | schema_words(
        ROW_SCHEMAS.get(path.split("?")[0]))
    assert not foreign_words(body, english, echoed), body


@LANGUAGES
def test_an_import_job_names_its_bad_rows_in_the_language_it_was_asked_in(world, language):
    rows = [f"3411221003{i:02d},村{i},341122100,32.{i},118.{i}" for i in range(SYNC_MAX_ROWS + 1)]
    rows[3] = rows[3].replace(",32.3,", ",north,")
    response = upload(world, "/api/v1/imports/villages", f"{VILLAGES}\n" + "\n".join(rows),
                      language)
    assert response.status_code == 202, response.get_json()
    deadline = time.monotonic() + 30
    while (job := world.client.get(response.headers["Location"], headers={
            **world.tokens["root"], **language}).get_json())["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    error = job["error"]
    assert (job["status"], error["code"]) == ("failed", "csv_invalid"), job
    assert [(r["row"], r["column"]) for r in error["errors"]["rows"]] == [(5, "lat")]
    assert error["errors"]["rows"][0]["message"] == ("Not a valid number." if language is EN
                                                     else "须为数字。")
    assert not foreign_words(error, language is EN)


# --- the catalogue ----------------------------------------------------------------------------

# Sample parameters for marshmallow's message templates, and the words they bring.
SAMPLE = {"input": "12a", "choices": "leave, training", "values": "leave, training",
          "other": "leave"}
SAMPLE_WORDS = words_in(SAMPLE)


def marshmallow_messages() -> list[str]:
    """Every message marshmallow's fields and validators give, filled in."""
    texts = set()
    for _, cls in inspect.getmembers(ma_fields, inspect.isclass):
        for template in getattr(cls, "default_error_messages", {}).values():
            for obj_type in ("datetime", "date", "time"):
                for awareness in ("aware", "naive"):
                    texts.add(template.format(**SAMPLE, obj_type=obj_type, awareness=awareness))
    refusals = [
        (validate.Length(min=2, max=5), "x"), (validate.Length(equal=3), "x"),
        (validate.Length(max=1), "xx"), (validate.Length(min=3), "x"),
        (validate.Range(min=-90, max=90), 95), (validate.Range(min=1), 0),
        (validate.Range(max=1), 5), (validate.Range(0, 1, min_inclusive=False,
                                                     max_inclusive=False), 5),
        (validate.Range(min=date(2000, 1, 1)), date(1999, 1, 1)),
        (validate.OneOf(["leave", "training"]), "x"), (validate.Equal("leave"), "x"),
        (validate.ContainsOnly(["leave", "training"]), ["x"]),
        (validate.ContainsNoneOf(["leave", "training"]), ["leave"]),
        (validate.NoneOf(["leave"]), "leave"), (validate.Regexp("^a$"), "b"),
        (validate.Email(), "x"), (validate.URL(), "x"), (validate.Predicate("isdigit"), "x"),
    ]
    for validator, value in refusals:
        with pytest.raises(ValidationError) as refused:
            validator(value)
        texts.update(refused.value.messages)
    return sorted(texts)


@pytest.mark.parametrize("text", marshmallow_messages())
def test_every_message_marshmallow_gives_is_in_the_catalogue(text):
    chinese = localize(text, english=False)
    assert HAN.search(chinese) and not set(LATIN_WORD.findall(chinese)) - SAMPLE_WORDS, chinese
    assert localize(text, english=True) == text  # marshmallow's English is kept


# The keys and values the catalogue's Chinese texts name.
NAMED = words_in("lat lon active_from unit_code user_id client_id as_of X-Client-Time") | \
    CALENDAR_KINDS | PROPER_NOUNS


@pytest.mark.parametrize("source, zh, en", [
    *((source, zh, en) for source, (zh, en) in EXACT.items()),
    *((code, zh, en) for code, (zh, en) in MESSAGES.items())])
def test_each_catalogue_entry_is_chinese_and_english_and_says_itself_again(source, zh, en):
    assert not set(LATIN_WORD.findall(re.sub(r"\{\w+\}", "", zh))) - NAMED, zh
    assert HAN.search(zh) and not HAN.search(en)
    assert localize(zh, english=False) == zh and localize(en, english=True) == en


def test_each_pattern_of_the_catalogue_is_chinese():
    for _pattern, zh, en in PATTERNS:
        assert HAN.search(zh) and not set(LATIN_WORD.findall(re.sub(r"\{\w+\}", "", zh))), zh
        assert en is None or not HAN.search(en)
