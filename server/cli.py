"""The ``zaicun`` command (API.md "Command line"): the app's commands (``commands.py``) and
``serve``, which runs the app on gunicorn and so is the one place that builds apps."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from . import create_app
from .commands import database_is_empty, init_db
from .demo import print_logins, seed_demo
from .extensions import db
from .wsgi_server import run


def _create_app(*_args, **_kwargs) -> Flask:
    return create_app()


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", default=2, type=int, show_default=True)
@click.option("--demo", is_flag=True, help="init-db and seed-demo first if the database is empty")
@with_appcontext
def serve_command(host, port, workers, demo):
    """Run the service on gunicorn (never Flask's development server)."""
    if demo:
        init_db()
        if database_is_empty():
            click.echo("building the demo county 示范县 …")
            seed_demo()
        print_logins(click.echo)
    db.engine.dispose()  # workers open their own connections
    click.echo(f"zaicun on http://{host}:{port}/ with {workers} workers")
    run(host, port, workers, _create_app)


class ZaicunGroup(FlaskGroup):
    def __init__(self, **kwargs):
        super().__init__(create_app=_create_app, add_default_commands=False,
                         add_version_option=False, load_dotenv=False, set_debug_flag=False,
                         **kwargs)


@click.group(cls=ZaicunGroup)
def main():
    """zaicun (在村): village visits and compliance for township cadres."""


main.add_command(serve_command)
