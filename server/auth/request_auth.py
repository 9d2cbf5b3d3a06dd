"""Who is calling: the bearer token of each API request, read before the view runs.

This is request plumbing, kept out of the services: it reads ``request`` and sets ``g``;
views hand the services the actor (``current_user()``) and token id explicitly. A user
holding a one-time password may only reach the paths of ``PASSWORD_CHANGE_PATHS``
(docs/decisions.md, "Accounts").
"""
from __future__ import annotations

from flask import g, request

from .. import clock
from ..errors import Forbidden, Unauthorized
from .models import User
from .services import user_for_token

# Paths a user holding a one-time password may still call.
PASSWORD_CHANGE_PATHS = {"/api/v1/me", "/api/v1/me/password", "/api/v1/auth/logout"}
PUBLIC_PATHS = {"/api/v1/auth/login", "/api/v1/openapi.json"}


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
    found = user_for_token(raw.strip(), now=clock.now())
    if found is None:
        raise Unauthorized("token_invalid", headers={"WWW-Authenticate": "Bearer"})
    g.user, g.token_id = found
    if g.user.must_change_password and path not in PASSWORD_CHANGE_PATHS:
        raise Forbidden("password_change_required")


def current_user() -> User:
    """Return the logged-in user of this request."""
    return g.user


def current_token_id() -> int:
    """Return the id of the token this request was authenticated with."""
    return g.token_id
