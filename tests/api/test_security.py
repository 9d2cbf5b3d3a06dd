"""Security: headers, CORS, size limits, hashed tokens, the password policy and the audit trail."""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import event, select, text

from server.extensions import db
from tests.conftest import PASSWORD, at, check_in_body, make_user, token_for

# --- headers on every response ---------------------------------------------------------------


def directives(csp: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in csp.split(";") if part.strip())
    return {name: sources for name, *sources in parts}


def every_get_path(app) -> list[str]:
    """Every GET route of the app, with its parameters filled in by something plausible."""
    fill = {"ref": "1", "user_id": "1", "report_id": "1", "absence_id": "1", "code": "x",
            "name": "index.html", "year": "2026", "item_id": "1", "post_id": "1",
            "closing_id": "1"}
    paths = set()
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            paths.add(re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: fill[m.group(1)], rule.rule))
    return sorted(paths)


def assert_security_headers(response, path):
    csp = directives(response.headers["Content-Security-Policy"])
    for name in ("default-src", "script-src", "style-src"):
        assert "'unsafe-inline'" not in csp.get(name, []), (path, name)
        assert "'unsafe-eval'" not in csp.get(name, []), (path, name)
    assert csp["frame-ancestors"] == ["'none'"], path
    assert csp["object-src"] == ["'none'"], path
    assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert response.headers["Referrer-Policy"] == "no-referrer", path
    assert "Strict-Transport-Security" not in response.headers, path  # plain http


def test_every_page_and_api_answer_carries_the_security_headers(app, client, org):
    auth = token_for(client, org.admin)
    paths = every_get_path(app)
    assert len(paths) > 25 and not any("<" in path for path in paths)
    for path in paths:
        assert_security_headers(client.get(path, headers=auth), path)


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/api/v1/me", 401),                       # no token
    ("GET", "/api/v1/nothing-here", 404),
    ("DELETE", "/api/v1/units", 405),
    ("POST", "/api/v1/auth/login", 422),               # no body
    ("OPTIONS", "/api/v1/visits", 200),
])
def test_refusals_carry_the_security_headers_too(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert_security_headers(response, path)


def test_hsts_is_sent_over_https(client):
    response = client.get("/healthz", base_url="https://zaicun.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(response.headers["Strict-Transport-Security"][8:].split(";")[0]) >= 180 * 86400


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_hsts_is_sent_when_a_trusted_proxy_says_the_request_came_over_https(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_a_forwarded_proto_from_an_untrusted_client_is_ignored(client):
    response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers


# --- CORS ------------------------------------------------------------------------------------

PREFLIGHT = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization, content-type"}


def test_cors_is_closed_by_default(client, org):
    preflight = client.options("/api/v1/visits", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in preflight.headers
    assert "Access-Control-Allow-Headers" not in preflight.headers
    auth = token_for(client, org.cadre)
    answer = client.get("/api/v1/me", headers={**auth, "Origin": "https://evil.example"})
    assert answer.status_code == 200
    assert not any(name.startswith("Access-Control-") for name in answer.headers.keys())


LISTED = "https://console.example.gov.cn"


@pytest.mark.parametrize("app_config", [{"CORS_ORIGINS": f"{LISTED}, https://other.example"}])
def test_a_listed_origin_may_call_the_api_and_no_other(client, org):
    preflight = client.options("/api/v1/visits", headers={**PREFLIGHT, "Origin": LISTED})
    assert preflight.headers["Access-Control-Allow-Origin"] == LISTED
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "Origin" in preflight.headers["Vary"]
    auth = token_for(client, org.cadre)
    answer = client.get("/api/v1/me", headers={**auth, "Origin": LISTED})
    assert answer.headers["Access-Control-Allow-Origin"] == LISTED
    assert "Access-Control-Allow-Credentials" not in answer.headers  # bearer tokens, no cookies
    stranger = client.options("/api/v1/visits", headers=PREFLIGHT)
    assert "Access-Control-Allow-Origin" not in stranger.headers


# --- request size ------------------------------------------------------------------------------

def assert_too_large(response):
    assert response.status_code == 413
    assert response.get_json()["code"] == "too_large"


def test_an_oversized_json_body_is_refused_with_413_and_nothing_is_stored(client, org):
    auth = token_for(client, org.cadre)
    body = check_in_body(org.village, note="长" * 200_000)  # 600 kB of UTF-8
    assert_too_large(client.post("/api/v1/visits", json=body, headers=auth))
    assert client.get("/api/v1/visits", headers=auth).get_json() == []


def test_an_oversized_json_body_without_a_length_is_refused_while_it_is_read(client, org):
    auth = token_for(client, org.cadre)
    raw = ('{"client_id": "0d7a4a8e-2c6f-4c1e-9a38-6e1f0b9a7c11", "note": "'
           + "x" * 400_000 + '"}').encode()
    response = client.post("/api/v1/visits", input_stream=io.BytesIO(raw), headers={
        **auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})
    assert_too_large(response)


@pytest.mark.parametrize("as_form", [False, True], ids=["raw csv", "multipart"])
def test_an_oversized_upload_is_refused_with_413_and_nothing_is_imported(app, client, org,
                                                                         as_form):
    auth = token_for(client, org.admin)
    row = "341122100299,大村,341122100,32.31,118.31,800,\n"
    csv = "code,name,township_code,lat,lon,radius_m,crs\n" + row * (
        app.config["MAX_CONTENT_LENGTH"] // len(row.encode()) + 10)
    if as_form:
        response = client.post("/api/v1/imports/villages", headers=auth,
                               data={"file": (io.BytesIO(csv.encode()), "villages.csv")})
    else:
        response = client.post("/api/v1/imports/villages", headers=auth, data=csv.encode(),
                               content_type="text/csv")
    assert_too_large(response)
    codes = {v["code"] for v in client.get("/api/v1/villages", headers=auth).get_json()}
    assert "341122100299" not in codes


# --- tokens are stored hashed ------------------------------------------------------------------

def dump_every_table() -> str:
    """Every row of every table as text, the way a stolen database dump would read."""
    with db.engine.connect() as conn:
        return "\n".join(repr(row) for table in db.metadata.sorted_tables
                         for row in conn.execute(table.select()))


def test_a_database_dump_yields_no_usable_token_and_no_password(client, org):
    response = client.post("/api/v1/auth/login",
                           json={"username": org.cadre.username, "password": PASSWORD})
    token = response.get_json()["token"]
    reset = client.post(f"/api/v1/users/{org.cadre.id}/reset-password",
                        headers=token_for(client, org.admin)).get_json()["one_time_password"]
    dump = dump_every_table()
    assert "auth_tokens" in {t.name for t in db.metadata.sorted_tables}
    for secret in (token, PASSWORD, reset):
        assert secret not in dump
    stored = db.session.execute(text("SELECT token_hash FROM auth_tokens")).scalars().all()
    assert stored, "the login stored its token"
    for digest in stored:  # what a thief finds does not log in
        assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {digest}"}) \
            .status_code == 401


# --- password policy, wherever a password is set ---------------------------------------------

WEAK = [
    ("seven characters", "zhang", "abc1234"),
    ("the username", "zhangsan1", "zhangsan1"),
    ("the username in other case", "zhangsan1", "ZhangSan1"),
    ("the username with spaces", "zhangsan1", " zhangsan1 "),
]


@pytest.mark.parametrize("why, username, password", WEAK, ids=[w[0] for w in WEAK])
def test_an_admin_cannot_create_a_user_with_a_weak_password(client, org, why, username,
                                                           password):
    response = client.post("/api/v1/users", headers=token_for(client, org.admin), json={
        "username": username, "password": password, "name": "张三", "role": "cadre",
        "unit_code": org.town.code})
    assert response.status_code == 422
    errors = response.get_json()["errors"]  # said in the request's language (zh-CN by default)
    assert list(errors) == ["password"] and "8" in errors["password"][0]


@pytest.mark.parametrize("why, username, password", WEAK, ids=[w[0] for w in WEAK])
def test_nobody_can_change_their_own_password_to_a_weak_one(client, org, why, username,
                                                            password):
    person = make_user(org.town, username=username)
    auth = token_for(client, person)
    response = client.post("/api/v1/me/password", headers=auth,
                           json={"old_password": PASSWORD, "new_password": password})
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["new_password"] and "8" in errors["new_password"][0]
    relogin = client.post("/api/v1/auth/login",
                          json={"username": username, "password": PASSWORD})
    assert relogin.status_code == 200  # the old password still works


@pytest.mark.parametrize("why, username, password", WEAK, ids=[w[0] for w in WEAK])
def test_the_command_line_refuses_a_weak_password_too(runner, org, why, username, password):
    result = runner.invoke(args=["create-user", "--username", username, "--password", password,
                                 "--name", "张三", "--role", "cadre", "--unit-code", org.town.code])
    assert result.exit_code != 0
    assert "8" in result.output


def test_a_strong_password_is_taken_everywhere(client, runner, org):
    admin = token_for(client, org.admin)
    created = client.post("/api/v1/users", headers=admin, json={
        "username": "lisi2026", "password": "li-si-2026!", "name": "李四", "role": "cadre",
        "unit_code": org.town.code})
    assert created.status_code == 201
    result = runner.invoke(args=["create-user", "--username", "wangwu", "--password",
                                 "wang.wu.8", "--name", "王五", "--role", "admin"])
    assert result.exit_code == 0, result.output


# --- the audit trail: append-only, and readable in scope ---------------------------------------

AUDIT_TABLES = ("visit_events", "audit_events")
# Rows some writes rightly replace: links (a PUT replaces the list), failed logins (an unlock
# forgets them), a reloaded calendar year, and day credits derived again from the visits.
# Nothing else is ever deleted (RULES.md §1).
REPLACEABLE = {"linked_villages", "login_attempts", "calendar_days", "day_credits",
               "month_credits", "auth_tokens"}


def write_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods & {"POST", "PUT", "PATCH", "DELETE"}}


def audit_rows() -> dict[str, set]:
    """Every row of the audit tables, as text (a JSON column reads as a dict on PostgreSQL)."""
    with db.engine.connect() as conn:
        return {name: {repr(tuple(row)) for row in conn.execute(text(f"SELECT * FROM {name}"))}
                for name in AUDIT_TABLES}


@pytest.fixture
def statements(app):
    """Every SQL statement the app sends while the test runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def every_write(client, org):
    """Call every write route once, as someone allowed to; yield (method, path, response)."""
    admin, supervisor = token_for(client, org.admin), token_for(client, org.supervisor)
    cadre, secretary = token_for(client, org.cadre), token_for(client, org.secretary)
    far = dict(lat=org.village.lat + 0.1, lon=org.village.lon)

    def call(method, path, auth=None, **kw):
        return method, path, client.open(path, method=method, headers=auth or {}, **kw)

    yield call("POST", "/api/v1/auth/login", json={"username": "cadre", "password": PASSWORD})
    yield call("POST", "/api/v1/units", admin, json={
        "code": "341122102", "name": "南镇", "level": "township", "parent_code": "341122"})
    yield call("POST", "/api/v1/villages", admin, json={
        "code": "341122102201", "name": "新村", "township_code": "341122102",
        "lat": 32.1, "lon": 118.2})
    yield call("PATCH", "/api/v1/villages/341122102201", admin, json={"radius_m": 800})
    step = call("POST", "/api/v1/users", admin, json={
        "username": "newcadre", "password": "new-cadre-1", "name": "新人", "role": "cadre",
        "unit_code": org.town.code})
    yield step
    newcomer = step[2].get_json()["id"]
    yield call("PATCH", f"/api/v1/users/{newcomer}", admin, json={"name": "新同志"})
    yield call("PUT", f"/api/v1/users/{newcomer}/linked-villages", admin,
               json={"village_codes": [org.village.code]})
    yield call("POST", f"/api/v1/users/{newcomer}/reset-password", admin)
    yield call("POST", "/api/v1/imports/villages", admin, content_type="text/csv",
               data="code,name,township_code,lat,lon,radius_m,crs\n"
                    "341122100209,九里村,341122100,32.31,118.31,800,\n".encode())
    yield call("POST", "/api/v1/imports/users", admin, content_type="text/csv",
               data="username,name,role,unit_code,active_from,active_until,village_codes\n"
                    "wangwu,王五,cadre,341122100,,,\n".encode())
    step = call("POST", f"/api/v1/users/{org.colleague.id}/posts", admin,
                json={"unit_code": org.town2.code, "role": "cadre", "from": "2026-03-01"})
    yield step
    yield call("PATCH", f"/api/v1/users/{org.colleague.id}/posts/{step[2].get_json()['id']}",
               admin, json={"from": "2026-03-02"})
    yield call("POST", "/api/v1/imports/posts", admin, content_type="text/csv",
               data=f"username,unit_code,role,from\n{org.colleague.username},"
                    f"{org.town.code},secretary,2026-04-01\n".encode())
    step = call("POST", "/api/v1/visits", cadre, json=check_in_body(
        org.village, hours_ago=8, **far, check_out={"at": at(7)}))
    yield step
    flagged = step[2].get_json()["id"]
    yield call("POST", f"/api/v1/visits/{flagged}/explain", cadre, json={"note": "信号漂移"})
    yield call("POST", f"/api/v1/visits/{flagged}/review", supervisor,
               json={"decision": "approve"})
    step = call("POST", "/api/v1/visits", cadre, json=check_in_body(org.village, hours_ago=6))
    yield step
    moved = step[2].get_json()["id"]
    yield call("POST", f"/api/v1/visits/{moved}/village", cadre,
               json={"village_code": org.village_b.code})
    yield call("POST", f"/api/v1/visits/{moved}/check-out", cadre, json={"at": at(5)})
    yield call("POST", "/api/v1/visits/review", supervisor,
               json={"ids": [moved], "decision": "reject", "comment": "不在村"})
    step = call("POST", "/api/v1/visits", cadre, json=check_in_body(org.village, hours_ago=4))
    yield step
    yield call("POST", f"/api/v1/visits/{step[2].get_json()['id']}/withdraw", cadre)
    for decision in ("acknowledge", "withdraw"):
        step = call("POST", "/api/v1/reports", secretary, json={
            "client_id": check_in_body(org.village)["client_id"], "reported_on": "2026-01-05",
            "title": f"专题汇报（{decision}）"})
        yield step
        report = step[2].get_json()["id"]
        if decision == "withdraw":
            yield call("POST", f"/api/v1/reports/{report}/withdraw", secretary)
        else:
            yield call("POST", f"/api/v1/reports/{report}/review", supervisor,
                       json={"decision": decision})
    step = call("POST", "/api/v1/absences", supervisor, json={
        "user_id": org.cadre.id, "start": "2026-01-05", "end": "2026-01-06", "kind": "leave"})
    yield step
    yield call("POST", f"/api/v1/absences/{step[2].get_json()['id']}/withdraw", supervisor)
    yield call("PUT", f"/api/v1/users/{org.secretary.id}/opening-balance/2026", admin,
               json={"village_days": 10, "reports": 1, "note": "纸质台账"})
    yield call("PUT", "/api/v1/calendars/2027", admin, content_type="text/csv",
               data=b"date,kind\n2027-01-01,holiday\n")
    step = call("POST", "/api/v1/rectifications", supervisor, json={
        "unit_code": org.town.code, "year": 2025, "title": "村级活动场所利用率不高"})
    yield step
    item = step[2].get_json()["id"]
    yield call("POST", f"/api/v1/rectifications/{item}/notes", secretary,
               json={"note": "已整改", "claim_done": True})
    yield call("POST", f"/api/v1/rectifications/{item}/review", supervisor,
               json={"decision": "confirm"})
    yield call("POST", "/api/v1/closings", supervisor,
               json={"year": 2025, "unit_code": org.county.code, "note": "会后封存"})
    yield call("POST", f"/api/v1/closings/2025/{org.county.code}/reopen", admin,
               json={"reason": "补录"})
    yield call("POST", "/api/v1/auth/unlock", admin, json={"username": "cadre"})
    yield call("POST", "/api/v1/me/password", cadre,
               json={"old_password": PASSWORD, "new_password": "a-new-pass-2026"})
    yield call("POST", "/api/v1/auth/logout", cadre)


def test_no_write_route_edits_or_deletes_the_audit_trail(app, client, org, statements):
    adapter = app.url_map.bind("localhost")
    covered, before = set(), audit_rows()
    for method, path, response in every_write(client, org):
        assert response.status_code < 300, (method, path, response.get_json())
        rule, _ = adapter.match(path, method=method, return_rule=True)
        covered.add((method, rule.rule))
        after = audit_rows()
        for table in AUDIT_TABLES:
            assert before[table] <= after[table], f"{method} {path} changed {table}"
        before = after
    assert covered == write_routes(app), "every write route is exercised here"
    assert all(before[table] for table in AUDIT_TABLES), "the scenario wrote to both trails"
    changed = {m.group(2).lower() for s in statements for m in [re.match(
        r'\s*(UPDATE|DELETE\s+FROM)\s+"?(\w+)', s, re.IGNORECASE)] if m}
    assert not changed & set(AUDIT_TABLES)
    deleted = {m.group(1).lower() for s in statements
               for m in [re.match(r'\s*DELETE\s+FROM\s+"?(\w+)', s, re.IGNORECASE)] if m}
    assert deleted <= REPLACEABLE


def test_the_audit_trail_takes_no_method_but_reading(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.endswith("/events") or rule.rule.startswith("/api/v1/audit"):
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    assert not any("DELETE" in rule.methods for rule in app.url_map.iter_rules())


def test_the_orm_refuses_to_change_an_audit_row(app, client, org):
    from server.visits.models import VisitEvent
    auth = token_for(client, org.cadre)
    client.post("/api/v1/visits", json=check_in_body(org.village), headers=auth)
    entry = db.session.scalars(select(VisitEvent)).first()
    entry.comment = "改写历史"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalars(select(VisitEvent)).first())
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("reader, status", [
    ("cadre", 200), ("secretary", 200), ("town_supervisor", 200), ("supervisor", 200),
    ("admin", 200), ("root", 200),
    ("colleague", 404), ("town2_cadre", 404), ("other_cadre", 404), ("other_supervisor", 404),
])
def test_a_visits_trail_is_readable_in_scope_and_hidden_outside_it(client, org, reader, status):
    auth = token_for(client, org.cadre)
    visit = client.post("/api/v1/visits", json=check_in_body(org.village, hours_ago=3),
                        headers=auth).get_json()
    client.post(f"/api/v1/visits/{visit['id']}/check-out", json={"at": at(1)}, headers=auth)
    response = client.get(f"/api/v1/visits/{visit['id']}/events",
                          headers=token_for(client, getattr(org, reader)))
    assert response.status_code == status
    if status == 200:
        assert len(response.get_json()) >= 2
        assert {e["actor_name"] for e in response.get_json()} >= {org.cadre.name}


@pytest.fixture
def village_edited(client, org):
    admin = token_for(client, org.admin)
    response = client.patch(f"/api/v1/villages/{org.village.code}", headers=admin,
                            json={"radius_m": 600})
    assert response.status_code == 200
    return org.village.code


@pytest.mark.parametrize("reader, status", [
    ("supervisor", 200), ("town_supervisor", 200), ("admin", 200), ("root", 200),
    ("other_supervisor", 404), ("cadre", 403), ("secretary", 403),
])
def test_the_audit_log_of_a_village_is_readable_by_supervisors_and_admins_in_scope(
        client, org, village_edited, reader, status):
    response = client.get(f"/api/v1/audit?entity=village&key={village_edited}",
                          headers=token_for(client, getattr(org, reader)))
    assert response.status_code == status
    if status == 200:
        [entry] = response.get_json()
        assert entry["action"] == "updated" and entry["actor_name"] == org.admin.name
        assert "radius_m" in str(entry["changes"])


@pytest.mark.parametrize("query, status", [
    ("entity=village&key=999999999999", 404),
    ("entity=user&key=99999999999999999999", 404),
    ("entity=visit&key=1", 422),
    ("entity=user", 422),
])
def test_the_audit_log_does_not_tell_what_does_not_exist(client, org, query, status):
    response = client.get(f"/api/v1/audit?{query}", headers=token_for(client, org.supervisor))
    assert response.status_code == status


def test_a_password_reset_is_in_the_persons_audit_log(client, org):
    admin = token_for(client, org.admin)
    client.post(f"/api/v1/users/{org.colleague.id}/reset-password", headers=admin)
    log = client.get(f"/api/v1/audit?entity=user&key={org.colleague.id}", headers=admin)
    assert [e["action"] for e in log.get_json()] == ["password_reset"]
    assert org.colleague.id and "password" not in str(log.get_json()[0]["changes"]).lower()


# --- hostile input: what tests/api/test_fuzz.py found, pinned down --------------------------

FOUND = [
    # (what it was, actor, method, path, body, status now)
    ("a visit id beyond INTEGER overflowed the query (500)",
     "cadre", "GET", "/api/v1/visits/99999999999999999999", None, 404),
    ("a superscript digit passed str.isdigit() and broke int() (500)",
     "cadre", "GET", "/api/v1/visits/%C2%B2", None, 404),
    ("a user id in a body beyond INTEGER overflowed the query (500)",
     "supervisor", "POST", "/api/v1/reports", {"client_id": "27c4890e-116c-49d8-ba68-69d38a771a54",
                                               "reported_on": "2026-01-05", "title": "汇报",
                                               "user_id": 10**33}, 422),
    ("an id beyond INTEGER in a path was a 405 naming GET, which answered 404",
     "admin", "PATCH", "/api/v1/users/2147483648", {"name": "x"}, 404),
    ("/visits/review was taken for a visit called 'review' by GET",
     "supervisor", "GET", "/api/v1/visits/review", None, 405),
    ("the last day of 9999 overflowed the day bounds of the visit list (500)",
     "supervisor", "GET", "/api/v1/visits?to=9999-12-31", None, 422),
    ("the first day of year 1 overflowed them too (500)",
     "supervisor", "GET", "/api/v1/visits?from=0001-01-01", None, 422),
    ("as_of in year 1 broke the compliance computation (500)",
     "secretary", "GET", "/api/v1/compliance/me?as_of=0001-01-01", None, 422),
    ("a check-in in year 936 was stored and shown with a +08:05:43 offset",
     "cadre", "POST", "/api/v1/visits", {"client_id": "27c4890e-116c-49d8-ba68-69d38a771a55",
                                         "village_code": "341122100201",
                                         "check_in": {"at": "0936-09-24T00:45:38+08:00"}}, 422),
    ("0 was taken for false",
     "supervisor", "POST", "/api/v1/absences", {"user_id": 1, "start": "2026-01-05",
                                                "end": "2026-01-05", "kind": "leave",
                                                "counts_as_village_work": 0}, 422),
    ("a code with a trailing newline passed ^…$",
     "admin", "POST", "/api/v1/units", {"code": "AB\n", "name": "单位", "level": "township",
                                        "parent_code": "341122"}, 422),
    ("U+0000 in a username broke PostgreSQL (500)",
     None, "POST", "/api/v1/auth/login", {"username": "\x00x", "password": "whatever1"}, 422),
    ("U+0000 in a path broke PostgreSQL (500)",
     "admin", "GET", "/api/v1/villages/%00", None, 404),
    ("a page far past the end overflowed the OFFSET (500)",
     "supervisor", "GET", "/api/v1/visits?page=150675921486559182848", None, 200),
]


@pytest.mark.parametrize("why, who, method, path, body, status", FOUND,
                         ids=[found[0] for found in FOUND])
def test_what_the_fuzzer_found_stays_fixed(client, org, why, who, method, path, body, status):
    auth = token_for(client, getattr(org, who)) if who else {}
    response = client.open(path, method=method, json=body, headers=auth)
    assert response.status_code == status, response.get_json()
    if status >= 400:
        assert set(response.get_json()) >= {"code", "message"}
    if status == 405:
        assert "GET" not in response.headers["Allow"]


def test_an_api_path_never_advertises_the_phone_apps_get(client):
    response = client.options("/api/v1/auth/login")
    assert {m.strip() for m in response.headers["Allow"].split(",")} == {"POST", "OPTIONS"}


@pytest.mark.parametrize("path, header", [
    ("/api/v1/imports/villages", "code,name,township_code,lat,lon"),
    ("/api/v1/imports/users", "username,name,role,unit_code"),
    ("/api/v1/calendars/2027", "date,kind"),
])
def test_a_csv_field_too_long_for_the_csv_module_is_an_error_of_its_row(client, org, path,
                                                                        header):
    body = f"{header}\n" + '"' + "x" * 200_000 + '",a,b,c,d\n'  # was a 500 (csv.Error)
    response = client.open(path, method="PUT" if "calendars" in path else "POST",
                           data=body.encode(), content_type="text/csv",
                           headers=token_for(client, org.admin))
    assert response.status_code == 422
    assert response.get_json()["errors"]["rows"][0]["row"] == 2


def test_a_csv_with_old_mac_line_endings_imports(client, org):
    body = ("code,name,township_code,lat,lon\r341122100209,九里村,341122100,32.31,118.31\r"
            "341122100210,十里村,341122100,32.32,118.32\r")  # was a 500 (csv.Error)
    response = client.post("/api/v1/imports/villages", data=body.encode(),
                           content_type="text/csv", headers=token_for(client, org.admin))
    assert response.status_code == 201
    assert response.get_json()["imported"] == 2


def test_a_roll_up_in_january_answers_and_agrees_with_the_persons_own_results(client, org):
    # Any as_of in January but the 31st was a 500: the month so far had no running total
    # to start from and its query lost its column names.
    cadre, supervisor = token_for(client, org.cadre), token_for(client, org.supervisor)
    point = {"lat": org.village.lat, "lon": org.village.lon, "accuracy_m": 10}
    visit = client.post("/api/v1/visits", headers=cadre, json={
        "client_id": "0b0c6a3e-6a55-4f6e-9a1a-3c1e0e5b7a01", "village_code": org.village.code,
        "check_in": {"at": "2026-01-05T08:00:00+08:00", "location": point},
        "check_out": {"at": "2026-01-05T16:00:00+08:00", "location": point}}).get_json()
    client.post(f"/api/v1/visits/{visit['id']}/review", headers=supervisor,
                json={"decision": "approve"})
    query = "as_of=2026-01-15"
    rollup = client.get(f"/api/v1/compliance?unit_code={org.town.code}&{query}",
                        headers=supervisor)
    assert rollup.status_code == 200
    [row] = [r for r in rollup.get_json()["rows"] if r["user"]["id"] == org.cadre.id]
    own = client.get(f"/api/v1/compliance/users/{org.cadre.id}?{query}",
                     headers=supervisor).get_json()
    assert row["rules"] == own["rules"]
    assert next(r for r in own["rules"] if r["rule_id"] == "village_time")["actual"] == 1
