"""CSV imports (API.md "Organisation", "Command line"): all rows or none, errors by row and column.

Every test runs through the three ways a file arrives: a multipart upload, a raw
``text/csv`` body, and the ``zaicun import-*`` commands.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from server.auth.models import User
from server.auth.passwords import password_problem
from server.extensions import db
from server.geo import gcj02_to_wgs84
from server.org.models import Village
from tests.conftest import token_for

TRANSPORTS = ["multipart", "raw", "cli"]
CLI_ERROR = re.compile(r"第 (\d+) 行，(\S+) 列：")
CLI_PASSWORD = re.compile(r"^\s+(\S+)\t(\S+)$", re.MULTILINE)


@dataclass
class Outcome:
    ok: bool
    imported: int | None = None
    errors: set[tuple[int, str]] = field(default_factory=set)
    passwords: dict[str, str] = field(default_factory=dict)
    status: int | None = None


@pytest.fixture
def send(client, runner, org, tmp_path):
    """Send CSV text (or bytes) to the importer of ``kind`` through ``transport``."""
    auth = token_for(client, org.admin)

    def _send(transport: str, kind: str, csv: str | bytes) -> Outcome:
        raw = csv.encode("utf-8") if isinstance(csv, str) else csv
        if transport == "cli":
            path = tmp_path / f"{kind}.csv"
            path.write_bytes(raw)
            result = runner.invoke(args=[f"import-{kind}", str(path)])
            if result.exit_code != 0:
                return Outcome(False, errors={(int(r), c.strip()) for r, c in
                                              CLI_ERROR.findall(result.output)})
            return Outcome(True, imported=int(re.search(r"imported (\d+)", result.output)[1]),
                           passwords=dict(CLI_PASSWORD.findall(result.output)))
        if transport == "multipart":
            response = client.post(f"/api/v1/imports/{kind}", headers=auth,
                                   data={"file": (io.BytesIO(raw), f"{kind}.csv")},
                                   content_type="multipart/form-data")
        else:
            response = client.post(f"/api/v1/imports/{kind}", headers=auth, data=raw,
                                   content_type="text/csv; charset=utf-8")
        body = response.get_json()
        if response.status_code >= 400:
            assert response.status_code == 422, body
            assert set(body) >= {"code", "message", "errors"}
            return Outcome(False, status=422, errors={(e["row"], e["column"])
                                                      for e in body["errors"]["rows"]})
        assert response.status_code in (200, 201), body
        return Outcome(True, imported=body["imported"],
                       passwords=body.get("one_time_passwords") or {}, status=response.status_code)

    return _send


def village_count() -> int:
    return db.session.scalar(select(func.count(Village.id)))


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def village(code: str) -> Village | None:
    return db.session.scalar(select(Village).where(Village.code == code))


def login(client, username, password):
    return client.post("/api/v1/auth/login", json={"username": username, "password": password})


VILLAGES = """code,name,township_code,lat,lon,radius_m,crs
341122100203,三里村,341122100,32.31,118.31,800,
341122100204,五里村,341122100,32.33,118.33,,
341122101202,柳村,341122101,32.21,118.11,1500,wgs84
"""


# --- villages -------------------------------------------------------------------------------

@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_valid_village_file_imports_every_row(send, org, transport):
    before = village_count()
    outcome = send(transport, "villages", VILLAGES)
    assert outcome.ok and outcome.imported == 3
    assert village_count() == before + 3
    three = village("341122100203")
    assert (three.name, three.township.code, three.lat, three.lon, three.radius_m) == \
        ("三里村", "341122100", 32.31, 118.31, 800)
    assert village("341122100204").radius_m == 1000   # the default


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_byte_order_mark_is_accepted(send, org, transport):
    outcome = send(transport, "villages", "\ufeff" + VILLAGES)
    assert outcome.ok and outcome.imported == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_gcj02_row_is_stored_as_wgs84(send, org, transport):
    outcome = send(transport, "villages", "code,name,township_code,lat,lon,crs\n"
                                          "341122100203,三里村,341122100,32.31,118.31,gcj02\n")
    assert outcome.ok
    lat, lon = gcj02_to_wgs84(32.31, 118.31)
    stored = village("341122100203")
    assert stored.lat == pytest.approx(lat, abs=1e-9)
    assert stored.lon == pytest.approx(lon, abs=1e-9)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_village_file_with_errors_imports_nothing_and_names_each_row_and_column(
        send, org, transport):
    before = village_count()
    outcome = send(transport, "villages", """code,name,township_code,lat,lon,radius_m
341122100203,三里村,341122100,32.31,118.31,800
341122100204,五里村,341122100,north,118.33,
341122100205,七里村,999,32.35,118.35,
341122100206,九里村,341122100,32.36,118.36,-5
341122100207,十里村,341122100,32.37,118.37,
""")
    assert not outcome.ok
    assert outcome.errors == {(3, "lat"), (4, "township_code"), (5, "radius_m")}
    assert village_count() == before
    assert village("341122100203") is None
    assert village("341122100207") is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_duplicate_village_codes_are_reported(send, org, transport):
    before = village_count()
    outcome = send(transport, "villages", """code,name,township_code,lat,lon
341122100203,三里村,341122100,32.31,118.31
341122100203,又一个三里村,341122100,32.32,118.32
341122100201,东村,341122100,32.30,118.30
""")
    assert not outcome.ok
    assert outcome.errors == {(3, "code"), (4, "code")}   # in the file; already stored
    assert village_count() == before


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("header, column", [
    ("code,name,township_code,lat", "lon"),                    # missing
    ("code,name,township_code,lat,lon,altitude", "altitude"),  # unknown
])
def test_a_bad_header_is_reported_as_row_1(send, org, transport, header, column):
    outcome = send(transport, "villages", header + "\n")
    assert not outcome.ok
    assert (1, column) in outcome.errors


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_file_that_is_not_utf8_is_refused(send, org, transport):
    before = village_count()
    outcome = send(transport, "villages", VILLAGES.encode("gbk"))
    assert not outcome.ok
    assert village_count() == before


@pytest.mark.parametrize("kind", ["villages", "users"])
@pytest.mark.parametrize("who", ["supervisor", "secretary"])
def test_only_admins_import_over_http(client, org, who, kind):
    before = village_count(), user_count()
    response = client.post(f"/api/v1/imports/{kind}", data=VILLAGES.encode(),
                           content_type="text/csv", headers=token_for(client, getattr(org, who)))
    assert response.status_code == 403
    assert (village_count(), user_count()) == before


# --- users ----------------------------------------------------------------------------------

USERS = """username,name,role,unit_code,active_from,active_until,village_codes
wangwu,王五,cadre,341122100,2026-01-01,,341122100201;341122100202
liuliu,刘六,secretary,341122101,,,341122101201
zhengqi,郑七,supervisor,341122,,,
"""


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_imported_users_get_one_time_passwords_returned_once(send, client, org, transport):
    before = user_count()
    outcome = send(transport, "users", USERS)
    assert outcome.ok and outcome.imported == 3
    assert user_count() == before + 3
    assert set(outcome.passwords) == {"wangwu", "liuliu", "zhengqi"}
    for username, password in outcome.passwords.items():
        assert password_problem(username, password) is None
        response = login(client, username, password)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["user"]["must_change_password"] is True
    stored = db.session.scalar(select(User).where(User.username == "wangwu"))
    assert (stored.role, stored.unit.code, str(stored.active_from)) == \
        ("cadre", "341122100", "2026-01-01")
    assert outcome.passwords["wangwu"] not in stored.password_hash


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_village_codes_column_links_villages(send, client, org, transport):
    outcome = send(transport, "users", USERS)
    assert outcome.ok
    for username, expected in [("wangwu", ["341122100201", "341122100202"]),
                               ("liuliu", ["341122101201"])]:
        token = login(client, username, outcome.passwords[username]).get_json()["token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
        assert [v["code"] for v in me["linked_villages"]] == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_village_codes_may_be_separated_by_spaces(send, client, org, transport):
    outcome = send(transport, "users", "username,name,role,unit_code,village_codes\n"
                                       "wangwu,王五,cadre,341122100,341122100201 341122100202\n")
    assert outcome.ok
    stored = db.session.scalar(select(User).where(User.username == "wangwu"))
    assert [v.code for v in stored.linked_villages] == ["341122100201", "341122100202"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_user_file_with_errors_imports_nothing_and_names_each_row_and_column(
        send, org, transport):
    before = user_count()
    outcome = send(transport, "users", """username,name,role,unit_code,village_codes
wangwu,王五,cadre,341122100,341122100201
liuliu,刘六,chief,341122100,
zhengqi,郑七,cadre,341122,
sunba,孙八,cadre,341122100,341122101201
wangwu,又一个王五,cadre,341122100,
cadre,重名,cadre,341122100,
zhoujiu,周九,supervisor,999,
""")
    assert not outcome.ok
    assert outcome.errors == {
        (3, "role"),            # no such role
        (4, "unit_code"),       # a cadre belongs to a township
        (5, "village_codes"),   # 西村 is not in 东镇
        (6, "username"),        # twice in the file
        (7, "username"),        # already stored
        (8, "unit_code"),       # no such unit
    }
    assert user_count() == before
    assert db.session.scalar(select(User).where(User.username == "wangwu")) is None


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_importing_the_same_users_again_returns_no_passwords(send, org, transport):
    first = send(transport, "users", USERS)
    assert first.ok
    again = send(transport, "users", USERS)
    assert not again.ok
    assert again.passwords == {}
    assert again.errors == {(2, "username"), (3, "username"), (4, "username")}
