"""The ``zaicun`` command, ``/healthz``, the OpenAPI document and docs, and response headers."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from server import TestConfig, create_app
from server.auth.models import User
from server.extensions import db
from tests.conftest import vars_of

UNREACHABLE_DATABASE = "postgresql://postgres@127.0.0.1:1/x"


def create_user(runner, **options):
    args = ["create-user"]
    for name, value in {"username": "cliuser", "password": "a-good-password",
                        "name": "命令行用户", "role": "admin", **options}.items():
        if value is not None:
            args += [f"--{name.replace('_', '-')}", value]
    return runner.invoke(args=args)


def stored_user(username):
    return db.session.scalar(select(User).where(User.username == username))


# --- the command line -----------------------------------------------------------------------

def test_create_user_makes_a_user_who_can_log_in(runner, client, org):
    result = create_user(runner, role="cadre", unit_code="341122100")
    assert result.exit_code == 0, result.output
    assert "cliuser" in result.output
    user = stored_user("cliuser")
    assert (user.role, user.unit.code, user.must_change_password) == ("cadre", "341122100", False)
    response = client.post("/api/v1/auth/login",
                           json={"username": "cliuser", "password": "a-good-password"})
    assert response.status_code == 200


def test_create_user_needs_no_unit_for_the_first_admin(runner, app):
    result = create_user(runner)
    assert result.exit_code == 0, result.output
    assert stored_user("cliuser").unit is None


@pytest.mark.parametrize("password", ["short", "1234567", "cliuser1"])
def test_create_user_with_a_weak_password_fails_with_a_clear_message(runner, app, password):
    result = create_user(runner, username="cliuser1", password=password)
    assert result.exit_code != 0
    assert "8" in result.output and "password" in result.output
    assert stored_user("cliuser1") is None


@pytest.mark.parametrize("options, field", [
    ({"role": "cadre", "unit_code": None}, "unit_code"),         # a cadre needs a township
    ({"role": "cadre", "unit_code": "nosuchunit"}, "unit_code"),
    ({"username": "cadre"}, "username"),                           # taken
])
def test_create_user_refuses_what_the_api_refuses(runner, org, options, field):
    result = create_user(runner, **options)
    assert result.exit_code != 0
    assert field in result.output
    assert "Traceback" not in result.output


def test_create_user_refuses_an_unknown_role(runner, app):
    result = create_user(runner, role="boss")
    assert result.exit_code != 0
    assert stored_user("cliuser") is None


@pytest.mark.parametrize("command", ["import-villages", "import-users"])
def test_an_import_of_a_missing_file_fails(runner, app, tmp_path, command):
    result = runner.invoke(args=[command, str(tmp_path / "missing.csv")])
    assert result.exit_code != 0
    assert "missing.csv" in result.output


def test_an_import_with_errors_exits_non_zero_and_names_row_and_column(runner, org, tmp_path):
    path = tmp_path / "villages.csv"
    path.write_text("code,name,township_code,lat,lon\n"
                    "341122100203,三里村,341122100,32.31,118.31\n"
                    "341122100204,五里村,341122100,32.33,far\n", encoding="utf-8")
    result = runner.invoke(args=["import-villages", str(path)])
    assert result.exit_code == 1
    assert "第 3 行，lon 列：" in result.output


def test_a_valid_import_exits_zero_and_says_how_many(runner, org, tmp_path):
    path = tmp_path / "villages.csv"
    path.write_text("code,name,township_code,lat,lon\n"
                    "341122100203,三里村,341122100,32.31,118.31\n", encoding="utf-8")
    result = runner.invoke(args=["import-villages", str(path)])
    assert result.exit_code == 0, result.output
    assert "1" in result.output


# --- health ---------------------------------------------------------------------------------

def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture
def app_without_database(tmp_path):
    """An app whose database refuses connections; built beside the usual one."""
    down = create_app({**vars_of(TestConfig), "DATABASE_URL": UNREACHABLE_DATABASE})
    down.instance_path = str(tmp_path)
    yield down
    with down.app_context():
        db.engine.dispose()


def test_healthz_answers_503_when_the_database_is_down(app, app_without_database):
    response = app_without_database.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["status"] != "ok"
    assert int(response.headers["Retry-After"]) > 0


def test_an_api_call_answers_503_with_retry_after_when_the_database_is_down(
        app, app_without_database):
    response = app_without_database.test_client().post(
        "/api/v1/auth/login", json={"username": "cadre", "password": "correct-horse-1"})
    assert response.status_code == 503
    assert response.get_json()["code"] == "unavailable"
    assert int(response.headers["Retry-After"]) > 0


# --- OpenAPI and the browsable docs ---------------------------------------------------------

@pytest.fixture
def openapi(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_openapi_document_is_openapi_3_and_needs_no_login(openapi):
    assert openapi["openapi"].startswith("3.")
    assert openapi["info"]["title"]


@pytest.mark.parametrize("method, path", [
    ("post", "/api/v1/visits"),
    ("get", "/api/v1/visits"),
    ("get", "/api/v1/visits/{ref}"),
    ("get", "/api/v1/visits/{ref}/events"),
    ("post", "/api/v1/visits/{ref}/check-out"),
    ("post", "/api/v1/visits/{ref}/explain"),
    ("post", "/api/v1/visits/{ref}/withdraw"),
    ("post", "/api/v1/visits/{ref}/village"),
    ("post", "/api/v1/visits/{ref}/review"),
    ("post", "/api/v1/visits/review"),
])
def test_the_visit_endpoints_are_documented_with_bearer_security(openapi, method, path):
    operation = openapi["paths"][path][method]
    security = operation.get("security", openapi.get("security", []))
    schemes = openapi["components"]["securitySchemes"]
    bearer = [name for requirement in security for name in requirement
              if schemes[name].get("type") == "http" and schemes[name].get("scheme") == "bearer"]
    assert bearer, (path, security)


class Tags(HTMLParser):
    """Collects the page's script tags (with their text) and the URLs of its assets."""

    def __init__(self):
        super().__init__()
        self.scripts: list[dict] = []
        self.assets: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script":
            self.scripts.append({"src": attrs.get("src"), "text": ""})
            self._in_script = True
        url = attrs.get("src") or (attrs.get("href") if tag == "link" else None)
        if url:
            self.assets.append(url)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["text"] += data


@pytest.fixture
def docs_page(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = Tags()
    page.feed(response.get_data(as_text=True))
    return page


def test_the_docs_page_has_no_inline_script(docs_page):
    assert docs_page.scripts
    for script in docs_page.scripts:
        assert script["src"], script
        assert not script["text"].strip()


def test_the_docs_assets_are_served_by_us(client, docs_page):
    assert docs_page.assets
    for url in docs_page.assets:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url


def test_the_swagger_ui_bundle_is_served_locally_as_javascript(client):
    response = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert response.status_code == 200
    assert "javascript" in response.mimetype
    assert b"SwaggerUIBundle" in response.get_data()


# --- method errors and headers --------------------------------------------------------------

@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/units", {"GET", "POST"}),
    ("PUT", "/api/v1/auth/login", {"POST"}),
    ("GET", "/api/v1/auth/logout", {"POST"}),
    ("DELETE", "/api/v1/reports", {"GET", "POST"}),
])
def test_an_unknown_method_is_405_with_allow_and_a_json_error(client, method, path, allowed):
    response = client.open(path, method=method)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}
    assert response.is_json
    assert set(response.get_json()) >= {"code", "message"}


def script_sources(csp: str) -> list[str]:
    directives = dict((part.strip().split(" ", 1) + [""])[:2]
                      for part in csp.split(";") if part.strip())
    return (directives.get("script-src") or directives["default-src"]).split()


@pytest.mark.parametrize("path", ["/healthz", "/api/docs", "/api/v1/openapi.json", "/api/v1/me",
                                  "/api/docs/assets/swagger-ui-bundle.js"])
def test_every_answer_carries_the_security_headers(client, path):
    response = client.get(path)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    sources = script_sources(response.headers["Content-Security-Policy"])
    assert "'self'" in sources
    assert "'unsafe-inline'" not in sources
    assert "'unsafe-eval'" not in sources
    assert not any(s.startswith("http") or s == "*" for s in sources)
