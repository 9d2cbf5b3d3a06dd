"""Fuzzing: schemathesis against our own OpenAPI document, in process, as every role.

Every operation of ``/api/v1/openapi.json`` is called by schemathesis' coverage phase (boundary
values, every required part left out, wrong types, methods the path does not take) and by a
bounded number of generated examples (``ZAICUN_FUZZ_EXAMPLES``, default 10), once as each role.
Every response must be a documented status with a body that matches its documented schema
(the error shape included), never a 5xx, with ``Allow`` on a 405; input that breaks the
document must be refused, input that keeps to it must be accepted unless a domain rule refuses
it (see ``CONFIG``). README "Fuzzing" says what this covers and what it does not.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import sys
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import SimpleNamespace
from typing import ClassVar
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, Integer, String, Text, delete, event, func, select, update
from sqlalchemy.sql import visitors
from sqlalchemy.sql.dml import ValuesBase
from sqlalchemy.sql.elements import BindParameter

from server import TestConfig, create_app
from server.auth.models import LoginAttempt, User
from server.auth.passwords import hash_password
from server.auth.services import issue_token, user_for_token
from server.auth.usernames import UsernameInvalid, clean_username
from server.closing.models import Closing
from server.extensions import db
from server.field_messages import localize
from server.org.imports import POST_COLUMNS, USER_COLUMNS, VILLAGE_COLUMNS
from server.org.models import Post
from server.schemas import BLANK, SERVICE_YEARS, TEXT_REFUSED
from server.visits.models import Visit
from tests.conftest import PASSWORD, at, build_org, check_in_body, clear_tables, token_for, vars_of
from tests.hostile_text import (
    CANONICAL,
    FORMULAS,
    Literal,
    mutations,
    text_problems,
    unstorable,
    username_problems,
)

EXAMPLES = int(os.environ.get("ZAICUN_FUZZ_EXAMPLES", "10"))
ROLES = ("cadre", "secretary", "supervisor", "admin")
ACCOUNT = ("role", "unit_id", "active", "active_from", "active_until", "must_change_password",
           "several_posts", "post_changes_on")


def restore_posts(user_id: int, as_made: dict) -> None:
    """The account's one post as made (a case may have moved, promoted or ended it)."""
    posts = db.session.scalars(select(Post).where(Post.user_id == user_id)
                               .order_by(Post.id)).all()
    for extra in posts[1:]:
        db.session.delete(extra)
    first = posts[0]
    first.unit_id, first.role = as_made["unit_id"], as_made["role"]
    first.starts_on, first.ends_on = as_made["active_from"], as_made["active_until"]

# Statuses that are right although a schema-only view of the API would call them wrong.
CONFIG = {
    # Hypothesis' health checks would stop an operation whose bodies are slow to draw (big CSV
    # uploads, nested visits); the example budget bounds the time instead.
    "suppress-health-check": ["all"],
    # No example database: each run draws afresh; what a run once found is pinned down by a
    # plain test in test_security.py.
    "generation": {"max-examples": EXAMPLES, "mode": "all", "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "checks": {
        # Input that keeps to the document is still refused when the service's rules say so,
        # and OpenAPI cannot say those rules: an unknown or out-of-township village (422), a
        # check-out before its check-in or a time in the future (422), lat without lon (422),
        # as_of outside the year (422), a weak password (422); a role that may not act or a
        # person out of scope (403); an id that names nothing the caller may see (404); a
        # client_id already used for something else, a visit already closed (409). Schemathesis'
        # default also lets 401, 429 and any 5xx pass here; we do not: the caller's token is
        # good and no 5xx is ever right.
        "positive_data_acceptance": {"expected-statuses": ["2xx", "403", "404", "409", "422"]},
        # Input that breaks the document is refused: 400/422 (the body or a query argument),
        # 404 (a path parameter that routes nowhere, e.g. an id beyond INTEGER), 405, 413, and
        # 401 when the case leaves the token out. A role that may not call an operation at all
        # is refused with 403 before an upload or an optional-only body is looked at.
        "negative_data_rejection": {"expected-statuses": ["400", "401", "403", "404", "405",
                                                          "413", "422"]},
    },
    "operations": [{
        # Logging in with made-up credentials is rightly 401, and repeated failures for one
        # username rightly lock it (429); a username holding U+0000 is refused (422).
        "include-path": "/api/v1/auth/login",
        "checks": {"positive_data_acceptance": {"expected-statuses": ["200", "401", "422",
                                                                      "429"]}},
    }],
}


def _spec_app():
    """An app only for reading the document at collection (no database is touched)."""
    return create_app({**vars_of(TestConfig), "DATABASE_URL": "sqlite://"})


schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", _spec_app(),
                                        config=schemathesis.Config.from_dict(CONFIG))

# Values that exist in the module's database, keyed by the name of the path parameter, query
# argument or body field that takes them. Schema-valid cases sometimes get one, so requests
# reach past "not found" into the services.
KNOWN: dict[str, list] = {}


@schema.hook
def flatmap_case(context, case):
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return st.just(case)  # a known value could make an invalid case valid
    slots = [(where, name) for where in ("path_parameters", "query", "body")
             if isinstance(getattr(case, where), dict)
             for name in getattr(case, where) if KNOWN.get(name)]
    if not slots:
        return st.just(case)
    return st.one_of(st.just(case), st.sampled_from(slots).flatmap(
        lambda slot: st.sampled_from(KNOWN[slot[1]]).map(
            lambda value: _with_value(case, slot, value))))


def _with_value(case, slot, value):
    where, name = slot
    derived = case.derive(keep_auth=True)
    getattr(derived, where)[name] = value
    return derived


# The credentials of the role under test. Schemathesis puts a placeholder wherever a case
# carries credentials (some cases are built at collection, before any database exists; cases
# meant to go without get none), and the test swaps in a live token of the role.
PLACEHOLDER = "role-under-test"


@schema.auth(refresh_interval=None)
class RoleToken:
    def get(self, case, context):
        return PLACEHOLDER

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture(scope="module")
def world(db_url, tmp_path_factory):
    """One app and one organisation for the whole module, with a visit, a report, an absence;
    and each role's account as made, to restore before every case."""
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": db_url})
    app.instance_path = str(tmp_path_factory.mktemp("fuzz"))
    with app.app_context():
        org = build_org()
        accounts = {role: {name: getattr(getattr(org, role), name) for name in ACCOUNT}
                    for role in ROLES}  # before any case changes them
        KNOWN.update(known_values(app.test_client(), org))
        yield app, org, accounts
        KNOWN.clear()
        db.session.remove()
        clear_tables()
        db.engine.dispose()


def known_values(client, org) -> dict[str, list]:
    cadre, secretary = token_for(client, org.cadre), token_for(client, org.secretary)
    supervisor = token_for(client, org.supervisor)
    closed = client.post("/api/v1/visits", headers=cadre, json=check_in_body(
        org.village, hours_ago=5, check_out={"at": at(1)})).get_json()
    opened = client.post("/api/v1/visits", headers=secretary,
                         json=check_in_body(org.village, hours_ago=1)).get_json()
    report = client.post("/api/v1/reports", headers=secretary, json={
        "client_id": closed["client_id"], "reported_on": "2026-01-05", "title": "专题汇报"}
    ).get_json()
    absence = client.post("/api/v1/absences", headers=supervisor, json={
        "user_id": org.cadre.id, "start": "2026-01-05", "end": "2026-01-06", "kind": "leave"}
    ).get_json()
    people = [org.cadre, org.secretary, org.colleague, org.other_cadre, org.supervisor, org.admin]
    return {
        "ref": [str(closed["id"]), closed["client_id"], str(opened["id"]), opened["client_id"]],
        "ids": [[closed["id"]], [closed["id"], opened["id"]]],
        "user_id": [p.id for p in people],
        "report_id": [report["id"]], "absence_id": [absence["id"]],
        "code": [org.village.code, org.village2.code, org.other_village.code],
        "village_code": [org.village.code, org.village_b.code, org.other_village.code],
        "unit_code": [org.town.code, org.county.code, org.other_town.code],
        "township_code": [org.town.code, org.other_town.code],
        "parent_code": [org.county.code, org.town.code],
    }


@pytest.fixture(params=ROLES)
def actor(request, world):
    """A live token of the role for every case, its account as the module made it.

    A case may log the token out, deactivate or demote its own account or another role's (an
    admin's case), or reset a password; the next case still runs as the role it is meant to.
    """
    user_id = getattr(world[1], request.param).id
    as_made = world[2][request.param]
    last = {"raw": None}

    def token() -> str:
        db.session.rollback()
        user = db.session.get(User, user_id)
        if last["raw"] and user_for_token(last["raw"]) and all(
                getattr(user, name) == value for name, value in as_made.items()):
            return last["raw"]
        db.session.execute(update(User).where(User.id == user_id).values(**as_made))
        restore_posts(user_id, as_made)
        last["raw"], _ = issue_token(user)
        db.session.commit()
        return last["raw"]
    return token


def _username_refusal(raw: str) -> str:
    try:
        clean_username(raw)
    except UsernameInvalid as exc:
        return str(exc)
    raise AssertionError(f"{raw!r} is a username")


# The rules of our schemas that OpenAPI 3.0 cannot state (cross-field rules; a range of dates,
# which the document gives only in words; what text may hold — no control characters, bidi
# overrides or lone surrogates, not blank once trimmed — and what a username may be, both
# judged after Unicode normalisation): the only reasons a schema-valid request may get the
# generic "invalid_input" 422. Cases ask for English (``ENGLISH``), so they are named here as
# the English answer words them.
ENGLISH = {"Accept-Language": "en"}
RULES_OPENAPI_CANNOT_STATE = {localize(rule, english=True) for rule in (
    "lat and lon change together", "must not be before active_from", SERVICE_YEARS,
    "before from",
    TEXT_REFUSED, BLANK, *map(_username_refusal, ("x", "a b", "c\u0430dre")))}


def refused_only_by_a_rule(ctx, response, case):
    """A 422 for input that keeps to the document must name the rule that refused it: a
    code of its own (unknown_village, weak_password, …) or a rule OpenAPI cannot state; a schema
    refusal would mean the document and the schemas disagree."""
    if (case.meta is None or not case.meta.generation.mode.is_positive
            or response.status_code != 422):
        return None
    body = response.json()
    if body.get("code") != "invalid_input":
        return None
    problems = set(_messages(body.get("errors")))
    assert problems <= RULES_OPENAPI_CANNOT_STATE, (
        f"schema-valid input refused by the schema: {body.get('errors')}")
    return None


def _messages(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list):
        for value in errors:
            yield from _messages(value)
    else:
        yield errors


@schema.parametrize()
def test_every_operation_answers_as_documented_for_every_role(case, world, actor):
    credentials = {}
    if (case.headers or {}).get("Authorization") == f"Bearer {PLACEHOLDER}":
        credentials["Authorization"] = f"Bearer {actor()}"  # the case keeps its placeholder
    case.call_and_validate(app=world[0], headers={**ENGLISH, **credentials},
                           additional_checks=[refused_only_by_a_rule])



# --- Hostile text in every string field of every write -------------------------------------
#
# Every write (POST, PUT, PATCH) of the document is sent a body that would be accepted — the
# caller's role and the visit, report or account it names are found for each operation by
# trying them first — with one string spoiled: a string of the JSON body (nested ones and
# array items included), a string path or query parameter, or a cell of an uploaded CSV file.
# The spoilers (``tests/hostile_text.py``) are lone surrogates, C0/C1 controls, NUL,
# bidirectional overrides, zero-width and other invisible characters, blank and very long
# text, formula prefixes, look-alikes and decomposed accents; a lone surrogate travels as a
# ``\ud800`` escape (or as the bytes UTF-8 would give it), and some bodies give the field twice.
# No answer may be a 5xx; a refusal is the error shape; and no text the service stores or
# sends back holds a lone surrogate, NUL, a control character (newline and tab only in a note),
# a bidirectional override, nor is it blank, untrimmed or not NFC. Formula prefixes are legal:
# they must be taken and kept as typed (exports neutralise them; test_export_safety.py).
#
# ``ZAICUN_HOSTILE_EXAMPLES`` (default 4) drawn examples per field come after the canonical
# ones (``CANONICAL``); ``ZAICUN_HOSTILE_LOG=<file>`` records every failing case there as a
# JSON line and goes on instead of stopping at the first (a failure list for a bug hunt).

HOSTILE_EXAMPLES = int(os.environ.get("ZAICUN_HOSTILE_EXAMPLES", "4"))
HOSTILE_LOG = os.environ.get("ZAICUN_HOSTILE_LOG")
DOCUMENT = schema.raw_schema
WRITES = ("post", "put", "patch")
# The roles of the org fixture, and its admin with no unit (who alone may add a province).
HOSTILE_ROLES = ROLES + ("root",)

# Uploads: OpenAPI says only "text/csv"; the columns are the service's. An upload missing
# here fails at collection, so a new one is not left out unnoticed.
CSV_COLUMNS = {
    "/api/v1/imports/villages": VILLAGE_COLUMNS,
    "/api/v1/imports/users": USER_COLUMNS,
    "/api/v1/imports/posts": POST_COLUMNS,
    "/api/v1/calendars/{year}": ("date", "kind"),
}


def _resolve(node: dict) -> dict:
    """The schema a ``$ref`` or a one-part ``allOf`` stands for."""
    while True:
        if "$ref" in node:
            found = DOCUMENT
            for part in node["$ref"].lstrip("#/").split("/"):
                found = found[part]
            node = found
        elif len(node.get("allOf", ())) == 1:
            node = node["allOf"][0]
        else:
            return node


def _string_fields(node: dict, trail: tuple = ()):
    node = _resolve(node)
    if node.get("type") == "object":
        for name, sub in node.get("properties", {}).items():
            yield from _string_fields(sub, trail + (name,))
    elif node.get("type") == "array":
        yield from _string_fields(node["items"], trail + ("[]",))
    elif node.get("type") == "string" and node.get("format") != "binary":
        yield trail


@dataclass(frozen=True, eq=False)  # one object per operation
class Operation:
    method: str
    path: str
    params: tuple  # (in, name, schema) of every path and query parameter
    body: dict | None  # the JSON body's schema
    creating: bool  # the body makes something new (its code or username must be new too)
    csv: tuple | None  # the columns of an uploaded CSV file
    public: bool  # no login needed

    def __str__(self):
        return f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class Target:
    operation: Operation
    where: str  # "body", "path", "query" or "csv"
    field: tuple  # the way to the string in the body ("[]": an array's item), or its name

    def __str__(self):
        return f"{self.operation} {self.where}:{'.'.join(self.field)}"


def _operations() -> list[Operation]:
    found = []
    for path, item in DOCUMENT["paths"].items():
        for method in WRITES:
            op = item.get(method)
            if op is None:
                continue
            params = tuple((p["in"], p["name"], _resolve(p.get("schema", {})))
                           for p in item.get("parameters", []) + op.get("parameters", [])
                           if p["in"] in ("path", "query"))
            content = op.get("requestBody", {}).get("content", {})
            body = content.get("application/json", {}).get("schema")
            columns = None
            if body is None and "text/csv" in content:
                if path not in CSV_COLUMNS:
                    raise LookupError(f"{path} takes a CSV file: give its columns in "
                                      "CSV_COLUMNS")
                columns = CSV_COLUMNS[path]
            found.append(Operation(
                method, path, params, body,
                creating=bool(body) and body.get("$ref", "").endswith("Create"), csv=columns,
                public=op.get("security", DOCUMENT.get("security")) == []))
    return found


OPERATIONS = _operations()
TARGETS = [Target(op, where, (name,)) for op in OPERATIONS for where, name, node in op.params
           if node.get("type") == "string"]
TARGETS += [Target(op, "body", trail) for op in OPERATIONS if op.body
            for trail in _string_fields(op.body)]
TARGETS += [Target(op, "csv", (column,)) for op in OPERATIONS if op.csv for column in op.csv]


def _get(value, trail):
    for step in trail:
        value = value[0 if step == "[]" else step]
    return value


def _set(value, trail, new):
    for step in trail[:-1]:
        value = value[0 if step == "[]" else step]
    value[0 if trail[-1] == "[]" else trail[-1]] = new


def _dump_twice(value, trail, spoiled) -> str:
    """JSON with the last key of ``trail`` given twice: the good value, then ``spoiled``."""
    if isinstance(value, dict):
        parts = []
        for key, item in value.items():
            if trail and key == trail[0]:
                if len(trail) == 1:
                    parts.append(f"{json.dumps(key)}: {json.dumps(item)}")
                    parts.append(f"{json.dumps(key)}: {json.dumps(spoiled)}")
                else:
                    parts.append(f"{json.dumps(key)}: {_dump_twice(item, trail[1:], spoiled)}")
            else:
                parts.append(f"{json.dumps(key)}: {json.dumps(item)}")
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, list) and trail and trail[0] == "[]":
        return "[" + ", ".join([_dump_twice(value[0], trail[1:], spoiled)]
                               + [json.dumps(v) for v in value[1:]]) + "]"
    return json.dumps(value)


@dataclass
class Sent:
    """One request as sent, for judging and for the failure report."""
    target: Target
    role: str | None
    slots: dict
    mutation: object
    wire: str
    text: str  # the spoiled string
    method: str = ""
    url: str = ""
    data: bytes = b""
    content_type: str | None = None
    headers: dict = field(default_factory=dict)

    def describe(self) -> str:
        shown = self.data[:300] + (b"..." if len(self.data) > 300 else b"")
        return (f"{self.method} {self.url[:200]} as {self.role} {self.slots} ({self.wire}), "
                f"{self.target.where} {'.'.join(self.target.field)} = {self.mutation!r}; "
                f"body {shown!r}")


class _ErrorLog(logging.Handler):
    """Errors the app logs while a request runs (the traceback behind a 500)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _trace_summary(exc_info) -> str:
    if not exc_info or exc_info[1] is None:
        return ""
    frames = [f for f in traceback.extract_tb(exc_info[2]) if "/server/" in f.filename][-3:]
    where = " <- ".join(f"{f.filename.split('/server/')[-1]}:{f.lineno} {f.name}"
                        for f in reversed(frames))
    return f"{type(exc_info[1]).__name__}: {str(exc_info[1])[:300]} at {where}"


# Columns the service fills itself (hashes, digests) or keys it never shows (the throttle's
# key of a typed username): only what no database can hold is checked there.
# A calendar's county_code is "" for the deployment-wide calendar (part of the key).
INTERNAL_COLUMNS = {"password_hash", "token_hash", "request_digest", "check_out_digest",
                    "login_attempts.key", "calendar_days.county_code"}


class Writes:
    """The text every INSERT and UPDATE of the app wrote, by column, while ``recording`` (on
    PostgreSQL a write may be a data-modifying WITH query of a SELECT: its binds are traced
    to their columns too); what a rolled-back transaction wrote is forgotten. Raw SQL has
    each string checked only for what no database can hold."""

    def __init__(self, engine, kinds: dict):
        self.kinds = kinds  # (table, column key) -> "line", "note", "json" or "internal"
        self.recording = False
        self.pending: dict[int, list] = {}
        self.kept: list[tuple] = []
        event.listen(engine, "after_cursor_execute", self._executed)
        event.listen(engine, "commit", self._committed)
        event.listen(engine, "rollback", self._rolled_back)

    def start(self) -> None:
        self.recording, self.pending, self.kept = True, {}, []

    def stop(self) -> list[tuple]:
        self.recording = False
        for written in self.pending.values():  # autocommit, or left open: still written
            self.kept += written
        self.pending = {}
        return self.kept

    def _executed(self, conn, cursor, statement, parameters, context, executemany):
        if not self.recording or context is None:
            return
        written = self.pending.setdefault(id(conn), [])
        compiled = context.compiled
        columns = self._columns(compiled.statement) \
            if compiled is not None and statement.lstrip()[:4].upper() == "WITH" else {}
        table = getattr(getattr(compiled, "statement", None), "table", None)
        if compiled is not None and (context.isinsert or context.isupdate) and \
                table is not None:
            for params in context.compiled_parameters:
                for key, value in params.items():
                    kind = self.kinds.get((table.name, key))
                    if kind and value is not None:
                        written.append((table.name, key, kind, value))
        elif columns:  # data-modifying WITH queries (PostgreSQL): each bind's table and column
            for params in context.compiled_parameters:
                for key, value in params.items():
                    if key not in columns:  # read, not written: only what no database holds
                        if isinstance(value, str):
                            written.append(("?", "?", "internal", value))
                        continue
                    kind = self.kinds.get(columns[key])
                    if kind and value is not None:
                        written.append((*columns[key], kind, value))
        elif not statement.lstrip().upper().startswith("SELECT"):
            rows = parameters if executemany else [parameters]
            for row in rows:
                values = row.values() if isinstance(row, dict) else row or ()
                written += [("?", "?", "internal", v) for v in values if isinstance(v, str)]

    _bound_columns: ClassVar[dict] = {}  # statement -> {bind name: (table, column key)}

    @classmethod
    def _columns(cls, statement) -> dict:
        """The table and column each bound parameter of the INSERTs and UPDATEs inside
        ``statement`` (a SELECT with data-modifying WITH queries) is written to."""
        found = cls._bound_columns.get(statement)
        if found is None:
            found = {}
            for element in visitors.iterate(statement):
                if not isinstance(element, ValuesBase) or element is statement:
                    continue
                pairs = list((element._values or {}).items())
                if getattr(element, "select", None) is not None:  # INSERT … SELECT
                    pairs += zip(element._select_names, element.select.selected_columns)
                for column, value in pairs:
                    if isinstance(value, BindParameter):
                        target = (element.table.name, getattr(column, "key", column))
                        # one value bound to two columns would be checked as one of them only
                        assert found.setdefault(value.key, target) == target, value.key
            cls._bound_columns[statement] = found  # only once whole
        return found

    def _committed(self, conn):
        self.kept += self.pending.pop(id(conn), [])

    def _rolled_back(self, conn):
        self.pending.pop(id(conn), None)


# Fields the document calls optional that a good request still gives: a person (a cadre, as
# made here) belongs to a township; a township to its county.
COMPANIONS = {"UserCreate": ("unit_code",), "UnitCreate": ("parent_code",)}
# A query argument's good value where its name alone does not say: a calendar is a county's.
QUERY_GOOD = {"unit_code": lambda bench: bench.org.county.code}


class Bench:
    """What the hostile-text cases share: the module's world, a token per role, new values,
    and the settings (role, and which visit, report… the path names) each operation takes."""

    def __init__(self, app, org, accounts):
        self.app, self.client = app, app.test_client()
        self.serial = itertools.count(1)
        people = {role: getattr(org, role) for role in HOSTILE_ROLES}
        self.user_ids = {role: person.id for role, person in people.items()}
        self.role_of = {uid: role for role, uid in self.user_ids.items()}
        self.accounts = {**accounts, "root": {name: getattr(org.root, name) for name in ACCOUNT}}
        self.org = _plain(org)
        self.password_hash = hash_password(PASSWORD)
        self.tokens: dict[str, str] = {}
        self.today = at(0)[:10]
        self.year = int(self.today[:4])
        self.columns = self._text_columns()
        self.writes = Writes(db.engine, {(table.name, column.key): kind
                                         for table, _, columns in self.columns
                                         for column, kind in columns})
        self.swept = self.stored()
        self.mark = self.marks()
        self.settings: dict[Operation, list] = {}
        self.reachable: dict[Target, list] = {}
        self.reset()
        rules = self.client.get("/api/v1/rules", headers=self.auth("cadre")).get_json()
        self.activity = (rules.get("activities") or [{"id": None}])[0]["id"]

    # -- the state every case starts from --

    def auth(self, role: str | None) -> dict:
        if role is None:
            return {}
        raw = self.tokens.get(role)
        if raw is None or user_for_token(raw) is None:
            raw, _ = issue_token(db.session.get(User, self.user_ids[role]))
            db.session.commit()
            self.tokens[role] = raw
        return {"Authorization": f"Bearer {raw}"}

    def reset(self) -> None:
        """Each role's account as made (its password too), no failed logins, no open visit."""
        db.session.rollback()
        changed = False
        for user in db.session.scalars(select(User).where(User.id.in_(self.role_of))):
            as_made = self.accounts[self.role_of[user.id]]
            if user.password_hash != self.password_hash or any(
                    getattr(user, name) != value for name, value in as_made.items()):
                db.session.execute(update(User).where(User.id == user.id).values(
                    **as_made, password_hash=self.password_hash))
                restore_posts(user.id, as_made)
                changed = True
            elif db.session.scalar(select(func.count()).select_from(Post).where(
                    Post.user_id == user.id)) > 1:
                restore_posts(user.id, as_made)
                changed = True
        if db.session.scalar(select(LoginAttempt.id).limit(1)) is not None:
            db.session.execute(delete(LoginAttempt))
            changed = True
        if db.session.scalar(select(Closing.id).limit(1)) is not None:
            db.session.execute(delete(Closing))  # every case starts with every year open
            changed = True
        # A visit a case left open is set aside as its owner's withdrawal would (an open
        # visit has no credits to redo), so the next check-in is not refused as a second one.
        changed |= db.session.execute(update(Visit).where(
            Visit.status == "open", Visit.user_id.in_(self.role_of)).values(
            status="withdrawn")).rowcount > 0
        if changed:
            db.session.commit()
        else:
            db.session.rollback()

    # -- what a path (or an ``ids`` list) names: made afresh for each case --

    def visit(self, owner: str, closed: bool) -> int | None:
        body = {"client_id": str(uuid.uuid4()), "village_code": self.org.village.code,
                "check_in": {"at": at(1)}}  # no location: flagged, so it may be explained
        if closed:  # checked out by hand: pending review
            body["check_out"] = {"at": at(0.5), "manual": True}
        response = self.client.post("/api/v1/visits", headers=self.auth(owner), json=body)
        return response.get_json()["id"] if response.status_code == 201 else None

    def later(self, n: int) -> str:
        """A date ``n`` days after today: each new post starts after the last one made."""
        return (date.fromisoformat(self.today) + timedelta(days=n)).isoformat()

    def post(self) -> int | None:
        """A new post of the cadre's (the latest, open-ended), made by the admin."""
        response = self.client.post(f"/api/v1/users/{self.org.cadre.id}/posts",
                                    headers=self.auth("admin"), json={
                                        "unit_code": self.org.town.code, "role": "cadre",
                                        "from": self.later(next(self.serial))})
        return response.get_json()["id"] if response.status_code == 201 else None

    def item(self, claimed: bool) -> int | None:
        """A rectification item of the township's, recorded by the supervisor (and claimed
        done by the secretary, for a decision)."""
        response = self.client.post("/api/v1/rectifications", headers=self.auth("supervisor"),
                                    json={"unit_code": self.org.town.code,
                                          "year": self.year - 1, "title": "整改事项"})
        if response.status_code != 201:
            return None
        item = response.get_json()["id"]
        if claimed:
            self.client.post(f"/api/v1/rectifications/{item}/notes",
                             headers=self.auth("secretary"),
                             json={"note": "已完成", "claim_done": True})
        return item

    def closed_year(self) -> str | None:
        """Last year closed for the county (by the root admin); a reopening's good reason."""
        response = self.client.post("/api/v1/closings", headers=self.auth("root"), json={
            "year": self.year - 1, "unit_code": self.org.county.code})
        return "补录漏报的记录" if response.status_code == 201 else None

    def report(self, owner: str) -> int | None:
        body = {"client_id": str(uuid.uuid4()), "reported_on": self.today, "title": "专题汇报"}
        if owner == "supervisor":
            body["user_id"] = self.org.secretary.id
        response = self.client.post("/api/v1/reports", headers=self.auth(owner), json=body)
        return response.get_json()["id"] if response.status_code == 201 else None

    SLOTS: ClassVar[dict] = {
        "ref": {"own open visit": lambda b, role: b.visit(role, False),
                "own closed visit": lambda b, role: b.visit(role, True),
                "cadre's open visit": lambda b, role: b.visit("cadre", False),
                "cadre's closed visit": lambda b, role: b.visit("cadre", True)},
        "ids": {"cadre's closed visit": lambda b, role: [b.visit("cadre", True)]},
        "report_id": {"own report": lambda b, role: b.report(role),
                      "secretary's report": lambda b, role: b.report("secretary")},
        "post_id": {"cadre's latest post": lambda b, role: b.post()},
        "item_id": {"township's item": lambda b, role: b.item(False),
                    "township's claimed item": lambda b, role: b.item(True)},
        "reason": {"a closed year": lambda b, role: b.closed_year()},
    }
    # A closing names a county and a year it can close (no visit of last year awaits review).
    CLOSINGS: ClassVar[dict] = {"unit_code": lambda b: b.org.county.code,
                                "year": lambda b: b.year - 1}

    def good_in(self, op: Operation, name: str, node: dict, trail: tuple, creating: bool):
        if op.path.startswith("/api/v1/closings") and name in self.CLOSINGS:
            return self.CLOSINGS[name](self)
        return self.good(name, node, trail, creating)

    def slot_names(self, op: Operation) -> list[str]:
        names = [name for where, name, _ in op.params if where == "path"]
        if op.body:
            names += [name for name in _resolve(op.body).get("required", ())
                      if name in self.SLOTS]
        return [name for name in names if name in self.SLOTS]

    def all_settings(self, op: Operation) -> list[tuple]:
        roles = (None,) if op.public else HOSTILE_ROLES
        names = self.slot_names(op)
        choices = itertools.product(*[list(self.SLOTS[name]) for name in names])
        return [(role, tuple(zip(names, picked))) for picked in choices for role in roles]

    def prepare(self, setting) -> dict | None:
        role, picked = setting
        slots = {}
        for name, variant in picked:
            value = self.SLOTS[name][variant](self, role)
            if value is None or value == [None]:
                return None
            slots[name] = value
        return slots

    # -- good values --

    def good(self, name: str, node: dict, trail: tuple, creating: bool):
        org, n = self.org, next(self.serial)
        pattern = node.get("pattern", "")
        if creating and name == "code":
            return f"{org.town.code}{300 + n % 700}" if "{12}" in pattern else f"FZ{n}"
        if creating and name == "username":
            return f"fuzz{n}"
        known = {
            "client_id": str(uuid.uuid4()), "village_code": org.village.code,
            "village_codes": org.village.code, "township_code": org.town.code,
            "unit_code": org.town.code, "parent_code": org.county.code, "level": "township",
            "code": org.village.code, "user_id": org.cadre.id, "year": self.year,
            "username": "cadre", "password": PASSWORD, "old_password": PASSWORD,
            "new_password": "Another-horse-2", "activity": self.activity,
            "lat": org.village.lat, "lon": org.village.lon, "accuracy_m": 10.0,
            "date": f"{self.year}-10-01", "kind": "holiday" if not node else None,
        }
        if known.get(name) is not None:
            return known[name]
        if name in ("from", "until"):  # a post's dates: after every post made so far
            return self.later(n)
        if node.get("enum"):
            return next(value for value in node["enum"] if value is not None)
        if "default" in node:
            return node["default"]
        kind, form = node.get("type"), node.get("format")
        if kind == "string":
            if form == "date":
                return self.today
            if form == "date-time":
                return at(1) if "check_in" in trail else at(0.25)
            if form == "uuid":
                return str(uuid.uuid4())
            return f"走访 {n}"
        if kind in ("integer", "number"):
            return node.get("minimum", 0)
        if kind == "boolean":
            return False
        raise LookupError(f"no good value for {'.'.join(trail)} ({node})")

    def body(self, op: Operation, target: tuple, slots: dict, node=None, trail=()):
        """The operation's required fields (and those on the way to ``target``), good."""
        node = _resolve(op.body if node is None else node)
        name = next((step for step in reversed(trail) if step != "[]"), None)
        if trail and trail[-1] != "[]" and name in slots:
            return slots[name]
        if node.get("type") == "object":
            required = set(node.get("required", ()))
            if not trail:
                required |= set(COMPANIONS.get(op.body.get("$ref", "").rsplit("/", 1)[-1], ()))
            return {prop: self.body(op, target, slots, sub, trail + (prop,))
                    for prop, sub in node.get("properties", {}).items()
                    if prop in required or target[:len(trail) + 1] == trail + (prop,)}
        if node.get("type") == "array":
            return [self.body(op, target, slots, node["items"], trail + ("[]",))
                    for _ in range(max(1, node.get("minItems", 0)))]
        return self.good_in(op, name, node, trail, op.creating)

    def csv_row(self, op: Operation) -> dict:
        org, n = self.org, next(self.serial)
        if op.path.endswith("/villages"):
            good = {"code": f"{org.town.code}{300 + n % 700}", "name": f"导入村{n}",
                    "township_code": org.town.code, "lat": "32.3", "lon": "118.3",
                    "radius_m": "1000", "crs": "wgs84"}
        elif op.path.endswith("/users"):
            good = {"username": f"fuzzcsv{n}", "name": f"导入人{n}", "role": "cadre",
                    "unit_code": org.town.code, "active_from": self.today,
                    "active_until": "2100-12-31", "village_codes": org.village.code}
        elif op.path.endswith("/posts"):
            good = {"username": org.secretary.username, "unit_code": org.town.code,
                    "role": "secretary", "from": self.later(n)}
        else:
            good = {"date": f"{self.year}-10-01", "kind": "holiday"}
        return {column: good[column] for column in op.csv}

    # -- one request --

    def build(self, target: Target, setting, slots: dict, mutation, wire: str) -> Sent:
        op = target.operation
        role = setting[0]
        if wire == "twice" and not (target.where == "body" and target.field[-1] != "[]"):
            wire = "escaped"  # only a body's key can be given twice
        sent = Sent(target, role, {k: v for k, v in setting[1]}, mutation, wire, "")
        url = op.path
        query = ""
        for where, name, node in op.params:
            if where == "path":
                value = slots[name] if name in slots else self.good_in(op, name, node, (name,),
                                                                       False)
                if target.where == "path" and target.field == (name,):
                    value = sent.text = mutation.apply(value)
                url = url.replace("{" + name + "}", _quoted(str(value)))
            elif target.where == "query" and target.field == (name,):
                good = QUERY_GOOD[name](self) if name in QUERY_GOOD else self.good(
                    name, node, (name,), False)
                sent.text = mutation.apply(good)
                query = f"?{name}={_quoted(sent.text)}"
        sent.method, sent.url = op.method.upper(), url + query
        sent.headers = self.auth(role)
        if op.body:
            body = self.body(op, target.field if target.where == "body" else (), slots)
            sent.content_type = "application/json"
            if target.where == "body":
                sent.text = mutation.apply(_get(body, target.field))
                if wire == "twice" and target.field[-1] != "[]":
                    sent.data = _dump_twice(body, target.field, sent.text).encode(
                        "utf-8", "surrogatepass")
                    return sent
                _set(body, target.field, sent.text)
            if wire == "utf-8":
                sent.data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
            else:
                sent.data = json.dumps(body).encode("ascii")
        elif op.csv:
            row = self.csv_row(op)
            if target.where == "csv":
                row[target.field[0]] = sent.text = mutation.apply(row[target.field[0]])
            out = io.StringIO()
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(op.csv)
            writer.writerow([row[column] for column in op.csv])
            sent.data = out.getvalue().encode("utf-8", "surrogatepass")
            sent.content_type = "text/csv; charset=utf-8"
        return sent

    def send(self, sent: Sent):
        errors = _ErrorLog()
        logging.getLogger().addHandler(errors)
        try:
            response = self.client.open(sent.url, method=sent.method, data=sent.data,
                                        content_type=sent.content_type, headers=sent.headers)
        except Exception:  # noqa: BLE001 - an exception the app let out is a 500 too
            return None, _trace_summary(sys.exc_info())
        finally:
            logging.getLogger().removeHandler(errors)
        trace = next((_trace_summary(r.exc_info) for r in errors.records if r.exc_info), "")
        if not trace and errors.records:
            trace = errors.records[-1].getMessage()[:300]
        return response, trace

    # -- what is stored --

    def _text_columns(self):
        tables = []
        for table in db.metadata.sorted_tables:
            columns = []
            for column in table.columns:
                if isinstance(column.type, JSON):
                    kind = "json"
                elif isinstance(column.type, Text):
                    kind = "note"
                elif isinstance(column.type, String):
                    kind = "line"
                else:
                    continue
                if column.name in INTERNAL_COLUMNS or f"{table.name}.{column.name}" in \
                        INTERNAL_COLUMNS:
                    kind = "internal"
                columns.append((column, kind))
            if columns:
                tables.append((table, list(table.primary_key.columns), columns))
        return tables

    def stored(self) -> dict:
        """Every text cell in the database, read back."""
        cells = {}
        with db.engine.connect() as conn:
            for table, keys, columns in self.columns:
                for row in conn.execute(select(*keys, *[c for c, _ in columns])):
                    key = tuple(row[:len(keys)])
                    for (column, kind), value in zip(columns, row[len(keys):]):
                        if value is not None:
                            cells[(table.name, key, column.name)] = (kind, value)
        return cells

    def marks(self) -> dict:
        """Where each table's rows end (its highest integer id; a table keyed otherwise is
        small and kept whole)."""
        marks = {}
        with db.engine.connect() as conn:
            for table, keys, columns in self.columns:
                if len(keys) == 1 and isinstance(keys[0].type, Integer):
                    marks[table.name] = conn.scalar(select(func.max(keys[0]))) or 0
                else:
                    marks[table.name] = self._cells(conn, table, keys, columns)
        return marks

    @staticmethod
    def _cells(conn, table, keys, columns) -> dict:
        return {tuple(row[:len(keys)]) + (column.key, kind): value
                for row in conn.execute(select(*keys, *[c for c, _ in columns]))
                for (column, kind), value in zip(columns, row[len(keys):])
                if value is not None}

    def read_back(self) -> list[tuple]:
        """The text of the rows added (or, in a small table, changed) since the last call,
        read back from the database: (table, column, kind, value)."""
        found = []
        grown = [(table, keys, columns) for table, keys, columns in self.columns
                 if not isinstance(self.mark[table.name], dict)]
        with db.engine.connect() as conn:
            ends = conn.execute(select(*[  # one round trip: which tables have new rows
                select(func.max(keys[0])).scalar_subquery() for _, keys, _ in grown])).one()
            for (table, keys, columns), end in zip(grown, ends):
                if (end or 0) <= self.mark[table.name]:
                    continue
                for row in conn.execute(select(*keys, *[c for c, _ in columns]).where(
                        keys[0] > self.mark[table.name])):
                    found += [(table.name, column.key, kind, value)
                              for (column, kind), value in zip(columns, row[1:])
                              if value is not None]
                self.mark[table.name] = end
            for table, keys, columns in self.columns:
                mark = self.mark[table.name]
                if isinstance(mark, dict):
                    now = self._cells(conn, table, keys, columns)
                    found += [(table.name, cell[-2], cell[-1], value)
                              for cell, value in now.items() if mark.get(cell) != value]
                    self.mark[table.name] = now
        return found

    def sweep(self) -> list[str]:
        """What is wrong with the text stored since the last sweep, read back from the
        database (a check of the checks on what each request wrote)."""
        now, before = self.stored(), self.swept
        self.swept = now
        return [f"stored {table}.{column}: {reason}: {_shown(value)} (row {key})"
                for (table, key, column), (kind, value) in now.items()
                if before.get((table, key, column), (None, None))[1] != value
                for reason in _cell_problems(table, column, kind, value)]


def _plain(org) -> SimpleNamespace:
    """The org's places and people as plain values (its ORM objects reload after commits)."""
    def of(thing, *names):
        return SimpleNamespace(**{name: getattr(thing, name) for name in names})
    return SimpleNamespace(village=of(org.village, "code", "lat", "lon"),
                           town=of(org.town, "code"), county=of(org.county, "code"),
                           cadre=of(org.cadre, "id"),
                           secretary=of(org.secretary, "id", "username"))


def _quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def _shown(value, limit=120) -> str:
    text = ascii(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _strings(value, key=None):
    """(key, string) for every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield k, k
            yield from _strings(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def _cell_problems(table: str, column: str, kind: str, value) -> list[str]:
    if kind == "internal":
        return [reason for reason in [unstorable(value)] if reason]
    if kind == "json":
        return [f"{reason} in {key!r}" for key, text in _strings(value)
                for reason in text_problems(text, multiline=True, whole=False)]
    if not isinstance(value, str):
        return []
    problems = text_problems(value, multiline=kind == "note")
    if (table, column) == ("users", "username") and not problems:
        problems += username_problems(value)
    return problems


def judge(sent: Sent, response, trace: str, written: list[tuple]) -> list[str]:
    """Everything wrong with one answer and the text its request stored: what it wrote, and
    the rows it added read back."""
    if response is None:
        return [f"exception escaped the app: {trace}"]
    status = response.status_code
    problems = []
    if status >= 500:
        problems.append(f"{status}: {response.get_data()[:200]!r} {trace}")
    body = None
    if status != 204 and not 300 <= status < 400:  # a redirect (``//`` in a path) is HTML
        try:
            body = json.loads(response.get_data())
        except ValueError:
            problems.append(f"{status} answer is not JSON: {response.get_data()[:120]!r}")
    if 400 <= status < 500 and not (isinstance(body, dict) and isinstance(body.get("code"), str)
                                    and isinstance(body.get("message"), str)):
        problems.append(f"{status} answer is not the error shape: {_shown(body)}")
    for key, text in _strings(body):
        reasons = ([unstorable(text)] if status >= 400
                   else text_problems(text, multiline=True, whole=False))
        problems += [f"{status} answer holds a {reason} in {key!r}: {_shown(text)}"
                     for reason in reasons if reason]
    if sent.wire == "twice" and status not in (400, 413):
        problems.append(f"a field given twice got {status}, not 400")
    for table, column, kind, value in written:
        problems += [f"stored {table}.{column}: {reason}: {_shown(value)}"
                     for reason in _cell_problems(table, column, kind, value)
                     if f"stored {table}.{column}: {reason}: {_shown(value)}" not in problems]
    return problems


@pytest.fixture(scope="module")
def bench(world):
    return Bench(*world)


def settings_for(bench: Bench, target: Target) -> tuple[list, bool]:
    """The settings in which the operation takes good input (all settings if none does), and
    whether the target's own field, good, is taken in one of them."""
    op = target.operation
    if op not in bench.settings:
        bench.settings[op] = [setting for setting in bench.all_settings(op)
                              if _taken(bench, Target(op, "none", ()), setting)]
    if target not in bench.reachable:
        bench.reachable[target] = next(
            (setting for setting in bench.settings[op] if _taken(bench, target, setting)), None)
    reached, working = bench.reachable[target], bench.settings[op]
    if reached is None:
        return working or bench.all_settings(op), False
    return [reached] + [setting for setting in working if setting != reached], True


def _taken(bench: Bench, target: Target, setting) -> bool:
    bench.reset()
    slots = bench.prepare(setting)
    if slots is None:
        return False
    response, _ = bench.send(bench.build(target, setting, slots, _Unchanged(), "escaped"))
    return response is not None and 200 <= response.status_code < 300


class _Unchanged:
    def apply(self, good):
        return good

    def __repr__(self):
        return "Unchanged()"


def run_case(bench: Bench, target: Target, setting, mutation, wire: str) -> list[str]:
    bench.reset()
    slots = bench.prepare(setting)
    if slots is None:
        return [f"could not prepare {setting}"]
    sent = bench.build(target, setting, slots, mutation, wire)
    bench.writes.start()
    response, trace = bench.send(sent)
    written = bench.writes.stop()
    problems = judge(sent, response, trace, written + bench.read_back())
    if problems and HOSTILE_LOG:
        with open(HOSTILE_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({
                "target": str(target), "status": getattr(response, "status_code", None),
                "role": sent.role, "slots": sent.slots, "wire": sent.wire,
                "mutation": repr(mutation), "problems": problems, "request": sent.describe(),
            }, ensure_ascii=True) + "\n")
    return problems


@pytest.mark.parametrize("target", TARGETS, ids=str)
def test_hostile_text_in_every_string_field_of_every_write(target, bench):
    """No 5xx, refusals in the error shape, and no bad text stored or sent back, whatever
    hostile text the field holds (the section's comment says what is sent and checked)."""
    chosen, _ = settings_for(bench, target)
    found: list[str] = []

    @settings(max_examples=HOSTILE_EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck), derandomize=False,
              phases=[Phase.explicit, Phase.generate] + ([] if HOSTILE_LOG else [Phase.shrink]))
    @given(setting=st.sampled_from(chosen), mutation=mutations(),
           wire=st.sampled_from(("escaped", "escaped", "escaped", "utf-8", "twice")))
    def case(setting, mutation, wire):
        problems = run_case(bench, target, setting, mutation, wire)
        if problems and HOSTILE_LOG:
            found.extend(problems)
            return
        assert not problems, f"{target} with {mutation!r} ({wire}, {setting}):\n" + \
            "\n".join(problems)

    for text in reversed(CANONICAL):
        case = example(setting=chosen[0], mutation=Literal(text), wire="escaped")(case)
    try:
        case()
    finally:  # read back even when a case failed, so the next field starts from here
        swept = [problem for problem in bench.sweep()  # unless a case said so already
                 if problem.rsplit(" (row ", 1)[0] not in found]
    if swept and HOSTILE_LOG:
        with open(HOSTILE_LOG, "a", encoding="utf-8") as log:
            log.write(json.dumps({"target": f"{target} (read back at the end)",
                                  "problems": swept}) + "\n")
    found += swept
    assert not found, "\n".join(found)


def test_every_string_field_of_every_write_is_reached(bench):
    """The hostile cases get past the door: for every field, some role's good request is taken
    (else a spoiled one proves only that the request was refused for another reason)."""
    missed = [str(target) for target in TARGETS if not settings_for(bench, target)[1]]
    assert not missed, "no good request taken:\n" + "\n".join(missed)


def _node_of(target: Target) -> dict:
    node = _resolve(target.operation.body)
    for step in target.field:
        node = _resolve(node["items"] if step == "[]" else node["properties"][step])
    return node


# Free text a person types (a name, a title, a note): not a code, a choice, a date, an
# activity id, a username or a password.
NOT_FREE_TEXT = {"username", "password", "old_password", "new_password", "activity"}
FREE_TEXT = [target for target in TARGETS if target.where == "body"
             and target.field[-1] not in NOT_FREE_TEXT | {"[]"}
             and not {"enum", "pattern", "format"} & set(_node_of(target))]
KEPT_FORMULAS = [f for f in FORMULAS if f == f.strip() and f[0] in "=+-@"]


@pytest.mark.parametrize("target", FREE_TEXT, ids=str)
def test_formula_prefixes_are_taken_and_kept(target, bench):
    """``=1+1``, ``@SUM(A1)``, ``+cmd``, ``-1+1`` are legal text: taken, stored as typed."""
    chosen, reached = settings_for(bench, target)
    if not reached:
        pytest.fail(f"no good request to {target} is taken")
    for index, typed in enumerate(KEPT_FORMULAS):
        # Made unique, so that no earlier test's write of the same text makes this one a no-op
        # (a name patched to what it already is writes nothing new).
        formula = f"{typed} {index}{uuid.uuid4().hex[:6]}"
        bench.reset()
        slots = bench.prepare(chosen[0])
        sent = bench.build(target, chosen[0], slots, Literal(formula), "escaped")
        bench.read_back()  # what the preparation added
        bench.writes.start()
        response, trace = bench.send(sent)
        written = bench.writes.stop() + bench.read_back()
        assert response is not None and 200 <= response.status_code < 300, (
            formula, getattr(response, "status_code", None), trace,
            response is not None and response.get_json())
        assert any(value == formula for _, _, _, value in written), (
            f"{formula!r} was taken but not stored as typed: {written}")
