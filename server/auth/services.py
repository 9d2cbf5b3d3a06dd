"""Logging in and out, tokens, password changes and the login throttle.

Services with explicit inputs (docs/decisions.md, "One commit point"): the time (``now``) and
what the app's settings say (``LoginSettings``) are passed in by the views; nothing here reads
the request or the app. The services flush; the request's commit point commits, and keeps the
writes of a failed login (``BadCredentials.keeps_writes``) so that it counts toward the lock
(docs/decisions.md, "Accounts"). Who is calling is read in ``request_auth.py``.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import clock, policy
from ..config import Config, token_lifetime
from ..db_types import as_loaded, attribute_keys, core_rows
from ..errors import InvalidInput, Throttled, Unauthorized
from ..extensions import db
from ..org.models import Unit
from ..org.posts import refresh_summary
from .models import AuthToken, User
from .passwords import check_policy, hash_password, verify_password
from .throttle import DatabaseAttempts, RedisAttempts, attempts_store
from .usernames import username_key


class BadCredentials(Unauthorized):
    """Wrong username or password (401). The refusal keeps what the request wrote: the failure
    it recorded counts toward the lock (docs/decisions.md, "Accounts")."""

    keeps_writes = True


DEFAULT_TOKEN_LIFETIME = timedelta(days=Config.TOKEN_LIFETIME_DAYS)


@dataclass(frozen=True)
class LoginSettings:
    """What logging in reads from the settings (``server/config.py``), handed in explicitly."""

    token_lifetime: timedelta = DEFAULT_TOKEN_LIFETIME
    failure_limit: int = Config.LOGIN_FAILURE_LIMIT
    failure_window_s: int = Config.LOGIN_FAILURE_WINDOW_S
    address_limit_per_minute: int = Config.LOGIN_ADDRESS_LIMIT_PER_MINUTE
    store: DatabaseAttempts | RedisAttempts = field(default_factory=DatabaseAttempts)

    @classmethod
    def from_config(cls, config: Mapping) -> LoginSettings:
        """The settings of an app's configuration (``app.config``)."""
        return cls(token_lifetime=token_lifetime(config),
                   failure_limit=int(config["LOGIN_FAILURE_LIMIT"]),
                   failure_window_s=int(config["LOGIN_FAILURE_WINDOW_S"]),
                   address_limit_per_minute=int(config["LOGIN_ADDRESS_LIMIT_PER_MINUTE"]),
                   store=attempts_store(config))


def token_digest(raw: str) -> str:
    """Return the stored form of a token."""
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User, *, lifetime: timedelta | None = None,
                now: datetime | None = None) -> tuple[str, AuthToken]:
    """Create a token for the user; only its digest is stored (docs/security.md, "Accounts,
    tokens and passwords"). ``lifetime``: the settings' (default: ``Config``'s)."""
    now = clock.now() if now is None else now
    raw = secrets.token_urlsafe(32)
    token = AuthToken(user_id=user.id, token_hash=token_digest(raw),
                      expires_at=now + (DEFAULT_TOKEN_LIFETIME if lifetime is None else lifetime))
    db.session.add(token)
    db.session.flush()
    return raw, token


def revoke_all_tokens(user_id: int, keep: int | None = None, *,
                      now: datetime | None = None) -> None:
    """Revoke every live token of the user (deactivation, password reset or change), but the
    one ``keep`` names."""
    query = update(AuthToken).where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
    if keep is not None:
        query = query.where(AuthToken.id != keep)
    db.session.execute(query.values(revoked_at=clock.now() if now is None else now))


# What nearly every request needs, in one round trip: the token, its user and their unit,
# read as columns (see ``as_loaded``). Built once: composing it would cost more than running it.
_USERS, _UNITS = User.__table__, Unit.__table__
TOKEN_WITH_USER = (select(AuthToken.id, AuthToken.expires_at, AuthToken.revoked_at,
                          *_USERS.columns, *_UNITS.columns)
                   .join(_USERS, AuthToken.user_id == _USERS.c.id)
                   .outerjoin(_UNITS, _USERS.c.unit_id == _UNITS.c.id)
                   .where(AuthToken.token_hash == bindparam("digest")))
_USER_KEYS, _UNIT_KEYS = attribute_keys(User, _USERS), attribute_keys(Unit, _UNITS)


def user_for_token(raw: str, *, now: datetime | None = None) -> tuple[User, int] | None:
    """Return the user and the token's id for a live bearer token, or None."""
    session = db.session()
    row = core_rows(session, TOKEN_WITH_USER, {"digest": token_digest(raw)}).first()
    if row is None:
        return None
    token_id, expires_at, revoked_at = row[:3]
    user_values = dict(zip(_USER_KEYS, row[3:3 + len(_USER_KEYS)]))
    now = clock.now() if now is None else now
    if revoked_at is not None or expires_at <= now or not user_values["active"]:
        return None
    user = as_loaded(session, User, user_values)
    unit = None
    if user_values["unit_id"] is not None:
        unit = as_loaded(session, Unit, dict(zip(_UNIT_KEYS, row[3 + len(_USER_KEYS):])))
    set_committed_value(user, "unit", unit)  # held, not only in the weak identity map
    changes_on = user_values["post_changes_on"]
    if changes_on is not None and changes_on <= clock.local_date(now):
        refresh_summary(user)  # a post recorded ahead has begun or ended: whose role is it now
    return user, token_id


# --- login throttle (docs/decisions.md, "Accounts") -------------------------------------

def _throttle_keys(username: str) -> tuple[str, str]:
    name = username_key(username)
    return f"fail:{name}", f"lock:{name}"


def _check_address(settings: LoginSettings, address: str, now: datetime) -> None:
    store = settings.store
    count, _ = store.since(f"addr:{address}", now - timedelta(seconds=60))
    if count >= max(settings.address_limit_per_minute, 60):
        raise Throttled("too_many_requests", headers={"Retry-After": "60"})
    store.hit(f"addr:{address}", now, 60)


def _check_lock(settings: LoginSettings, username: str, now: datetime) -> None:
    window = settings.failure_window_s
    _, lock_key = _throttle_keys(username)
    count, locked_at = settings.store.since(lock_key, now - timedelta(seconds=window))
    if count:
        remaining = int((locked_at + timedelta(seconds=window) - now).total_seconds()) + 1
        raise Throttled("throttled", headers={"Retry-After": str(max(remaining, 1))},
                        minutes=max(1, (remaining + 59) // 60))


def _record_failure(settings: LoginSettings, username: str, now: datetime) -> None:
    store, window = settings.store, settings.failure_window_s
    fail_key, lock_key = _throttle_keys(username)
    store.hit(fail_key, now, window)
    count, _ = store.since(fail_key, now - timedelta(seconds=window))
    if count >= settings.failure_limit:
        store.hit(lock_key, now, window)
        store.clear(fail_key)


def lift_throttle(actor: User, username: str, *,
                  store: DatabaseAttempts | RedisAttempts | None = None) -> None:
    """Forget failed logins and any lock for the username (an admin's action). An admin with
    a unit lifts only the locks of people in scope; any other name (unknown ones included, so
    that nothing leaks) is NotFound. Only an admin with no unit lifts any name
    (docs/security.md, "Scope of calendars, unlocks and absences"). ``store``: the settings'
    (default: the database)."""
    policy.ensure(policy.is_admin(actor))
    if not (actor.role == "admin" and actor.unit_id is None):
        person = db.session.scalar(select(User).where(User.username_key == username_key(username)))
        policy.ensure_visible(person is not None and policy.in_scope(actor, person.unit))
    store = DatabaseAttempts() if store is None else store
    for key in _throttle_keys(username):
        store.clear(key)


def login(username: str, password: str, address: str, *, settings: LoginSettings | None = None,
          now: datetime | None = None) -> tuple[str, AuthToken, User]:
    """Check the credentials under the throttle and return a new token.

    Raises Throttled (429) while the username is locked or the address floods,
    BadCredentials (401) on wrong credentials — keeping the failure it recorded.
    """
    settings = LoginSettings() if settings is None else settings
    now = clock.now() if now is None else now
    _check_address(settings, address, now)
    _check_lock(settings, username, now)
    user = db.session.scalar(select(User).where(User.username_key == username_key(username)))
    if not verify_password(user.password_hash if user else None, password) or not user.active:
        _record_failure(settings, username, now)
        raise BadCredentials("bad_credentials")
    raw, token = issue_token(user, lifetime=settings.token_lifetime, now=now)
    return raw, token, user


def logout(token_id: int, *, now: datetime | None = None) -> None:
    """Revoke the token used for this request."""
    db.session.execute(update(AuthToken).where(AuthToken.id == token_id)
                       .values(revoked_at=clock.now() if now is None else now))


def change_own_password(user: User, old_password: str, new_password: str,
                        keep_token_id: int | None = None, *, now: datetime | None = None) -> None:
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
    revoke_all_tokens(user.id, keep=keep_token_id, now=now)
    db.session.flush()
