"""Fixtures: an app per test on one database per run, and factories with defaults.

The database is SQLite in a temporary file unless ``ZAICUN_TEST_DATABASE_URL`` names
another (``.ci/run`` runs the whole suite again on PostgreSQL that way).
"""
from __future__ import annotations

import itertools
import os
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from server import TestConfig, create_app
from server.extensions import db

_counter = itertools.count(1)
PASSWORD = "correct-horse-1"


def database_url(tmp_path_factory) -> str:
    url = os.environ.get("ZAICUN_TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def db_url(tmp_path_factory):
    """One database for the run; the schema is made once, rows are cleared after each test."""
    url = database_url(tmp_path_factory)
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": url})
    with app.app_context():
        db.drop_all()
        db.create_all()
    yield url
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def vars_of(cls) -> dict:
    return {k: getattr(cls, k) for k in dir(cls) if k.isupper()}


@pytest.fixture
def app_config():
    """Extra settings a test may change before the app is built."""
    return {}


@pytest.fixture
def app(db_url, app_config, tmp_path):
    app = create_app({**vars_of(TestConfig), "DATABASE_URL": db_url,
                      **app_config})
    app.instance_path = str(tmp_path)
    with app.app_context():
        yield app
        db.session.remove()
        clear_tables()
        db.engine.dispose()


def clear_tables() -> None:
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- factories ------------------------------------------------------------------------------

def make_unit(**params):
    from server.org.services import create_unit
    n = next(_counter)
    params.setdefault("code", f"U{n:05d}")
    params.setdefault("name", f"单位{n}")
    params.setdefault("level", "township")
    unit = create_unit(None, params)
    db.session.commit()
    return unit


def make_village(township, **params):
    from server.org.services import create_village
    n = next(_counter)
    params.setdefault("code", f"{n:012d}")
    params.setdefault("name", f"村{n}")
    params.setdefault("lat", 31.0)
    params.setdefault("lon", 117.0)
    params.setdefault("radius_m", 1000)
    params["township_code"] = township.code
    village = create_village(None, params)
    db.session.commit()
    return village


def make_user(unit=None, **params):
    from server.org.services import create_user
    n = next(_counter)
    params.setdefault("username", f"user{n}")
    params.setdefault("password", PASSWORD)
    params.setdefault("name", f"人员{n}")
    params.setdefault("role", "cadre")
    params["unit_code"] = unit.code if unit is not None else None
    user = create_user(None, params)
    db.session.commit()
    return user


def link(user, *villages):
    from server.org.services import set_linked_villages
    set_linked_villages(None, user, [v.code for v in villages])
    db.session.commit()


def token_for(client, user, password=PASSWORD) -> dict:
    """Log in and return the Authorization header."""
    response = client.post("/api/v1/auth/login",
                           json={"username": user.username, "password": password})
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['token']}"}


def at(hours_ago: float = 0, **delta) -> str:
    """An ISO time with a +08:00 offset, ``hours_ago`` before now."""
    moment = datetime.now(UTC) - timedelta(hours=hours_ago, **delta)
    return moment.astimezone(timezone(timedelta(hours=8))).isoformat(timespec="seconds")


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def org(app):
    """A province with two counties: 示范县 (two townships) and 邻县 (one township).

    Every role in 示范县's first township, a cadre in its second, and a cadre next door.
    """
    return build_org()


def build_org():
    """Build the ``org`` fixture's units, villages and people (inside an app context)."""
    class Org:
        pass
    o = Org()
    o.province = make_unit(code="34", name="安徽省", level="province")
    o.city = make_unit(code="3411", name="滁州市", level="city", parent_code="34")
    o.county = make_unit(code="341122", name="示范县", level="county", parent_code="3411")
    o.town = make_unit(code="341122100", name="东镇", level="township", parent_code="341122")
    o.town2 = make_unit(code="341122101", name="西镇", level="township", parent_code="341122")
    o.other_county = make_unit(code="341123", name="邻县", level="county", parent_code="3411")
    o.other_town = make_unit(code="341123100", name="北镇", level="township",
                             parent_code="341123")
    o.village = make_village(o.town, code="341122100201", name="东村", lat=32.30, lon=118.30)
    o.village_b = make_village(o.town, code="341122100202", name="南村", lat=32.32, lon=118.32)
    o.village2 = make_village(o.town2, code="341122101201", name="西村", lat=32.20, lon=118.10)
    o.other_village = make_village(o.other_town, code="341123100201", name="北村",
                                   lat=32.60, lon=118.60)
    o.cadre = make_user(o.town, username="cadre", name="张三", role="cadre")
    o.colleague = make_user(o.town, username="colleague", name="李四", role="cadre")
    o.secretary = make_user(o.town, username="secretary", name="王书记", role="secretary")
    o.town2_cadre = make_user(o.town2, username="town2cadre", name="赵六", role="cadre")
    o.other_cadre = make_user(o.other_town, username="othercadre", name="钱七", role="cadre")
    o.supervisor = make_user(o.county, username="supervisor", name="孙部长", role="supervisor")
    o.town_supervisor = make_user(o.town, username="townsup", name="周干事", role="supervisor")
    o.other_supervisor = make_user(o.other_county, username="othersup", name="吴部长",
                                   role="supervisor")
    o.admin = make_user(o.county, username="admin", name="管理员", role="admin")
    o.root = make_user(None, username="root", name="系统管理员", role="admin")
    link(o.cadre, o.village, o.village_b)
    link(o.secretary, o.village)
    return o


def check_in_body(village, hours_ago=2.0, lat=None, lon=None, accuracy=20.0, **extra):
    """A check-in at the village's point (or ``lat``/``lon``) ``hours_ago`` hours ago."""
    body = {"client_id": new_id(), "village_code": village.code,
            "check_in": {"at": at(hours_ago), "location": {
                "lat": village.lat if lat is None else lat,
                "lon": village.lon if lon is None else lon, "accuracy_m": accuracy}}}
    body.update(extra)
    return body
