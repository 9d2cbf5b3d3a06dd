"""``zaicun backup`` and ``zaicun restore``: a round trip on the suite's kind of database."""
from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select

from server import TestConfig, create_app
from server.auth.models import User
from server.extensions import db
from tests.conftest import vars_of
from tests.databases import fresh_database


@pytest.fixture
def deployment(tmp_path):
    """An app on a fresh database of the suite's kind, its schema made by ``init-db``."""
    with fresh_database(tmp_path) as url:
        app = create_app({**vars_of(TestConfig), "DATABASE_URL": url})
        app.instance_path = str(tmp_path)
        runner = app.test_cli_runner()
        assert runner.invoke(args=["init-db"]).exit_code == 0
        yield app, runner
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def create_user(runner, username, name):
    result = runner.invoke(args=["create-user", "--username", username, "--password",
                                 "a-good-password", "--name", name, "--role", "admin"])
    assert result.exit_code == 0, result.output


def people(app) -> dict[str, str]:
    with app.app_context():
        found = {u.username: u.name for u in db.session.scalars(select(User))}
        db.session.remove()
        db.engine.dispose()
    return found


def rename(app, username, name):
    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).name = name
        db.session.commit()
        db.engine.dispose()


def test_a_restore_brings_back_the_data_as_it_was_at_backup_time(deployment, tmp_path):
    app, runner = deployment
    create_user(runner, "zhang", "张三")
    backup_file = tmp_path / "zaicun.backup"
    result = runner.invoke(args=["backup", str(backup_file)])
    assert result.exit_code == 0, result.output
    assert "backed up" in result.output and backup_file.stat().st_size > 0

    create_user(runner, "li", "李四")
    rename(app, "zhang", "张三丰")
    assert people(app) == {"zhang": "张三丰", "li": "李四"}

    result = runner.invoke(args=["restore", str(backup_file), "--yes"])
    assert result.exit_code == 0, result.output
    assert "restored" in result.output
    assert people(app) == {"zhang": "张三"}
    create_user(runner, "wang", "王五")  # the restored database takes new rows
    assert set(people(app)) == {"zhang", "wang"}


def test_a_restore_asks_first_and_does_nothing_when_told_no(deployment, tmp_path):
    app, runner = deployment
    create_user(runner, "zhang", "张三")
    backup_file = tmp_path / "zaicun.backup"
    runner.invoke(args=["backup", str(backup_file)])
    create_user(runner, "li", "李四")
    result = runner.invoke(args=["restore", str(backup_file)], input="n\n")
    assert result.exit_code != 0
    assert set(people(app)) == {"zhang", "li"}


def other_kind_of_backup(tmp_path, app):
    """A file of the kind this deployment does not make."""
    path = tmp_path / "other.backup"
    if db_kind(app) == "sqlite":
        path.write_bytes(b"PGDMP\x01\x0e\x00" + b"\x00" * 100)
    else:
        sqlite3.connect(path).execute("CREATE TABLE users (id INTEGER)").connection.close()
    return path


def db_kind(app) -> str:
    with app.app_context():
        return db.engine.url.get_backend_name()


@pytest.mark.parametrize("content", ["other kind", "not a backup", "another SQLite database"])
def test_a_restore_refuses_a_file_it_cannot_use_and_changes_nothing(deployment, tmp_path,
                                                                    content):
    app, runner = deployment
    create_user(runner, "zhang", "张三")
    if content == "other kind":
        path = other_kind_of_backup(tmp_path, app)
    elif content == "not a backup":
        path = tmp_path / "notes.txt"
        path.write_text("村里走访记录\n", encoding="utf-8")
    else:
        path = tmp_path / "other.sqlite3"
        sqlite3.connect(path).execute("CREATE TABLE notes (id INTEGER)").connection.close()
        if db_kind(app) != "sqlite":
            content = "other kind"
    result = runner.invoke(args=["restore", str(path), "--yes"])
    assert result.exit_code != 0
    expected = {"other kind": "this deployment uses", "not a backup": "not a zaicun backup",
                "another SQLite database": "not a zaicun one"}[content]
    assert expected in result.output
    assert people(app) == {"zhang": "张三"}


def test_a_backup_never_overwrites_a_file(deployment, tmp_path):
    app, runner = deployment
    existing = tmp_path / "precious.backup"
    existing.write_bytes(b"keep me")
    result = runner.invoke(args=["backup", str(existing)])
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert existing.read_bytes() == b"keep me"
