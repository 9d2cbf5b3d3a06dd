"""One error shape for the whole API: ``{"code", "message", "errors"?}``."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from .field_messages import localize_errors
from .messages import message, prefers_english

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 408: "bad_request", 409: "conflict", 413: "too_large",
    422: "invalid_input", 429: "too_many_requests", 503: "unavailable",
}


class ApiError(Exception):
    """A refusal the client should see: a machine code (its readable message's key), the
    message's parameters, and the fields at fault. It says what went wrong, not how HTTP says
    it: ``STATUS`` below maps each kind to one status, in one place. A refusal rolls back what
    the request wrote, unless its kind ``keeps_writes`` (``server/transaction.py``)."""

    keeps_writes = False

    def __init__(self, code: str, /, errors: dict | None = None, headers: dict | None = None,
                 body: dict | None = None, **params):
        super().__init__(code)
        self.code = code
        self.errors = errors
        self.headers = headers or {}
        self.body = body or {}
        self.params = params


class BadRequest(ApiError):
    """The request itself is malformed (a key given twice, an unreadable device clock)."""


class InvalidInput(ApiError):
    """Bad input: nothing was stored."""


class Unauthorized(ApiError):
    """Not logged in, or the login has ended."""


class Forbidden(ApiError):
    """The caller may not do this."""


class NotFound(ApiError):
    """Absent, or out of the caller's scope (its existence does not leak)."""

    def __init__(self, code: str = "not_found", **kw):
        super().__init__(code, **kw)


class Conflict(ApiError):
    """The stored state does not allow it (a closed visit, a code taken)."""


class TooLarge(ApiError):
    """More than the service takes in one request."""


class Throttled(ApiError):
    """Too many attempts: wait (``Retry-After``)."""


# The one table from a refusal to its HTTP status (API.md "Errors").
STATUS: dict[type[ApiError], int] = {
    BadRequest: 400, Unauthorized: 401, Forbidden: 403, NotFound: 404, Conflict: 409,
    TooLarge: 413, InvalidInput: 422, Throttled: 429,
}


def status_of(exc: ApiError) -> int:
    """The HTTP status of a refusal: its kind's, or the nearest kind it derives from."""
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def error_response(status: int, code: str, /, errors: dict | None = None,
                   headers: dict | None = None, body: dict | None = None, **params):
    """Build the JSON error response, its field errors in the request's language too; ``body``
    adds what a refusal's contract names beside them (``"year"`` of ``period_closed``)."""
    body = {**(body or {}), "code": code, "message": message(code, **params)}
    if errors:
        body["errors"] = localize_errors(errors, prefers_english())
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten_webargs(messages: dict | None) -> dict | None:
    """webargs nests field errors under the location; clients want them by field."""
    if not messages:
        return None
    flat: dict = {}
    for location, errs in messages.items():
        if isinstance(errs, dict):
            flat.update(errs)
        else:
            flat[location] = errs
    return flat


def handle_http_exception(exc: HTTPException):
    """Turn Werkzeug and flask-smorest aborts into the API's error shape."""
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    errors = _flatten_webargs(data.get("messages"))
    code = HTTP_CODES.get(status, "internal_error")
    if status == 400 and errors and "json" in errors:
        code = "invalid_json"
    headers = {k: v for k, v in exc.get_headers() if k.lower() not in ("content-type",)}
    headers.update(data.get("headers") or {})
    return error_response(status, code, errors, headers)


def register_error_handlers(app: Flask) -> None:
    """Install the handlers that give every failure the one error shape."""

    app.register_error_handler(HTTPException, handle_http_exception)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(status_of(exc), exc.code, exc.errors, exc.headers, exc.body,
                              **exc.params)

    def _unavailable():
        return error_response(503, "unavailable",
                              headers={"Retry-After": str(app.config["RETRY_AFTER_S"])})

    @app.errorhandler(OperationalError)
    @app.errorhandler(DBAPIError)
    def _database_unavailable(exc):
        from .extensions import db
        try:
            db.session.rollback()
        except DBAPIError:  # the connection is gone; the pool replaces it on the next checkout
            log.warning("rollback failed on an unavailable database", exc_info=True)
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            log.warning("database unavailable: %s", exc)
            return _unavailable()
        log.exception("database error")
        return error_response(500, "internal_error")

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    def _throttle_store_unavailable(exc):
        log.warning("login throttle store (Redis) unavailable: %s", exc)
        return _unavailable()

    @app.errorhandler(Exception)
    def _unexpected(exc):
        if isinstance(exc, HTTPException):
            return handle_http_exception(exc)
        if isinstance(exc, RecursionError) and request.is_json:
            return error_response(400, "invalid_json")  # nested deeper than json.loads goes
        log.exception("unhandled error")
        return error_response(500, "internal_error")
