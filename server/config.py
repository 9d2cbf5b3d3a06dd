"""Settings: defaults here, overridden by ``ZAICUN_*`` environment variables."""
import json
import os
from datetime import timedelta

ENV_PREFIX = "ZAICUN_"


class Config:
    SECRET_KEY = "dev-only-change-me"
    DATABASE_URL: str | None = None  # None: a SQLite file in the instance folder
    TIMEZONE = "Asia/Shanghai"
    RULES_FILE: str | None = None
    RATELIMIT_STORAGE_URL: str | None = None  # None: the database; or redis://host:port/db
    RATELIMIT_KEY_PREFIX = "zaicun:"  # Redis keys; deployments sharing one Redis tell apart
    TOKEN_LIFETIME_DAYS = 30
    PASSWORD_HASH_METHOD = "scrypt"
    LOGIN_FAILURE_LIMIT = 5
    LOGIN_FAILURE_WINDOW_S = 15 * 60
    LOGIN_ADDRESS_LIMIT_PER_MINUTE = 120  # never below 60: a township office shares one address
    TRUSTED_PROXIES = 0
    CORS_ORIGINS = ""  # origins whose pages may call the API: "https://a.example, https://b.cn"
    MAX_CONTENT_LENGTH = 16 * 1024 * 1024  # CSV imports; JSON bodies are capped lower
    SQLITE_BUSY_TIMEOUT_MS = 5000
    # CSV imports (server/org/imports.py): a file of more data rows than this is imported by a
    # background job (202 and a status URL) instead of within the request; a job whose
    # process sends no heartbeat for IMPORT_JOB_STALE_S seconds is reported failed.
    IMPORT_SYNC_MAX_ROWS = 2000
    IMPORT_JOB_STALE_S = 30
    RETRY_AFTER_S = 5

    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    JSON_SORT_KEYS = False

    API_TITLE = "zaicun 在村"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "v1/openapi.json"


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test"
    PASSWORD_HASH_METHOD = "scrypt:1024:8:1"  # fast hashes keep the suite quick


def _coerce(raw: str, default):
    """Turn an environment string into the type of the default it overrides."""
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, (dict, list)):
        return json.loads(raw)
    return raw


def load_environment(config: dict) -> None:
    """Apply ``ZAICUN_<NAME>`` variables to ``config`` (only names the config knows)."""
    for key, raw in os.environ.items():
        if not key.startswith(ENV_PREFIX):
            continue
        name = key[len(ENV_PREFIX):]
        if name in config or hasattr(Config, name):
            config[name] = _coerce(raw, config.get(name, getattr(Config, name, "")))


def token_lifetime(config) -> timedelta:
    """Return how long a new login token lives."""
    return timedelta(days=int(config["TOKEN_LIFETIME_DAYS"]))
