"""``/healthz`` and the browsable API docs (Swagger UI from a package, no inline script)."""
from pathlib import Path

from flask import Blueprint, current_app, jsonify, render_template_string, send_from_directory
from sqlalchemy import text

from .extensions import db

bp = Blueprint("health", __name__)

DOCS_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zaicun API</title>
<link rel="stylesheet" href="{{ url_for('health.docs_asset', name='swagger-ui.css') }}">
</head><body><div id="swagger-ui" data-spec="{{ spec_url }}"></div>
<script src="{{ url_for('health.docs_asset', name='swagger-ui-bundle.js') }}"></script>
<script src="{{ url_for('health.docs_init') }}"></script>
</body></html>"""

DOCS_INIT = """window.addEventListener('load', function () {
  var el = document.getElementById('swagger-ui');
  window.ui = SwaggerUIBundle({ url: el.dataset.spec, dom_id: '#swagger-ui' });
});"""


def swagger_ui_dir() -> Path:
    import swagger_ui_bundle
    return Path(swagger_ui_bundle.swagger_ui_path)


@bp.get("/healthz")
def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database is "down"
        db.session.rollback()
        response = jsonify({"status": "unavailable"})
        response.status_code = 503
        response.headers["Retry-After"] = str(current_app.config["RETRY_AFTER_S"])
        return response
    return jsonify({"status": "ok"})


@bp.get("/api/docs")
def docs():
    return render_template_string(DOCS_PAGE, spec_url="/api/v1/openapi.json")


@bp.get("/api/docs/init.js")
def docs_init():
    return current_app.response_class(DOCS_INIT, mimetype="text/javascript")


@bp.get("/api/docs/assets/<path:name>")
def docs_asset(name):
    return send_from_directory(swagger_ui_dir(), name, max_age=86400)
