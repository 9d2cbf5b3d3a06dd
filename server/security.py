"""Response headers every page and API answer carries, and CORS (closed unless configured)."""
import re

from flask import Flask, request

from .errors import InvalidInput, NotFound

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
       "base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
CORS_REQUEST_HEADERS = "Authorization, Content-Type, Accept-Language, X-Client-Time"
CORS_EXPOSED_HEADERS = "Retry-After, X-Pagination, Content-Disposition"


def register_security_headers(app: Flask) -> None:
    origins = allowed_origins(app.config.get("CORS_ORIGINS"))

    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.path.startswith("/api/v1/"):
            response.headers.setdefault("Cache-Control", "no-store")
            if origins:
                _allow_listed_origin(response, origins)
        return response


def allowed_origins(setting: str | None) -> set[str]:
    """The origins of ``CORS_ORIGINS`` (separated by commas or spaces); none by default."""
    return {origin.rstrip("/") for origin in re.split(r"[,\s]+", setting or "") if origin}


def _allow_listed_origin(response, origins: set[str]) -> None:
    """Let a listed origin read the answer (and pass its preflight); any other gets nothing."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin", "")
    if origin not in origins:
        return
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        response.headers["Access-Control-Allow-Methods"] = response.headers.get(
            "Allow", "GET, POST, PUT, PATCH")
        response.headers["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"


def refuse_nul_characters() -> None:
    """Refuse U+0000 in a path or a JSON body: PostgreSQL text cannot hold it, so it would
    otherwise fail deep in a query (a 500) instead of at the door. (Query arguments that reach
    the database are patterns, dates, numbers or choices, none of which admits it.)"""
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        raise NotFound()
    if request.is_json and request.method in ("POST", "PUT", "PATCH"):
        body = request.get_data(cache=True)
        if b"\\u0000" not in body and b"\x00" not in body:
            return  # JSON writes U+0000 as \u0000 (or, in UTF-16 or -32, with zero bytes)
        field = _first_nul(request.get_json(silent=True))
        if field is not None:
            raise InvalidInput("nul_character", errors={field or "json": ["nul_character"]})


def _first_nul(value, where: str = "") -> str | None:
    """The name of the first field holding U+0000 (in a key or a string), or None."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = f"{where}.{key}" if where else str(key)
        if isinstance(key, str) and "\x00" in key:
            return name
        found = _first_nul(item, name)
        if found is not None:
            return found
    return None
