"""WSGI entry for gunicorn behind a proxy: ``gunicorn 'server.wsgi:app'``."""
from . import create_app

app = create_app()
