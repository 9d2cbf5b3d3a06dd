"""The ``zaicun`` commands an app carries (API.md "Command line"); ``serve`` and the entry point
are in ``cli.py``, which builds the app."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import inspect, select

from .errors import ApiError
from .extensions import db
from .field_messages import localize_errors
from .messages import message


def _fail(exc: ApiError) -> None:
    """Print an API refusal the way the API would say it, and exit non-zero."""
    click.echo(f"错误：{message(exc.code, **exc.params)}", err=True)
    for field, problems in localize_errors(exc.errors or {}, english=False).items():
        if field == "rows":
            for p in problems:
                click.echo(f"  第 {p['row']} 行，{p['column'] or '-'} 列：{p['message']}",
                           err=True)
        else:
            click.echo(f"  {field}：{'；'.join(map(str, problems))}", err=True)
    sys.exit(1)


def init_db() -> None:
    """Create or upgrade the schema with the Alembic migrations (idempotent)."""
    upgrade(directory=current_app.extensions["migrate"].directory)


def database_is_empty() -> bool:
    from .auth.models import User
    if "users" not in inspect(db.engine).get_table_names():
        return True
    return db.session.scalar(select(User.id).limit(1)) is None


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Create or upgrade the database schema (idempotent)."""
    init_db()
    click.echo("database is up to date")


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True,
              type=click.Choice(["cadre", "secretary", "supervisor", "admin"]))
@click.option("--unit-code", default=None)
@with_appcontext
def create_user_command(username, password, name, role, unit_code):
    """Create a user (the password policy applies)."""
    from .org.services import create_user
    try:
        user = create_user(None, {"username": username, "password": password, "name": name,
                                  "role": role, "unit_code": unit_code})
        db.session.commit()
    except ApiError as exc:
        db.session.rollback()
        _fail(exc)
    click.echo(f"created user {user.username} (id {user.id})")


def _run_import(importer, path: str, **options):
    """Read a CSV file and import it; print every row error and exit non-zero on failure."""
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    try:
        return importer(None, text, **options)
    except ApiError as exc:
        _fail(exc)


def _import_progress():
    """Progress of a long import on stderr (checking, hashing, writing), every few seconds."""
    from .org.imports import printed_progress
    return printed_progress(lambda line: click.echo(line, err=True))


@click.command("import-villages")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_villages_command(file):
    """Import villages from a CSV file (up to 100,000 rows): all rows or none."""
    from .org.imports import import_villages
    count = _run_import(import_villages, file, progress=_import_progress())
    click.echo(f"imported {count} villages")


@click.command("import-users")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def import_users_command(file):
    """Import users from a CSV file: all rows or none; prints one-time passwords once."""
    from .org.imports import import_users
    passwords = _run_import(import_users, file, progress=_import_progress())
    click.echo(f"imported {len(passwords)} users; one-time passwords (shown once):")
    for username, password in passwords.items():
        click.echo(f"  {username}\t{password}")


@click.command("import-posts")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="check and show who moves where; write nothing")
@with_appcontext
def import_posts_command(file, dry_run):
    """换届: new posts from a CSV file (username,unit_code,role,from): all rows or none."""
    from .org.imports import import_posts

    def run(_actor, text):
        moves = import_posts(None, text, dry_run=dry_run)
        if not dry_run:
            db.session.commit()
        return moves
    moves = _run_import(run, file)
    for move in moves:
        before, after = move["before"], move["after"]
        click.echo(f"  {move['username']}\t{before['unit_code']} {before['role']} → "
                   f"{after['unit_code']} {after['role']}\t{move['from']}")
    click.echo(f"{'would import' if dry_run else 'imported'} {len(moves)} posts")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Build the demo county 示范县 with a year of visits and reports."""
    from .demo import HISTORY_DAYS, print_logins, seed_demo
    if not database_is_empty():
        raise click.ClickException("the database already has users; seed-demo needs it empty")
    with click.progressbar(length=HISTORY_DAYS, label="a year of visits, day by day") as bar:
        seed_demo(progress=lambda: bar.update(1))
    print_logins(click.echo)


@click.command("load-calendar")
@click.argument("year", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--county", "county_code", default=None,
              help="the county whose own calendar this is (default: the whole deployment's)")
@with_appcontext
def load_calendar_command(year, file, county_code):
    """Load a year's official holidays and make-up workdays (CSV: date,kind)."""
    from .progress.services import calendar_county, load_calendar

    def load(_actor, text):
        count = load_calendar(year, text, calendar_county(None, county_code))
        db.session.commit()
        return count
    count = _run_import(load, file)
    where = f"county {county_code}" if county_code else "every county without its own"
    click.echo(f"loaded {count} dates for {year} ({where}); results for {year} are now official")


@click.command("recompute-credits")
@with_appcontext
def recompute_credits_command():
    """Rebuild every person's day credits from the visits."""
    from .auth.models import User
    from .progress.credits import recompute_all
    user_ids = db.session.scalars(select(User.id).order_by(User.id)).all()
    with click.progressbar(length=len(user_ids), label="recomputing credits") as bar:
        recompute_all(user_ids, progress=lambda _uid: bar.update(1))
    click.echo(f"recomputed credits of {len(user_ids)} people")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file):
    """Write a consistent copy of the database to FILE (SQLite: a copy; PostgreSQL: pg_dump)."""
    from .backup import BackupError, backup
    try:
        click.echo(backup(db.engine.url, file))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="do not ask before replacing the data")
@with_appcontext
def restore_command(file, yes):
    """Replace every row of the database with the backup in FILE (stop the app first)."""
    from .backup import BackupError, restore
    url = db.engine.url.render_as_string(hide_password=True)
    if not yes:
        click.confirm(f"Replace all data in {url} with {file}?", abort=True)
    try:
        click.echo(restore(db.engine.url, file))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("run `zaicun init-db` if the backup comes from an older version of zaicun")


@click.command("verify-closing")
@click.argument("year", type=int)
@click.argument("unit_code")
@with_appcontext
def verify_closing_command(year, unit_code):
    """Recompute a closed year of a county and say whether its stored snapshot still matches
    (exit 0), or not (exit 1: the database was changed behind the app)."""
    from .closing.services import verify
    closing, matches = verify(year, unit_code)
    if closing is None:
        raise click.ClickException(f"{unit_code} has not closed {year}")
    state = "in force" if closing.reopened_at is None else "reopened"
    click.echo(f"closing of {year} for {unit_code} ({state}), as of {closing.as_of}, "
               f"{closing.people} people, snapshot SHA-256 {closing.snapshot_sha256}")
    if not matches:
        why = ("the year was reopened since and may have changed" if closing.reopened_at
               else "the database was changed behind the app")
        click.echo(f"DIFFERS: the year recomputed now does not match the stored snapshot ({why})",
                   err=True)
        sys.exit(1)
    click.echo("matches: the stored snapshot holds its hash, and the year recomputed now has "
               "the same people, units and results")


def register_commands(app: Flask) -> None:
    for command in (init_db_command, create_user_command, import_villages_command,
                    import_users_command, import_posts_command, seed_demo_command,
                    load_calendar_command, recompute_credits_command, backup_command,
                    restore_command, verify_closing_command):
        app.cli.add_command(command)
