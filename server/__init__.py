"""zaicun (在村): village visit logging and compliance for township cadres."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import make_url
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Config, TestConfig, load_environment
from .extensions import api, db, migrate

__all__ = ["create_app", "Config", "TestConfig"]


def migrations_dir() -> str:
    """Alembic's folder: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_migrations", here.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return str(candidate)
    return str(here.parent / "migrations")


def _database_url(app: Flask) -> str:
    url = app.config.get("DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        return "sqlite:///" + os.path.join(app.instance_path, "zaicun.sqlite3")
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("postgres://"):
        return "postgresql+psycopg://" + url[len("postgres://"):]
    return url


def _sqlite_writers_take_turns(app: Flask) -> None:
    """On a SQLite file, the app's writers queue for their turn (``server/sqlite_writers.py``)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") \
            or url.database.startswith("file:") or "uri" in url.query:
        return
    from .sqlite_writers import connection_class
    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    options["connect_args"] = {**options.get("connect_args", {}), "factory": connection_class(
        url.database, int(app.config["SQLITE_BUSY_TIMEOUT_MS"]))}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _configure_sqlite(app: Flask) -> None:
    """Wait for a busy database up to the timeout, keep foreign keys, write ahead."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "sqlite":
        return
    busy_ms = int(app.config["SQLITE_BUSY_TIMEOUT_MS"])

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints, error handlers and commands."""
    app = Flask(__name__, static_folder=None, instance_path=os.environ.get("ZAICUN_INSTANCE_PATH")
                or os.path.join(os.getcwd(), "instance"))
    app.config.from_object(Config)
    load_environment(app.config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    _sqlite_writers_take_turns(app)
    app.json.ensure_ascii = False
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)

    from .compliance.rulebook import load_ruleset
    app.extensions["zaicun_rules"] = load_ruleset(app.config.get("RULES_FILE"))

    db.init_app(app)
    _configure_sqlite(app)
    migrate.init_app(app, db, directory=migrations_dir(), render_as_batch=True,
                     compare_type=True)
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearerAuth": []}]
    from .schemas import IdConverter, VisitRefConverter
    app.url_map.converters.update(int=IdConverter, visit_ref=VisitRefConverter)
    _register_blueprints(app)
    from . import transaction
    transaction.install(app, API_BLUEPRINTS)

    from .auth.request_auth import authenticate_request
    from .errors import register_error_handlers
    from .security import refuse_unstorable_json, register_security_headers
    app.before_request(_refuse_oversized_json)
    app.before_request(authenticate_request)
    app.before_request(refuse_unstorable_json)
    register_error_handlers(app)
    register_security_headers(app)

    from .commands import register_commands
    register_commands(app)
    return app


MAX_JSON_BYTES = 256 * 1024


def _refuse_oversized_json():
    """JSON bodies are small; anything larger is refused before it is parsed. A body sent
    without a length (chunked) is read up to the limit and refused if it reaches it."""
    if not request.is_json:
        return
    request.max_content_length = MAX_JSON_BYTES
    length = request.content_length
    if length is None and len(request.get_data(cache=True)) >= MAX_JSON_BYTES:
        length = MAX_JSON_BYTES + 1
    if (length or 0) > MAX_JSON_BYTES:
        from .errors import TooLarge
        raise TooLarge("too_large")


API_BLUEPRINTS = ("auth", "org", "visits", "reports", "progress", "evaluation", "closing",
                  "audit")


def _register_blueprints(app: Flask) -> None:
    from . import health, web
    from .audit.routes import blp as audit_blp
    from .auth.routes import blp as auth_blp
    from .closing.routes import blp as closing_blp
    from .evaluation.routes import blp as evaluation_blp
    from .org.routes import blp as org_blp
    from .progress.routes import blp as progress_blp
    from .reports.routes import blp as reports_blp
    from .visits.routes import blp as visits_blp
    for blp in (auth_blp, org_blp, visits_blp, reports_blp, progress_blp, evaluation_blp,
                closing_blp, audit_blp):
        api.register_blueprint(blp)
    app.register_blueprint(health.bp)
    app.register_blueprint(web.bp)
    _import_models()


def _import_models() -> None:
    """Every model, so the metadata (and Alembic) sees the whole schema."""
    from .audit import models as _audit  # noqa: F401
    from .auth import models as _auth  # noqa: F401
    from .closing import models as _closing  # noqa: F401
    from .evaluation import models as _evaluation  # noqa: F401
    from .org import jobs as _jobs  # noqa: F401 - import jobs
    from .org import models as _org  # noqa: F401
    from .progress import credits as _credits  # noqa: F401 - keeps day credits on commit
    from .progress import models as _progress  # noqa: F401
    from .reports import models as _reports  # noqa: F401
    from .visits import models as _visits  # noqa: F401
