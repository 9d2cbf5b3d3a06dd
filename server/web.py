"""Serves ``mobile_web/`` (the phone app) at ``/``, with the service worker at the top."""
from pathlib import Path

from flask import Blueprint, abort, current_app, request, send_from_directory
from werkzeug.exceptions import MethodNotAllowed

bp = Blueprint("web", __name__)


def mobile_web_dir() -> Path:
    """The app's files: inside the installed package, or beside it in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_mobile_web", here.parent / "mobile_web"):
        if (candidate / "index.html").is_file():
            return candidate
    return here.parent / "mobile_web"


@bp.get("/")
def index():
    return _send("index.html")


@bp.get("/<path:name>")
def static_file(name: str):
    if name.startswith("api/"):
        _refuse_api_path()
    return _send(name)


def _refuse_api_path() -> None:
    """An API path is never a file: 405 when other methods take it, else 404."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    others = set(adapter.allowed_methods()) - {"GET", "HEAD", "OPTIONS"}
    if others:
        raise MethodNotAllowed(valid_methods=sorted(others | {"OPTIONS"}))
    abort(404)


def _send(name: str):
    response = send_from_directory(mobile_web_dir(), name, max_age=0)
    if name in ("sw.js", "index.html"):
        response.headers["Cache-Control"] = "no-cache"
    return response
