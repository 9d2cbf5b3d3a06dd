"""Serves ``mobile_web/`` (the phone app) at ``/``, with the service worker at the top."""
from pathlib import Path

from flask import Blueprint, send_from_directory
from werkzeug.routing import PathConverter

bp = Blueprint("web", __name__)


class PagePath(PathConverter):
    """Any path but an API one: routing itself then answers an API path with 404, or with 405
    and an ``Allow`` naming only the API's methods (never the phone app's GET)."""

    regex = r"(?!api/)[^/].*?"


bp.record_once(lambda state: state.app.url_map.converters.setdefault("page", PagePath))


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


@bp.get("/<page:name>")
def static_file(name: str):
    return _send(name)


def _send(name: str):
    response = send_from_directory(mobile_web_dir(), name, max_age=0)
    if name in ("sw.js", "index.html"):
        response.headers["Cache-Control"] = "no-cache"
    return response
