"""The one commit point of a request (docs/decisions.md, "One commit point").

Services load, check access, act and flush; none commits. Every API view runs inside
``commit_point``: when the view returns, its response is already built (serialised from
flushed objects), and the unit of work commits here — or, when the view refused, rolls back.
A refusal that must keep what it wrote (a failed login counts toward the lock) says so with
``keeps_writes``. A concurrent request that changed the same versioned row first surfaces as
``StaleDataError``; the view then runs once more on the state as it now is.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Flask
from sqlalchemy.orm.exc import StaleDataError

from .errors import ApiError
from .extensions import db


def _run_once(view: Callable, args: tuple, kwargs: dict):
    session = db.session
    try:
        response = view(*args, **kwargs)
    except ApiError as refusal:
        if getattr(refusal, "keeps_writes", False):
            session.commit()
        else:
            session.rollback()
        raise
    except BaseException:
        session.rollback()
        raise
    try:
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return response


def commit_point(view: Callable) -> Callable:
    """Run ``view`` as one unit of work: commit what it flushed when it answers, roll back
    when it refuses or fails; run it again once when a concurrent change beat it."""

    @wraps(view)
    def run(*args, **kwargs):
        try:
            return _run_once(view, args, kwargs)
        except StaleDataError:
            return _run_once(view, args, kwargs)

    return run


def install(app: Flask, blueprints: tuple[str, ...]) -> None:
    """Wrap every view of the named blueprints in ``commit_point``."""
    for endpoint, view in list(app.view_functions.items()):
        if endpoint.partition(".")[0] in blueprints:
            app.view_functions[endpoint] = commit_point(view)
