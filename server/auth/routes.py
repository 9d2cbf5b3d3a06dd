"""Logging in and out, and one's own password."""
from flask import current_app, request
from flask_smorest import Blueprint

from .. import clock
from ..schemas import ErrorSchema
from .request_auth import current_token_id, current_user
from .schemas import LoginSchema, PasswordChangeSchema, TokenSchema, UnlockSchema
from .services import LoginSettings, change_own_password, lift_throttle, login, logout
from .throttle import attempts_store

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Logging in and out")


@blp.route("/auth/login", methods=["POST"])
@blp.arguments(LoginSchema)
@blp.response(200, TokenSchema)
@blp.alt_response(401, schema=ErrorSchema, description="Wrong credentials")
@blp.alt_response(429, "THROTTLED")
@blp.doc(security=[])
def post_login(args):
    """Log in and receive a bearer token."""
    raw, token, user = login(args["username"], args["password"], request.remote_addr or "",
                             settings=LoginSettings.from_config(current_app.config),
                             now=clock.now())
    return {"token": raw, "expires_at": token.expires_at, "user": user}


@blp.route("/auth/logout", methods=["POST"])
@blp.response(204)
def post_logout():
    """Revoke the token of this request."""
    logout(current_token_id(), now=clock.now())


@blp.route("/auth/unlock", methods=["POST"])
@blp.arguments(UnlockSchema)
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema,
                  description="No such username in the admin's scope (unknown ones alike)")
def post_unlock(args):
    """Lift the failed-login lock of a username (admin)."""
    lift_throttle(current_user(), args["username"], store=attempts_store(current_app.config))


@blp.route("/me/password", methods=["POST"])
@blp.arguments(PasswordChangeSchema)
@blp.response(204)
def post_password(args):
    """Change one's own password."""
    change_own_password(current_user(), args["old_password"], args["new_password"],
                        keep_token_id=current_token_id(), now=clock.now())
