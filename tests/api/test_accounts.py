"""Accounts (API.md "General"): logging in and out, tokens, passwords and the login throttle."""
from __future__ import annotations

import os
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text, update

from server.auth.models import AuthToken, LoginAttempt, User
from server.extensions import db
from tests.conftest import PASSWORD, make_user, token_for

LOGIN = "/api/v1/auth/login"
CJK = re.compile(r"[\u4e00-\u9fff]")


def login(client, username, password=PASSWORD, **kw):
    return client.post(LOGIN, json={"username": username, "password": password}, **kw)


def fail_logins(client, username, times):
    """Log in ``times`` times with a wrong password; each must be refused as bad credentials."""
    for _ in range(times):
        response = login(client, username, "wrong-password-0")
        assert response.status_code == 401, response.get_json()


def age_login_attempts(seconds):
    """Pretend every recorded login attempt happened ``seconds`` earlier."""
    for attempt in db.session.scalars(select(LoginAttempt)):
        attempt.at = attempt.at - timedelta(seconds=seconds)
    db.session.commit()


def change_password(client, auth, old, new):
    return client.post("/api/v1/me/password", headers=auth,
                       json={"old_password": old, "new_password": new})


# --- logging in and out ---------------------------------------------------------------------

def test_login_returns_a_token_that_lives_about_thirty_days_and_the_user(client, org):
    response = login(client, "cadre")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert isinstance(body["token"], str) and len(body["token"]) >= 20
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert expires_at.utcoffset() is not None
    lifetime = expires_at - datetime.now(UTC)
    assert timedelta(days=29, hours=23) < lifetime <= timedelta(days=30)
    assert body["user"]["id"] == org.cadre.id
    assert body["user"]["username"] == "cadre"
    assert body["user"]["role"] == "cadre"
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json()["user"]["id"] == org.cadre.id


@pytest.mark.parametrize("username, password", [
    ("cadre", "wrong-password-0"),
    ("nobody", PASSWORD),
    ("admin", PASSWORD + "x"),
])
def test_wrong_credentials_are_refused_with_401(client, org, username, password):
    response = login(client, username, password)
    assert response.status_code == 401
    assert response.get_json()["code"] == "bad_credentials"


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Basic Y2FkcmU6eA=="},
])
def test_a_call_without_a_valid_token_is_refused_with_401(client, org, headers):
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert set(response.get_json()) >= {"code", "message"}


def test_logout_revokes_the_token(client, org):
    auth = token_for(client, org.cadre)
    response = client.post("/api/v1/auth/logout", headers=auth)
    assert response.status_code in (200, 204)
    assert client.get("/api/v1/me", headers=auth).status_code == 401


def test_logout_leaves_other_sessions_alone(client, org):
    phone = token_for(client, org.cadre)
    laptop = token_for(client, org.cadre)
    client.post("/api/v1/auth/logout", headers=phone)
    assert client.get("/api/v1/me", headers=laptop).status_code == 200


@pytest.mark.parametrize("app_config", [{"TOKEN_LIFETIME_DAYS": 0}])
def test_a_token_past_its_lifetime_is_refused(client, org, app_config):
    response = login(client, "cadre")
    assert response.status_code == 200
    auth = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert client.get("/api/v1/me", headers=auth).status_code == 401


@pytest.mark.parametrize("expired_ago, status", [
    (timedelta(seconds=1), 401),
    (timedelta(days=1), 401),
    (-timedelta(minutes=1), 200),  # still a minute to live
])
def test_a_token_expires_at_its_stored_expiry(client, org, expired_ago, status):
    auth = token_for(client, org.cadre)
    db.session.execute(update(AuthToken).values(
        expires_at=datetime.now(UTC) - expired_ago))
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth).status_code == status


# --- deactivation ---------------------------------------------------------------------------

def test_deactivating_a_user_revokes_their_tokens_and_blocks_login(client, org):
    cadre_auth = token_for(client, org.cadre)
    admin_auth = token_for(client, org.admin)
    response = client.patch(f"/api/v1/users/{org.cadre.id}", json={"active": False},
                            headers=admin_auth)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["active"] is False
    assert client.get("/api/v1/me", headers=cadre_auth).status_code == 401
    assert login(client, "cadre").status_code == 401


def test_a_reactivated_user_logs_in_again_but_old_tokens_stay_revoked(client, org):
    cadre_auth = token_for(client, org.cadre)
    admin_auth = token_for(client, org.admin)
    client.patch(f"/api/v1/users/{org.cadre.id}", json={"active": False}, headers=admin_auth)
    response = client.patch(f"/api/v1/users/{org.cadre.id}", json={"active": True},
                            headers=admin_auth)
    assert response.status_code == 200
    assert client.get("/api/v1/me", headers=cadre_auth).status_code == 401
    assert login(client, "cadre").status_code == 200


# --- one's own password ---------------------------------------------------------------------

def test_changing_ones_password_with_a_wrong_old_password_is_refused(client, org):
    auth = token_for(client, org.cadre)
    response = change_password(client, auth, "not-my-password", "a-new-password-1")
    assert response.status_code in (400, 422)
    assert set(response.get_json()) >= {"code", "message"}
    assert login(client, "cadre").status_code == 200
    assert login(client, "cadre", "a-new-password-1").status_code == 401


@pytest.mark.parametrize("new_password, status", [
    ("", 422),
    ("1234567", 422),           # 7 characters
    ("colleague", 422),         # the username itself
    ("12345678", 204),          # 8 characters is enough
    ("colleague-2026", 204),
])
def test_a_new_password_follows_the_policy(client, org, new_password, status):
    auth = token_for(client, org.colleague)
    response = change_password(client, auth, PASSWORD, new_password)
    assert response.status_code == status, response.get_json()
    if status == 422:
        assert "new_password" in response.get_json()["errors"]
        assert login(client, "colleague").status_code == 200
    else:
        assert login(client, "colleague", new_password).status_code == 200
        assert login(client, "colleague", PASSWORD).status_code == 401


# --- an admin's password reset --------------------------------------------------------------

def reset(client, org, user):
    response = client.post(f"/api/v1/users/{user.id}/reset-password",
                           headers=token_for(client, org.admin))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["one_time_password"]


def test_a_password_reset_returns_a_one_time_password_once_and_revokes_old_tokens(client, org):
    old_auth = token_for(client, org.cadre)
    one_time = reset(client, org, org.cadre)
    assert isinstance(one_time, str) and len(one_time) >= 8
    assert client.get("/api/v1/me", headers=old_auth).status_code == 401
    assert login(client, "cadre", PASSWORD).status_code == 401
    shown = client.get(f"/api/v1/users/{org.cadre.id}", headers=token_for(client, org.admin))
    assert shown.status_code == 200
    assert one_time not in shown.get_data(as_text=True)
    response = login(client, "cadre", one_time)
    assert response.status_code == 200
    assert response.get_json()["user"]["must_change_password"] is True


@pytest.mark.parametrize("method, path, allowed", [
    ("GET", "/api/v1/me", True),
    ("GET", "/api/v1/me/villages", False),
    ("GET", "/api/v1/visits", False),
    ("GET", "/api/v1/reports", False),
    ("GET", "/api/v1/units", False),
])
def test_with_a_one_time_password_only_me_password_change_and_logout_work(
        client, org, method, path, allowed):
    one_time = reset(client, org, org.cadre)
    auth = token_for(client, org.cadre, one_time)
    response = client.open(path, method=method, headers=auth)
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert response.get_json()["code"] == "password_change_required"


def test_after_changing_the_one_time_password_everything_works_again(client, org):
    one_time = reset(client, org, org.cadre)
    auth = token_for(client, org.cadre, one_time)
    assert client.get("/api/v1/visits", headers=auth).status_code == 403
    assert change_password(client, auth, one_time, "my-own-password-1").status_code == 204
    assert client.get("/api/v1/visits", headers=auth).status_code == 200
    me = client.get("/api/v1/me", headers=auth).get_json()
    assert me["user"]["must_change_password"] is False
    assert login(client, "cadre", "my-own-password-1").status_code == 200


def test_a_user_with_a_one_time_password_may_log_out(client, org):
    one_time = reset(client, org, org.cadre)
    auth = token_for(client, org.cadre, one_time)
    assert client.post("/api/v1/auth/logout", headers=auth).status_code in (200, 204)
    assert client.get("/api/v1/me", headers=auth).status_code == 401


# --- what is stored -------------------------------------------------------------------------

def test_passwords_are_stored_as_scrypt_hashes(client, org):
    make_user(org.town, username="hashed", password="plain-text-secret")
    stored = db.session.scalar(select(User.password_hash).where(User.username == "hashed"))
    assert stored.startswith("scrypt")
    assert "plain-text-secret" not in stored


def test_tokens_are_stored_only_as_digests(client, org):
    raw = login(client, "cadre").get_json()["token"]
    rows = db.session.execute(text("SELECT * FROM auth_tokens")).all()
    assert len(rows) == 1
    assert not any(raw in str(value) for value in rows[0])


# --- the login throttle ---------------------------------------------------------------------

@pytest.mark.parametrize("username", ["cadre", "nobody"])
def test_five_failures_lock_a_username_for_fifteen_minutes_even_for_the_right_password(
        client, org, username):
    fail_logins(client, username, 5)
    response = login(client, username, PASSWORD)
    assert response.status_code == 429
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    assert response.get_json()["code"]


def test_four_failures_do_not_lock(client, org):
    fail_logins(client, "cadre", 4)
    assert login(client, "cadre").status_code == 200


def test_failures_for_one_username_do_not_lock_another(client, org):
    fail_logins(client, "cadre", 5)
    assert login(client, "cadre").status_code == 429
    assert login(client, "colleague").status_code == 200


@pytest.mark.parametrize("minutes_ago, status", [
    (14, 429),   # within the window: four old failures and one new make five
    (16, 200),   # the old ones have left the window
])
def test_failures_count_within_a_sliding_fifteen_minute_window(client, org, minutes_ago, status):
    fail_logins(client, "cadre", 4)
    age_login_attempts(minutes_ago * 60)
    fail_logins(client, "cadre", 1)
    assert login(client, "cadre").status_code == status


@pytest.mark.parametrize("seconds_later, status", [(14 * 60, 429), (15 * 60 + 1, 200)])
def test_a_lock_ends_after_fifteen_minutes(client, org, seconds_later, status):
    fail_logins(client, "cadre", 5)
    assert login(client, "cadre").status_code == 429
    age_login_attempts(seconds_later)
    assert login(client, "cadre").status_code == status


def test_an_admin_lifts_a_lock(client, org):
    admin_auth = token_for(client, org.admin)
    fail_logins(client, "cadre", 5)
    assert login(client, "cadre").status_code == 429
    response = client.post("/api/v1/auth/unlock", json={"username": "cadre"}, headers=admin_auth)
    assert response.status_code in (200, 204)
    assert login(client, "cadre").status_code == 200


@pytest.mark.parametrize("who", ["supervisor", "colleague"])
def test_only_an_admin_lifts_a_lock(client, org, who):
    auth = token_for(client, getattr(org, who))
    fail_logins(client, "cadre", 5)
    response = client.post("/api/v1/auth/unlock", json={"username": "cadre"}, headers=auth)
    assert response.status_code == 403
    assert login(client, "cadre").status_code == 429


def test_one_address_is_not_throttled_below_sixty_one_logins_a_minute(client, org):
    people = ["cadre", "colleague", "secretary", "town2cadre", "townsup"]
    for n in range(61):
        response = login(client, people[n % len(people)],
                         environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 200, (n, response.get_json())


@pytest.mark.parametrize("app_config", [{"LOGIN_ADDRESS_LIMIT_PER_MINUTE": 10}])
def test_a_configured_address_limit_below_sixty_is_raised_to_sixty(client, org, app_config):
    for n in range(60):
        response = login(client, "cadre", environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 200, (n, response.get_json())


@pytest.mark.parametrize("app_config", [{"LOGIN_ADDRESS_LIMIT_PER_MINUTE": 60,
                                         "TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_the_address_comes_from_x_forwarded_for(client, org, app_config):
    def from_office(office):
        return login(client, "cadre", headers={"X-Forwarded-For": office},
                     environ_base={"REMOTE_ADDR": "10.0.0.1"})
    for n in range(60):
        assert from_office("203.0.113.7").status_code == 200, n
    assert from_office("203.0.113.7").status_code == 429
    assert from_office("203.0.113.8").status_code == 200


@pytest.mark.parametrize("app_config", [{"LOGIN_ADDRESS_LIMIT_PER_MINUTE": 60}])
def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, org, app_config):
    for n in range(60):
        response = login(client, "cadre", headers={"X-Forwarded-For": f"203.0.113.{n}"},
                         environ_base={"REMOTE_ADDR": "10.0.0.1"})
        assert response.status_code == 200, n
    response = login(client, "cadre", headers={"X-Forwarded-For": "198.51.100.1"},
                     environ_base={"REMOTE_ADDR": "10.0.0.1"})
    assert response.status_code == 429


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_answers() -> bool:
    try:
        import redis
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except Exception:
        return False


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URL": REDIS_URL}])
def test_the_lock_works_the_same_with_redis(client, org, app_config):
    if not redis_answers():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis does not answer at {REDIS_URL}")
        pytest.skip(f"Redis does not answer at {REDIS_URL}")
    person = make_user(org.town, username=f"redis-{uuid.uuid4().hex[:12]}")
    admin_auth = token_for(client, org.admin)
    fail_logins(client, person.username, 5)
    response = login(client, person.username)
    assert response.status_code == 429
    assert 890 <= int(response.headers["Retry-After"]) <= 900
    assert db.session.scalar(select(func.count(LoginAttempt.id))) == 0   # nothing in the table
    client.post("/api/v1/auth/unlock", json={"username": person.username}, headers=admin_auth)
    assert login(client, person.username).status_code == 200


# --- error bodies ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers, english", [
    ({}, False),
    ({"Accept-Language": "zh-CN,zh;q=0.9"}, False),
    ({"Accept-Language": "en"}, True),
    ({"Accept-Language": "en-US,en;q=0.9,zh;q=0.5"}, True),
])
def test_errors_carry_a_code_and_a_message_in_the_requested_language(
        client, org, headers, english):
    response = login(client, "cadre", "wrong-password-0", headers=headers)
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == "bad_credentials"
    assert body["message"]
    assert bool(CJK.search(body["message"])) is not english
