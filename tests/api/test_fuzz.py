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

import os

import pytest
import schemathesis
from hypothesis import strategies as st
from sqlalchemy import update

from server import TestConfig, create_app
from server.auth.models import User
from server.auth.services import issue_token, user_for_token
from server.extensions import db
from server.schemas import SERVICE_YEARS
from tests.conftest import at, build_org, check_in_body, clear_tables, token_for, vars_of

EXAMPLES = int(os.environ.get("ZAICUN_FUZZ_EXAMPLES", "10"))
ROLES = ("cadre", "secretary", "supervisor", "admin")
ACCOUNT = ("role", "unit_id", "active", "active_from", "active_until", "must_change_password")

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
        last["raw"], _ = issue_token(user)
        db.session.commit()
        return last["raw"]
    return token


# The rules of our schemas that OpenAPI 3.0 cannot state (cross-field rules; a range of dates,
# which the document gives only in words): the only reasons a schema-valid request may get
# the generic "invalid_input" 422.
RULES_OPENAPI_CANNOT_STATE = {"lat and lon change together", "must not be before active_from",
                              SERVICE_YEARS}


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
    case.call_and_validate(app=world[0], headers=credentials,
                           additional_checks=[refused_only_by_a_rule])

