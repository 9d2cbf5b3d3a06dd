"""Large CSV imports: a job (202, a status URL, progress, the result or the row errors), all
rows or none, one-time passwords given once and cheap to hash, rows of the wrong shape named,
and check-ins that stay fast on a real server while 40,000 villages are imported.

The in-process tests lower ``IMPORT_SYNC_MAX_ROWS`` so that a few rows make a job; the job's
thread runs in this process against the suite's database (SQLite or PostgreSQL).
"""
from __future__ import annotations

import io
import time
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, insert, select

from server.auth.models import User
from server.db_types import utcnow
from server.extensions import db
from server.org import imports, jobs
from server.org.models import Village
from tests.conftest import make_user, make_village, token_for

SMALL = 5  # IMPORT_SYNC_MAX_ROWS for these tests: more rows than this make a job


@pytest.fixture
def app_config():
    return {"IMPORT_SYNC_MAX_ROWS": SMALL}


@pytest.fixture
def admin(client, org):
    return token_for(client, org.admin)


def village_rows(n: int, township: str = "341122100", start: int = 300) -> str:
    return "".join(f"{township}{start + i:03d},村{i},{township},32.{i:03d},118.{i:03d}\n"
                   for i in range(n))


VILLAGE_HEADER = "code,name,township_code,lat,lon\n"


def post_csv(client, auth, kind: str, text: str, multipart: bool = False, **headers):
    if multipart:
        return client.post(f"/api/v1/imports/{kind}", headers={**auth, **headers},
                            data={"file": (io.BytesIO(text.encode()), f"{kind}.csv")},
                            content_type="multipart/form-data")
    return client.post(f"/api/v1/imports/{kind}", headers={**auth, **headers},
                       data=text.encode(), content_type="text/csv; charset=utf-8")


def wait_for(client, auth, url: str, timeout_s: float = 60.0) -> dict:
    """Poll a job's status URL until it is done or failed; return that answer."""
    deadline = time.monotonic() + timeout_s
    seen = []
    while time.monotonic() < deadline:
        response = client.get(url, headers=auth)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        seen.append(body["status"])
        assert body["status"] in ("queued", "running", "done", "failed")
        assert 0 <= body["done_rows"] <= body["total_rows"]
        if body["status"] in ("done", "failed"):
            return body
        time.sleep(0.05)
    raise AssertionError(f"the job did not end: {seen[-5:]}")


def village_count() -> int:
    db.session.rollback()  # see what the job's thread committed
    return db.session.scalar(select(func.count(Village.id)))


# --- jobs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("multipart", [False, True])
def test_a_large_village_file_is_imported_by_a_job(client, org, admin, multipart):
    before = village_count()
    response = post_csv(client, admin, "villages", VILLAGE_HEADER + village_rows(40),
                        multipart=multipart)
    assert response.status_code == 202, response.get_json()
    job = response.get_json()
    assert response.headers["Location"] == job["status_url"] == \
        f"/api/v1/imports/jobs/{job['id']}"
    assert (job["kind"], job["status"], job["total_rows"], job["done_rows"]) == \
        ("villages", "queued", 40, 0)
    done = wait_for(client, admin, response.headers["Location"])
    assert done["status"] == "done", done
    assert done["result"] == {"imported": 40}
    assert done["error"] is None and done["done_rows"] == 40
    assert village_count() == before + 40
    stored = db.session.scalar(select(Village).where(Village.code == "341122100305"))
    assert (stored.name, stored.township.code, stored.lat, stored.lon, stored.radius_m) == \
        ("村5", "341122100", 32.005, 118.005, 1000)


def test_a_job_with_a_bad_row_in_the_middle_writes_nothing_and_names_the_row(client, org, admin):
    before = village_count()
    rows = village_rows(40).splitlines(keepends=True)
    rows[20] = rows[20].replace(",32.020,", ",north,")      # file row 22: the header is row 1
    rows[30] = rows[30].replace(",341122100,", ",341123100,")  # row 32: another county's
    response = post_csv(client, admin, "villages", VILLAGE_HEADER + "".join(rows),
                        **{"Accept-Language": "en"})
    assert response.status_code == 202
    failed = wait_for(client, admin, response.headers["Location"])
    assert failed["status"] == "failed" and failed["result"] is None
    error = failed["error"]
    assert error["code"] == "csv_invalid" and error["message"]
    assert [(e["row"], e["column"]) for e in error["errors"]["rows"]] == \
        [(22, "lat"), (32, "township_code")]
    assert "number" in error["errors"]["rows"][0]["message"]
    assert error["errors"]["rows"][1]["message"] == \
        "That unit or person is outside your scope."  # worded as the POST asked
    assert village_count() == before


def test_a_user_job_gives_the_one_time_passwords_once_and_they_log_in(client, org, admin):
    lines = ["username,name,role,unit_code,village_codes"]
    lines += [f"bulk{i},批量{i},cadre,341122100,{'341122100201;341122100202' if i == 0 else ''}"
              for i in range(12)]
    lines += ["bulksec,批量书记,secretary,341122101,341122101201"]
    response = post_csv(client, admin, "users", "\n".join(lines) + "\n")
    assert response.status_code == 202
    assert response.get_json()["kind"] == "users"
    done = wait_for(client, admin, response.headers["Location"])
    assert done["status"] == "done", done
    passwords = done["result"]["one_time_passwords"]
    assert done["result"]["imported"] == 13 and len(passwords) == 13
    assert done["passwords_given_at"] is not None
    again = client.get(response.headers["Location"], headers=admin).get_json()
    assert again["status"] == "done" and again["result"] == {"imported": 13}
    db.session.rollback()
    stored = db.session.scalar(select(jobs.ImportJob).where(jobs.ImportJob.id == done["id"]))
    assert stored.one_time_passwords is None          # erased from storage once given

    for username in ("bulk0", "bulk7", "bulksec"):
        login = client.post("/api/v1/auth/login",
                            json={"username": username, "password": passwords[username]})
        assert login.status_code == 200, login.get_json()
        assert login.get_json()["user"]["must_change_password"] is True
    me = client.get("/api/v1/me", headers={"Authorization": "Bearer " + client.post(
        "/api/v1/auth/login", json={"username": "bulk0", "password": passwords["bulk0"]}
    ).get_json()["token"]}).get_json()
    assert [v["code"] for v in me["linked_villages"]] == ["341122100201", "341122100202"]
    user = db.session.scalar(select(User).where(User.username == "bulk3"))
    assert user.password_hash.startswith(imports.ONE_TIME_HASH_METHOD + "$")
    assert (user.role, user.unit.code, user.active, user.username_key) == \
        ("cadre", "341122100", True, "bulk3")


def test_a_job_is_its_owners_alone(client, org, admin):
    response = post_csv(client, admin, "villages", VILLAGE_HEADER + village_rows(10))
    url = response.headers["Location"]
    wait_for(client, admin, url)
    for other in (org.root, org.supervisor, org.cadre):
        assert client.get(url, headers=token_for(client, other)).status_code == 404
    assert client.get("/api/v1/imports/jobs/" + uuid.uuid4().hex, headers=admin).status_code \
        == 404
    assert client.get("/api/v1/imports/jobs/" + "x" * 300, headers=admin).status_code == 404


def test_the_command_line_imports_any_size_at_once(runner, org, tmp_path):
    path = tmp_path / "villages.csv"
    path.write_text(VILLAGE_HEADER + village_rows(30), encoding="utf-8")
    before = village_count()
    result = runner.invoke(args=["import-villages", str(path)])
    assert result.exit_code == 0, result.output
    assert "imported 30 villages" in result.output
    assert village_count() == before + 30


def test_a_job_whose_process_died_is_reported_failed_and_can_no_longer_write(client, org, admin):
    stale = utcnow() - timedelta(minutes=5)
    db.session.execute(insert(jobs.ImportJob.__table__).values(
        id="0" * 32, kind="villages", status="running", phase="checking", owner_id=org.admin.id,
        total_rows=90_000, done_rows=1_000, created_at=stale, started_at=stale,
        heartbeat_at=stale))
    db.session.commit()
    body = client.get("/api/v1/imports/jobs/" + "0" * 32, headers=admin).get_json()
    assert body["status"] == "failed"
    assert body["error"]["code"] == "import_interrupted" and body["error"]["message"]
    with db.engine.begin() as connection:   # its thread, were it still alive, writes nothing
        assert jobs._finish_done("0" * 32, None)(connection, 90_000) is False


def test_an_admin_with_a_job_running_waits_for_it(client, org, admin):
    now = utcnow()
    db.session.execute(insert(jobs.ImportJob.__table__).values(
        id="1" * 32, kind="villages", status="running", owner_id=org.admin.id, total_rows=9,
        done_rows=0, created_at=now, started_at=now, heartbeat_at=now))
    db.session.commit()
    before = village_count()
    response = post_csv(client, admin, "villages", VILLAGE_HEADER + village_rows(10))
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert village_count() == before
    small = post_csv(client, admin, "villages", VILLAGE_HEADER + village_rows(2))
    assert small.status_code == 201   # a small file does not wait


def test_a_key_taken_between_the_check_and_the_write_names_the_row_and_writes_nothing(org):
    table = imports.read_table(VILLAGE_HEADER + village_rows(8), "villages")
    plan = imports.check_villages(org.admin, table)
    make_village(org.town, code="341122100305")      # someone else, meanwhile
    before = village_count()
    with pytest.raises(imports.CsvInvalid) as caught:
        imports.write_villages(plan)
    assert [(p["row"], p["column"]) for p in caught.value.problems] == [(7, "code")]
    assert village_count() == before

    users = imports.read_table("username,name,role,unit_code\nracer,甲,cadre,341122100\n"
                               "other,乙,cadre,341122100\n", "users")
    user_plan = imports.check_users(org.admin, users)
    make_user(org.town, username="RACER")             # the same name once case-folded
    with pytest.raises(imports.CsvInvalid) as caught:
        imports.write_users(user_plan)
    assert [(p["row"], p["column"]) for p in caught.value.problems] == [(2, "username")]
    assert db.session.scalar(select(User).where(User.username == "other")) is None


# --- the shape of a file ----------------------------------------------------------------------

@pytest.mark.parametrize("rows", [3, 12])   # within a request, and as a job
def test_a_row_with_more_fields_than_the_header_is_that_rows_error(client, org, admin, rows):
    lines = village_rows(rows).splitlines()
    lines[1] += ",800"                        # row 3: a sixth field under a five-column header
    before = village_count()
    response = post_csv(client, admin, "villages", VILLAGE_HEADER + "\n".join(lines) + "\n")
    body = response.get_json() if response.status_code == 422 else \
        wait_for(client, admin, response.headers["Location"])["error"]
    assert [(e["row"], e["column"]) for e in body["errors"]["rows"]] == [(3, "")]
    assert body["errors"]["rows"][0]["message"] == "字段数多于表头（6 > 5）。"
    assert village_count() == before


@pytest.mark.parametrize("kind, header, column", [
    ("villages", "code,name,township_code,lat,lon,code", "code"),
    ("users", "username,name,role,unit_code,name", "name"),
])
def test_a_repeated_header_column_is_a_row_1_error_naming_it(client, org, admin, kind, header,
                                                            column):
    response = post_csv(client, admin, kind, header + "\n" + "x,y,z,1,2,3\n" * 20)
    assert response.status_code == 422        # at once, whatever the size
    errors = response.get_json()["errors"]["rows"]
    assert [(e["row"], e["column"]) for e in errors] == [(1, column)]
    assert errors[0]["message"] == "该列出现了 2 次。"


def test_numbers_are_read_as_numbers_and_text_is_refused_as_the_api_would(client, org, admin):
    response = post_csv(client, admin, "villages", "code,name,township_code,lat,lon,radius_m\n"
                        "341122100301,甲,341122100,32.1,118.1,800\n"
                        "341122100302,乙,341122100,32.1,118.1,800.5\n"
                        "341122100303,丙,341122100,1e1,118.1,\n"
                        "341122100304,丁,341122100,３２,118.1,\n")
    assert response.status_code == 422
    assert [(e["row"], e["column"]) for e in response.get_json()["errors"]["rows"]] == \
        [(3, "radius_m"), (5, "lat")]


# --- check-ins while a large file is imported, on a real server -----------------------------------

@pytest.mark.slow
def test_check_ins_are_answered_within_5_s_while_40000_villages_are_imported(tmp_path):
    from tests.databases import fresh_database
    from tests.live import ADMIN, ADMIN_PASSWORD, FAST_HASHES, FieldTeam, log_in, prepare_database
    from tests.server_process import zaicun_serve
    townships, per_township = 40, 1000
    with fresh_database(tmp_path) as url:
        prepare_database(url, tmp_path)
        with zaicun_serve(url, workers=2, **FAST_HASHES) as server:
            base = server.url + "/api/v1"
            admin = log_in(server.url, ADMIN, ADMIN_PASSWORD)
            team = FieldTeam.create(server.url)
            cadre = team.auth(server.url)
            county = "77" + str(uuid.uuid4().int)[:4]
            assert requests.post(base + "/units", headers=admin, timeout=30, json={
                "code": county, "name": "导入县", "level": "county"}).status_code == 201
            lines = [VILLAGE_HEADER.strip()]
            for t in range(townships):
                town = f"{county}{t:03d}"
                assert requests.post(base + "/units", headers=admin, timeout=30, json={
                    "code": town, "name": f"导入镇{t}", "level": "township",
                    "parent_code": county}).status_code == 201
                lines += [f"{town}{v:03d},村{v},{town},{30 + v / 1000:.3f},{118 + t / 100:.2f}"
                          for v in range(per_township)]
            text = "\n".join(lines) + "\n"

            started = time.monotonic()
            response = requests.post(base + "/imports/villages", data=text.encode(),
                                     headers={**admin, "Content-Type": "text/csv"}, timeout=60)
            accepted_s = time.monotonic() - started
            assert response.status_code == 202, response.text
            status_url = server.url + response.headers["Location"]
            latencies, statuses, job = [], [], response.json()
            while job["status"] in ("queued", "running"):
                visit = team.visit(hours_ago=0.01)
                for path, body in ((f"{base}/visits", visit),
                                   (f"{base}/visits/{visit['client_id']}/check-out",
                                    team.check_out(hours_ago=0))):
                    sent = time.monotonic()
                    answer = requests.post(path, json=body, headers=cadre, timeout=30)
                    latencies.append(time.monotonic() - sent)
                    statuses.append(answer.status_code)
                job = requests.get(status_url, headers=admin, timeout=30).json()
            took_s = time.monotonic() - started
            print(f"import of {townships * per_township:,} villages: {took_s:.1f} s; "
                  f"{len(latencies)} check-ins/outs meanwhile, the slowest "
                  f"{max(latencies, default=0):.2f} s")
            assert job["status"] == "done", (job, server.log()[-3000:])
            assert job["result"] == {"imported": townships * per_township}
            assert accepted_s < 10, accepted_s
            assert len(latencies) >= 4, (took_s, latencies)   # the import took a while
            assert all(200 <= s < 300 for s in statuses), statuses
            assert max(latencies) < 5.0, (max(latencies), took_s)
            listed = requests.get(base + "/villages", params={"township_code": f"{county}007"},
                                  headers=admin, timeout=30).json()
            assert len(listed) == per_township
