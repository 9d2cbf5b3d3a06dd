"""Logging in and out, tokens, password changes and the login throttle."""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, g, request
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import policy
from ..config import token_lifetime
from ..db_types import as_loaded, attribute_keys, core_rows, utcnow
from ..errors import Forbidden, InvalidInput, Throttled, Unauthorized
from ..extensions import db
from ..org.models import Unit
from .models import AuthToken, User
from .passwords import check_policy, hash_password, verify_password
from .throttle import attempts_store
from .usernames import username_key

# Paths a user holding a one-time password may still call.
PASSWORD_CHANGE_PATHS = {"/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout"}
PUBLIC_PATHS = {"/api/v1/auth/login", "/api/v1/openapi.json"}


def token_digest(raw: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> tuple[str, AuthToken]:
    """Create a token for the user; only its digest is stored."""
    raw = secrets.token_urlsafe(32)
    token = AuthToken(user_id=user.id, token_hash=token_digest(raw),
                      expires_at=utcnow() + token_lifetime(current_app.config))
    db.session.add(token)
    return raw, token


def revoke_all_tokens(user_id: int, keep: int | None = None) -> None:
    """Revoke every live token of the user (deactivation, password reset or change), but the
    one ``keep`` names."""
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthToken.id != keep)
    db.session.execute(query.values(revoked_at=utcnow()))


# What nearly every request needs, in one round trip: the token, its user and their unit,
# read as columns (see ``as_loaded``). Built once: composing it would cost more than running it.
_USERS, _UNITS = User.__table__, Unit.__table__
TOKEN_WITH_USER = (select(AuthToken.id, AuthToken.expires_at, AuthToken.revoked_at,
                          *_USERS.columns, *_UNITS.columns)
                   .join(_USERS, AuthToken.user_id == _USERS.c.id)
                   .outerjoin(_UNITS, _USERS.c.unit_id == _UNITS.c.id)
                   .where(AuthToken.token_hash == bindparam("digest")))
_USER_KEYS, _UNIT_KEYS = attribute_keys(User, _USERS), attribute_keys(Unit, _UNITS)


def user_for_token(raw: str) -> tuple[User, int] | None:
    """Return the user and the token's id for a live bearer token, or None."""
    session = db.session()
    row = core_rows(session, TOKEN_WITH_USER, {"digest": token_digest(raw)}).first()
    if row is None:
        return None
    token_id, expires_at, revoked_at = row[:3]
    user_values = dict(zip(_USER_KEYS, row[3:3 + len(_USER_KEYS)]))
    if revoked_at is not None or expires_at <= utcnow() or not user_values["active"]:
        return None
    user = as_loaded(session, User, user_values)
    unit = None
    if user_values["unit_id"] is not None:
        unit = as_loaded(session, Unit, dict(zip(_UNIT_KEYS, row[3 + len(_USER_KEYS):])))
    set_committed_value(user, "unit", unit)  # held, not only in the weak identity map
    return user, token_id


def authenticate_request() -> None:
    """Set ``g.user`` from the bearer token for every API path that is not public."""
    path = request.path.rstrip("/") or "/"
    if not path.startswith("/api/v1/") or path in PUBLIC_PATHS or request.method == "OPTIONS":
        return
    if request.routing_exception is not None or request.blueprint == "web":
        return  # 404 and 405 answer the same for everyone; the phone app's files are public
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "bearer" or not raw.strip():
        raise Unauthorized("unauthorized", headers={"WWW-Authenticate": "Bearer"})
    found = user_for_token(raw.strip())
    if found is None:
        raise Unauthorized("token_invalid", headers={"WWW-Authenticate": "Bearer"})
    g.user, g.token_id = found
    if g.user.must_change_password and path not in PASSWORD_CHANGE_PATHS:
        raise Forbidden("password_change_required")


def current_user() -> User:
    """Return the logged-in user of this request."""
    return g.user


# --- login throttle ---------------------------------------------------------------------

def _throttle_keys(username: str) -> tuple[str, str]:
    name = username_key(username)
    return f"fail:{name}", f"lock:{name}"


def _check_address(store, address: str, now) -> None:
    limit = current_app.config["LOGIN_ADDRESS_LIMIT_PER_MINUTE"]
    count, _ = store.since(f"addr:{address}", now - timedelta(seconds=60))
    if count >= max(limit, 60):
        raise Throttled("too_many_requests", headers={"Retry-After": "60"})
    store.hit(f"addr:{address}", now, 60)


def _check_lock(store, username: str, now) -> None:
    window = current_app.config["LOGIN_FAILURE_WINDOW_S"]
    _, lock_key = _throttle_keys(username)
    count, locked_at = store.since(lock_key, now - timedelta(seconds=window))
    if count:
        remaining = int((locked_at + timedelta(seconds=window) - now).total_seconds()) + 1
        raise Throttled("throttled", headers={"Retry-After": str(max(remaining, 1))},
                        minutes=max(1, (remaining + 59) // 60))


def _record_failure(store, username: str, now) -> None:
    window = current_app.config["LOGIN_FAILURE_WINDOW_S"]
    fail_key, lock_key = _throttle_keys(username)
    store.hit(fail_key, now, window)
    count, _ = store.since(fail_key, now - timedelta(seconds=window))
    if count >= current_app.config["LOGIN_FAILURE_LIMIT"]:
        store.hit(lock_key, now, window)
        store.clear(fail_key)


def lift_throttle(actor: User, username: str) -> None:
    """Forget failed logins and any lock for the username (an admin's action). An admin with
    a unit lifts only the locks of people in scope; any other name (unknown ones included, so
    that nothing leaks) is NotFound. Only an admin with no unit lifts any name."""
    if not (actor.role == "admin" and actor.unit_id is None):
        person = db.session.scalar(select(User).where(User.username_key == username_key(username)))
        policy.ensure_visible(person is not None and policy.in_scope(actor, person.unit))
    store = attempts_store(current_app.config)
    for key in _throttle_keys(username):
        store.clear(key)


def login(username: str, password: str, address: str) -> tuple[str, AuthToken, User]:
    """Check the credentials under the throttle and return a new token.

    Raises Throttled (429) while the username is locked or the address floods,
    Unauthorized (401) on wrong credentials.
    """
    store = attempts_store(current_app.config)
    now = utcnow()
    _check_address(store, address, now)
    _check_lock(store, username, now)
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        _record_failure(store, username, now)
        db.session.commit()
        raise Unauthorized("bad_credentials")
    raw, token = issue_token(user)
    db.session.commit()
    return raw, token, user


def logout(token_id: int) -> None:
    """Revoke the token used for this request."""
    db.session.execute(update(AuthToken).where(AuthToken.id == token_id)
                       .values(revoked_at=utcnow()))
    db.session.commit()


def change_own_password(user: User, old_password: str, new_password: str,
                        keep_token_id: int | None = None) -> None:
    """Change the caller's password and clear the one-time flag. Every other session of the
    person ends (a stolen token dies with the old password); the one that changed it stays."""
    if not verify_password(user.password_hash, old_password):
        raise InvalidInput("wrong_password",
                           errors={"old_password": ["wrong_password"]})
    check_policy(user.username, new_password, "new_password")
    if new_password == old_password:
        raise InvalidInput("weak_password", errors={"new_password": ["unchanged"]})
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revoke_all_tokens(user.id, keep=keep_token_id)
    db.session.commit()
