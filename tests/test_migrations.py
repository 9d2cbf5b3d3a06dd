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


def test_upgrading_kept_credits_fills_running_totals_and_every_month(tmp_path):
    from datetime import date

    from sqlalchemy import text
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade(revision="0002")
            with db.engine.begin() as conn:
                conn.execute(text(
                    "INSERT INTO units (id, code, name, level, path, created_at) "
                    "VALUES (1, 'T1', '镇', 'township', '/T1/', '2026-01-01')"))
                conn.execute(text(
                    "INSERT INTO users (id, username, name, role, unit_id, active, "
                    "password_hash, must_change_password, created_at) VALUES "
                    "(1, 'u1', '甲', 'cadre', 1, true, 'x', false, '2026-01-01')"))
                for day, seconds, halves in (("2026-03-02", 21600, 2), ("2026-03-05", 12000, 1),
                                             ("2026-05-01", 3600, 0)):
                    conn.execute(text("INSERT INTO day_credits VALUES (1, :d, :s, :h)"),
                                 {"d": day, "s": seconds, "h": halves})
                conn.execute(text("INSERT INTO month_credits VALUES (1, '2026-03-01', 33600, 3)"))
            upgrade()
            with db.engine.connect() as conn:
                days = conn.execute(text(
                    "SELECT day, month_halves_to_date, month_seconds_to_date FROM day_credits "
                    "ORDER BY day")).all()
                months = conn.execute(text(
                    "SELECT month, halves, year_halves_to_date FROM month_credits "
                    "ORDER BY month")).all()
            db.engine.dispose()
    assert [(str(d), h, s) for d, h, s in days] == [
        ("2026-03-02", 2, 21600), ("2026-03-05", 3, 33600), ("2026-05-01", 0, 3600)]
    assert len(months) == 12
    assert [(m.month, h, total) for m, h, total in
            [(date.fromisoformat(str(m)[:10]), h, t) for m, h, t in months]][1:5] == [
        (2, 0, 0), (3, 3, 3), (4, 0, 3), (5, 0, 3)]
