"""The migrations make exactly the models' schema, and unmake it."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from server import TestConfig, create_app
from server.extensions import db
from tests.conftest import vars_of
from tests.databases import fresh_database


def _app(url):
    return create_app({**vars_of(TestConfig), "DATABASE_URL": url})


def test_migrations_from_empty_produce_exactly_the_models_schema(tmp_path):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            with db.engine.connect() as conn:
                context = MigrationContext.configure(conn, opts={"compare_type": True})
                diff = compare_metadata(context, db.metadata)
            db.engine.dispose()
        assert diff == []


def test_downgrade_to_base_removes_every_table(tmp_path):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            downgrade(revision="base")
            tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
            db.engine.dispose()
        assert tables == set()


def test_init_db_is_idempotent(tmp_path):
    with fresh_database(tmp_path) as url:
        app = _app(url)
        runner = app.test_cli_runner()
        first = runner.invoke(args=["init-db"])
        second = runner.invoke(args=["init-db"])
        with app.app_context():
            tables = set(inspect(db.engine).get_table_names())
            db.engine.dispose()
        assert first.exit_code == 0, first.output
        assert second.exit_code == 0, second.output
        assert {"visits", "users", "villages", "units", "visit_events"} <= tables
