"""Response headers every page and API answer carries, and CORS (closed unless configured)."""
import json
import re

from flask import Flask, request

from .errors import BadRequest, InvalidInput, NotFound

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


class _DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _refuse_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    found: dict = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # json pairs a proper pair into one character


def refuse_unstorable_json() -> None:
    """Refuse, at the door, a JSON write that could not be stored as sent: a key given twice
    (400 — which one would count?), U+0000 (PostgreSQL text cannot hold it) or a lone surrogate
    (no encoding can) in any key or string (422 naming the field). Otherwise they would fail
    deep in a query or a hash — a 500 — instead. A body that is not JSON at all is left to the
    view's parser, which answers 400 ``invalid_json``. A NUL in a path is routed nowhere."""
    if any("\x00" in str(value) for value in (request.view_args or {}).values()):
        raise NotFound()
    if not request.is_json or request.method not in ("POST", "PUT", "PATCH"):
        return
    raw = request.get_data(cache=True)
    try:
        value = json.loads(raw, object_pairs_hook=_refuse_duplicate_keys)
    except _DuplicateKey as exc:
        key = _safe_name(exc.key)
        raise BadRequest("duplicate_key", errors={key: ["duplicate key"]},
                       key=key) from None
    except (ValueError, RecursionError):
        return
    if raw.isascii() and b"\\u" not in raw and b"\x00" not in raw:
        return  # plain ASCII holds neither but as a \u escape (most check-ins are ASCII)
    found = _first_unstorable(value)
    if found is not None:
        field, code = found
        raise InvalidInput(code, errors={field or "json": [code]})


def _unstorable(text: str) -> str | None:
    if "\x00" in text:
        return "nul_character"
    if _LONE_SURROGATE.search(text):
        return "lone_surrogate"
    return None


def _first_unstorable(value, where: str = "") -> tuple[str, str] | None:
    """The first field holding U+0000 or a lone surrogate (in a key or a string), and which."""
    if isinstance(value, str):
        code = _unstorable(value)
        return (where, code) if code else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        name = f"{where}.{key}" if where else str(key)
        if isinstance(key, str) and _unstorable(key):
            return _safe_name(name), _unstorable(key)
        found = _first_unstorable(item, name)
        if found is not None:
            return found
    return None


def _safe_name(name: str) -> str:
    """A field name fit to echo back in an answer (the key itself may be what is unstorable)."""
    return _LONE_SURROGATE.sub("\ufffd", name.replace("\x00", "\ufffd"))
