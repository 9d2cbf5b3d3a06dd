"""The org and auth areas as a service layer (docs/decisions.md, "One commit point"): the
services flush and the request's commit point commits; a refusal leaves nothing behind, except
a failed login, which must still count toward the lock; the services read no request or app."""
from __future__ import annotations

import ast
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from server.audit.models import AuditEvent
from server.auth.models import AuthToken, LoginAttempt, User
from server.auth.services import (
    BadCredentials,
    LoginSettings,
    issue_token,
    user_for_token,
)
from server.auth.throttle import DatabaseAttempts
from server.errors import Conflict, Throttled
from server.extensions import db
from tests.conftest import PASSWORD, token_for

SERVER = Path(__file__).resolve().parents[2] / "server"
OWN_UNITS_OF_WORK = {"imports.py", "jobs.py"}  # CSV imports commit their own rows
MODULES = sorted([p for p in (SERVER / "org").glob("*.py") if p.name not in OWN_UNITS_OF_WORK]
                 + list((SERVER / "auth").glob("*.py")))
SERVICES = [SERVER / "org" / "services.py", SERVER / "auth" / "services.py"]


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


# --- (a) one commit point, explicit inputs ------------------------------------------------------

@pytest.mark.parametrize("path", MODULES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_org_or_auth_module_commits(path):
    commits = [node.lineno for node in ast.walk(_tree(path))
               if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr == "commit"]
    assert commits == [], f"{path.name} commits at lines {commits}"


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_services_read_no_request_app_or_g(path):
    found = []
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "flask":
            found += [a.name for a in node.names if a.name in {"request", "current_app", "g"}]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "flask"]
    assert found == [], f"{path.name} imports {found} from flask"


@pytest.mark.parametrize("area", ["org", "auth"])
def test_the_routes_run_no_queries_of_their_own(area):
    source = (SERVER / area / "routes.py").read_text(encoding="utf-8")
    for word in ("db.session", "select(", "from sqlalchemy", "..extensions"):
        assert word not in source


def test_a_token_lives_as_long_as_the_settings_say_from_the_time_given(org):
    issued_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    raw, token = issue_token(org.cadre, lifetime=timedelta(days=2), now=issued_at)
    assert token.expires_at == issued_at + timedelta(days=2)
    assert user_for_token(raw, now=issued_at + timedelta(days=1))[0].id == org.cadre.id
    assert user_for_token(raw, now=issued_at + timedelta(days=2)) is None


def test_the_login_settings_come_from_the_apps_configuration(app):
    settings = LoginSettings.from_config({**app.config, "LOGIN_FAILURE_LIMIT": 3,
                                          "TOKEN_LIFETIME_DAYS": 7})
    assert settings.failure_limit == 3
    assert settings.token_lifetime == timedelta(days=7)
    assert settings.failure_window_s == 15 * 60
    assert isinstance(settings.store, DatabaseAttempts)


# --- (b) a failed login keeps what it wrote ---------------------------------------------------

def _committed(statement):
    """Read through a connection of its own: only what was committed is there."""
    with db.engine.connect() as connection:
        return connection.execute(statement).scalar()


def test_a_failed_login_is_a_refusal_that_keeps_its_writes_and_a_lock_is_not():
    assert BadCredentials("bad_credentials").keeps_writes is True
    assert Throttled("throttled").keeps_writes is False
    assert Conflict("duplicate").keeps_writes is False


def test_five_failed_logins_lock_the_account_in_the_database_store(client, org):
    assert client.application.config["RATELIMIT_STORAGE_URL"] is None  # the database store
    for attempt in range(1, 6):
        response = client.post("/api/v1/auth/login",
                               json={"username": "cadre", "password": "wrong-password-0"})
        assert response.status_code == 401
        assert response.get_json()["code"] == "bad_credentials"
        # each failure is committed, not merely pending in the refused request's session
        failures = _committed(text("SELECT count(*) FROM login_attempts WHERE key = 'fail:cadre'"))
        assert failures == (attempt if attempt < 5 else 0)  # the fifth turns into the lock
    assert _committed(text("SELECT count(*) FROM login_attempts WHERE key = 'lock:cadre'")) == 1
    response = client.post("/api/v1/auth/login", json={"username": "cadre", "password": PASSWORD})
    assert response.status_code == 429
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    assert _committed(select(func.count(AuthToken.id))) == 0  # no token for the right password


def test_a_successful_login_commits_its_token(client, org):
    response = client.post("/api/v1/auth/login", json={"username": "cadre", "password": PASSWORD})
    assert response.status_code == 200
    assert _committed(select(func.count(AuthToken.id))) == 1
    assert _committed(select(func.count(LoginAttempt.id))) == 1  # the address's count only


# --- (c) a refused org write leaves nothing behind -------------------------------------------

def _audit_events() -> int:
    return _committed(select(func.count(AuditEvent.id)))


def test_a_user_change_refused_for_an_out_of_scope_unit_changes_nothing(client, org):
    admin = token_for(client, org.admin)  # 示范县's admin; 北镇 is next door
    events = _audit_events()
    response = client.patch(f"/api/v1/users/{org.cadre.id}", headers=admin,
                            json={"name": "改名", "active": False,
                                  "unit_code": org.other_town.code})
    assert response.status_code == 403
    assert response.get_json()["code"] == "out_of_scope"
    db.session.expire_all()
    shown = client.get(f"/api/v1/users/{org.cadre.id}", headers=admin).get_json()
    assert (shown["name"], shown["unit_code"], shown["active"]) == ("张三", org.town.code, True)
    assert _audit_events() == events


def test_a_user_change_refused_after_it_was_written_and_flushed_is_rolled_back(
        client, org, monkeypatch):
    """The service changed the person, revoked their tokens and flushed; a refusal after that
    (here: the audit trail refusing) must undo all of it."""
    import server.org.services as org_services
    cadre = token_for(client, org.cadre)
    admin = token_for(client, org.admin)
    events = _audit_events()

    def refuse(*args, **kwargs):
        db.session.flush()
        assert db.session.get(User, org.cadre.id).name == "改名"  # written, not yet committed
        raise Conflict("duplicate")
    monkeypatch.setattr(org_services, "record", refuse)
    response = client.patch(f"/api/v1/users/{org.cadre.id}", headers=admin,
                            json={"name": "改名", "active": False})
    assert response.status_code == 409
    monkeypatch.undo()
    assert _committed(select(User.name).where(User.id == org.cadre.id)) == "张三"
    assert _committed(select(User.active).where(User.id == org.cadre.id)) in (True, 1)
    assert _committed(select(func.count(AuthToken.id)).where(
        AuthToken.user_id == org.cadre.id, AuthToken.revoked_at.is_not(None))) == 0
    assert client.get("/api/v1/me", headers=cadre).status_code == 200  # the session lives on
    assert _audit_events() == events


def test_linked_villages_refused_for_one_code_keep_the_old_links(client, org):
    admin = token_for(client, org.admin)
    response = client.put(f"/api/v1/users/{org.cadre.id}/linked-villages", headers=admin,
                          json={"village_codes": [org.village.code, org.village2.code]})
    assert response.status_code == 422
    db.session.expire_all()
    shown = client.get(f"/api/v1/users/{org.cadre.id}", headers=admin).get_json()
    assert sorted(shown["linked_village_codes"]) == sorted([org.village.code,
                                                            org.village_b.code])


def test_a_created_user_is_answered_with_its_id_and_committed(client, org):
    admin = token_for(client, org.admin)
    response = client.post("/api/v1/users", headers=admin, json={
        "username": "newcadre", "password": PASSWORD, "name": "新干部", "role": "cadre",
        "unit_code": org.town.code})
    assert response.status_code == 201
    body = response.get_json()
    assert body["unit_code"] == org.town.code and body["unit_name"] == "东镇"
    assert _committed(select(User.username).where(User.id == body["id"])) == "newcadre"


def test_every_api_view_runs_inside_the_commit_point(app):
    """A blueprint left out of API_BLUEPRINTS answers 201 and keeps nothing: its writes are
    flushed but never committed (the test client's shared session would not show it)."""
    from server import API_BLUEPRINTS
    api_endpoints = {rule.endpoint for rule in app.url_map.iter_rules()
                     if rule.rule.startswith("/api/v1/")}
    outside = {e for e in api_endpoints if e.partition(".")[0] not in API_BLUEPRINTS
               and not e.startswith("api-docs")}
    assert outside == set()
