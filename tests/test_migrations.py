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


def _every_result(as_of_dates) -> dict:
    """Every field person's results and the county's roll-up rows, as the API shows them."""
    from sqlalchemy import select

    from server.auth.models import User
    from server.progress import services
    people = db.session.scalars(select(User).where(User.role.in_(("cadre", "secretary")))
                                .order_by(User.id)).all()
    admin = db.session.scalar(select(User).where(User.role == "admin"))
    found = {}
    for as_of in as_of_dates:
        for person in people:
            found[as_of, person.username] = (
                services.shown_as_of(person, as_of)[0].unit_code,
                [services.result_dict(r) for r in services.results_for(person, as_of)])
        _, rows = services.unit_rows(admin, None, as_of)
        found[as_of, "roll-up"] = [(p.username, p.unit_code, p.post_ended,
                                    [services.result_dict(r) for r in results])
                                   for p, results in rows]
    db.session.remove()
    return found


def test_posts_and_dated_links_keep_every_result_of_the_demo_county(tmp_path):
    """0007 turns each person's unit, role and dates into one post and each link into a dated
    one: on a populated database (the demo county) every result, as of several dates, is what
    it was. The demo's own transfer and promotion are made after the migration (a downgrade
    keeps one post a person), so they are taken out first and compared on their own terms."""
    from datetime import date

    from sqlalchemy import delete, select, update

    from server.auth.models import User
    from server.clock import today
    from server.demo import seed_demo
    from server.org.models import Post
    with fresh_database(tmp_path) as url:
        app = _app(url)
        with app.app_context():
            upgrade()
            seed_demo()
            now = today()
            dates = [now, date(now.year - 1, 12, 31), date(now.year - 1, 9, 30),
                     date(now.year, 3, 31) if now >= date(now.year, 3, 31) else now]
            # One post each, as everyone had before posts existed.
            moved = db.session.scalars(select(User.id).where(User.several_posts)).all()
            for user_id in moved:
                first = db.session.scalars(select(Post).where(Post.user_id == user_id)
                                           .order_by(Post.id)).first()
                db.session.execute(delete(Post).where(Post.user_id == user_id,
                                                      Post.id != first.id))
                db.session.execute(update(Post).where(Post.id == first.id).values(ends_on=None))
                db.session.execute(update(User).where(User.id == user_id).values(
                    several_posts=False, role=first.role, unit_id=first.unit_id,
                    active_until=None, post_changes_on=None))
            db.session.commit()
            before = _every_result(dates)
            downgrade(revision="0006")
            upgrade()
            after = _every_result(dates)
            posts = db.session.scalar(select(db.func.count()).select_from(Post))
            people = db.session.scalar(select(db.func.count()).select_from(User))
            db.session.remove()
            db.engine.dispose()
    assert posts == people
    assert len(before) == len(after) > 40
    assert all(before[as_of, "roll-up"] for as_of in dates)  # results there were to keep
    changed = [key for key in before if before[key] != after[key]]
    assert changed == []
