"""Browser tests of the phone app: Debian's Chromium driven by Playwright, against a real
``zaicun serve`` per test module on a fresh database of the suite's kind (SQLite or PostgreSQL).

Chromium is required: when /usr/bin/chromium is missing these tests fail (never skip), and
``.ci/run`` installs it first. Each test gets its own user, so the tests of a module share one
server without seeing each other's visits.
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.databases import fresh_database
from tests.server_process import ServerProcess, free_port, serve_environment, zaicun_command

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "village-days-1"
ADMIN = ("phone_admin", "admin-pass-123")
TOWNSHIP = "341122100"
# Two villages 2.9 km apart, each with a 1 km radius; OUTSIDE is 5 km from both.
VILLAGE = {"code": "341122100201", "name": "桃园村", "lat": 32.300, "lon": 118.300}
OTHER_VILLAGE = {"code": "341122100202", "name": "柳塘村", "lat": 32.320, "lon": 118.320}
# A second township, for transfers (RULES.md §8).
OTHER_TOWNSHIP = "341122102"
FAR_VILLAGE = {"code": "341122102201", "name": "青溪村", "lat": 32.430, "lon": 118.585}
INSIDE = {"latitude": 32.3015, "longitude": 118.3010, "accuracy": 12}
OUTSIDE = {"latitude": 32.345, "longitude": 118.300, "accuracy": 12}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
_names = itertools.count(1)


def seed(database_url: str) -> None:
    """``zaicun init-db`` (the Alembic migrations), then a county with one township."""
    from flask_migrate import upgrade

    from server import TestConfig, create_app, migrations_dir
    from server.extensions import db
    from server.org.services import create_unit, create_user, create_village
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "DATABASE_URL": database_url})
    with app.app_context():
        upgrade(directory=migrations_dir())
        for code, name, level, parent in (("34", "安徽省", "province", None),
                                          ("3411", "滁州市", "city", "34"),
                                          ("341122", "示范县", "county", "3411"),
                                          (TOWNSHIP, "东山镇", "township", "341122"),
                                          (OTHER_TOWNSHIP, "青溪镇", "township", "341122")):
            create_unit(None, {"code": code, "name": name, "level": level, "parent_code": parent})
        for village in (VILLAGE, OTHER_VILLAGE):
            create_village(None, {**village, "township_code": TOWNSHIP, "radius_m": 1000})
        create_village(None, {**FAR_VILLAGE, "township_code": OTHER_TOWNSHIP, "radius_m": 1000})
        create_user(None, {"username": ADMIN[0], "password": ADMIN[1], "name": "管理员",
                           "role": "admin", "unit_code": "341122"})
        db.session.commit()
        db.engine.dispose()


@dataclass
class Person:
    id: int
    username: str
    name: str
    role: str
    password: str = PASSWORD


@dataclass
class LiveServer:
    """A running ``zaicun serve``; ``stop()`` and ``start()`` keep its port and database."""
    database_url: str
    server: ServerProcess
    admin_token: str = ""
    people: list = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server.start()

    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.admin_token}"}
        return requests.request(method, f"{self.url}/api/v1{path}", headers=headers, timeout=10, **kw)

    def login(self, username: str, password: str) -> str:
        answer = requests.post(f"{self.url}/api/v1/auth/login", timeout=10,
                               json={"username": username, "password": password})
        assert answer.status_code == 200, answer.text
        return answer.json()["token"]

    def person(self, role: str = "cadre", villages=(VILLAGE,)) -> Person:
        """A new user of the township, linked to ``villages``."""
        n = next(_names)
        username = f"{role}{n}_{os.getpid()}"
        name = f"测试{role}{n}"
        answer = self.api("POST", "/users", json={"username": username, "password": PASSWORD,
                                                  "name": name, "role": role, "unit_code": TOWNSHIP})
        assert answer.status_code == 201, answer.text
        user_id = answer.json()["id"]
        linked = self.api("PUT", f"/users/{user_id}/linked-villages",
                          json={"village_codes": [v["code"] for v in villages]})
        assert linked.status_code == 200, linked.text
        return Person(user_id, username, name, role)

    def visits_of(self, person: Person) -> list[dict]:
        answer = self.api("GET", f"/visits?user_id={person.id}&page_size=100")
        assert answer.status_code == 200, answer.text
        return answer.json()


def chromium_path() -> str:
    """Debian's Chromium; its absence fails the browser tests (under CI and elsewhere)."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium "
                    "(the browser tests need it; .ci/run installs it)", pytrace=False)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    executable = chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A fresh database, migrated and seeded, behind a real server (two workers)."""
    with fresh_database(tmp_path_factory.mktemp("phone-db")) as url:
        seed(url)
        home = Path(tempfile.mkdtemp(prefix="zaicun-phone-"))
        env = serve_environment(url, home / "instance", password_hash_method="scrypt:1024:8:1")
        port = free_port()
        server = ServerProcess(zaicun_command() + ["serve", "--host", "127.0.0.1", "--port",
                                                   str(port), "--workers", "2"],
                               port, cwd=home, env=env)
        server.start()
        try:
            live = LiveServer(url, server)
            live.admin_token = live.login(*ADMIN)
            yield live
        finally:
            server.stop()
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def context(browser, live, request):
    """A 360 × 640 phone in China, location allowed and inside 桃园村. A test marked
    ``no_service_worker`` gets none: Playwright's routes do not always see the requests a
    service worker passes through, and a test that routes every write needs them all."""
    blocked = request.node.get_closest_marker("no_service_worker") is not None
    ctx = browser.new_context(base_url=live.url, viewport={"width": 360, "height": 640},
                              locale="zh-CN", timezone_id="Asia/Shanghai", has_touch=True,
                              permissions=["geolocation"], geolocation=INSIDE,
                              service_workers="block" if blocked else "allow")
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


class PageProblems(list):
    """Uncaught errors and Content-Security-Policy refusals seen by a page."""

    def watch(self, page) -> None:
        page.on("pageerror", lambda error: self.append(f"page error: {error}"))
        page.on("console", lambda message: self.append(f"CSP: {message.text}")
                if "Content Security Policy" in message.text else None)


@pytest.fixture
def page(context):
    problems = PageProblems()
    tab = context.new_page()
    problems.watch(tab)
    yield tab
    assert not problems, problems


@pytest.fixture
def desk(browser, live):
    """A 1280 × 800 desktop in China (the console's work pages)."""
    ctx = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 800},
                              locale="zh-CN", timezone_id="Asia/Shanghai")
    ctx.set_default_timeout(10_000)
    problems = PageProblems()
    tab = ctx.new_page()
    problems.watch(tab)
    yield tab
    ctx.close()
    assert not problems, problems


def log_in(page, person: Person, password: str | None = None) -> None:
    """Open the app and log in through the form; waits for the home screen."""
    page.goto("/")
    page.get_by_label("用户名").fill(person.username)
    page.get_by_label("密码").fill(password or person.password)
    page.get_by_role("button", name="登录", exact=True).click()
    page.locator("#tabs").get_by_role("link", name="进度").wait_for()


def waiting_badge(page):
    """The header's count of items waiting (… 条待同步)."""
    return page.locator("#sync-badge")


def stored(page) -> dict:
    """What the app keeps in the page: IndexedDB (outbox, kv), localStorage, Cache Storage."""
    return page.evaluate("""async () => {
        const db = await new Promise((resolve, reject) => {
            const req = indexedDB.open('zaicun');
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
        });
        const read = (name, how) => new Promise((resolve, reject) => {
            const req = db.transaction(name, 'readonly').objectStore(name)[how]();
            req.onsuccess = () => resolve(req.result);
            req.onerror = () => reject(req.error);
        });
        const kvKeys = await read('kv', 'getAllKeys');
        const kvValues = await read('kv', 'getAll');
        const outbox = await read('outbox', 'getAll');
        db.close();
        const cached = [];
        for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) cached.push([name, request.url]);
        }
        return { outbox, kv: Object.fromEntries(kvKeys.map((k, i) => [k, kvValues[i]])),
                 local: { ...localStorage }, session: { ...sessionStorage }, cached };
    }""")


def wait_until(page, predicate, timeout_s: float = 10.0, interval_s: float = 0.2,
               message: str = ""):
    """Poll ``predicate`` until it returns something truthy; AssertionError after the timeout.

    It waits through the page, so Playwright keeps serving routes and events meanwhile.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"not true within {timeout_s} s")
        page.wait_for_timeout(interval_s * 1000)


def wait_for_script(page, expression: str, timeout_s: float = 15.0) -> None:
    """Poll a JavaScript expression (it may be a promise) until it is true.

    Not ``page.wait_for_function``: that evaluates its predicate with ``eval``, which the app's
    Content-Security-Policy rightly refuses.
    """
    wait_until(page, lambda: page.evaluate(expression), timeout_s=timeout_s,
               message=f"never true: {expression}")


def screenshot(page, name: str) -> None:
    """Save a screenshot into screenshots/ (git-ignored) for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def json_body(route_request) -> dict:
    return json.loads(route_request.post_data or "{}")


def record_visit(live, person, start: datetime, hours: float, position: dict | None = None,
                 village: dict = VILLAGE) -> tuple[dict, str]:
    """A whole visit (check-in and check-out in one request) through the API, at the village
    or at ``position`` (OUTSIDE makes it pending review); returns it and the person's token."""
    token = live.login(person.username, person.password)
    where = position or {"latitude": village["lat"], "longitude": village["lon"], "accuracy": 10}
    location = {"lat": where["latitude"], "lon": where["longitude"],
                "accuracy_m": where.get("accuracy", 10)}
    answer = live.api("POST", "/visits", token=token, json={
        "client_id": str(uuid.uuid4()), "village_code": village["code"],
        "check_in": {"at": start.isoformat(), "location": location},
        "check_out": {"at": (start + timedelta(hours=hours)).isoformat(), "location": location}})
    assert answer.status_code == 201, answer.text
    return answer.json(), token
