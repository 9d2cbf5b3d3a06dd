"""Reports read from a read-only copy of the database (README "Running at scale": a streaming
replica serves the supervisors' reads, so they must never write)."""
from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from server import TestConfig, create_app
from server.extensions import db
from tests.conftest import at, check_in_body, token_for, vars_of

# What nginx may send to app processes that talk to the replica: GETs a supervisor's console
# and a secretary's team view make, none of which may write.
REPORT_READS = [
    "/api/v1/compliance?unit_code={county}",
    "/api/v1/compliance/export?unit_code={county}&format=xlsx",
    "/api/v1/compliance/export?unit_code={county}&format=csv",
    "/api/v1/compliance/users/{cadre}",
    "/api/v1/compliance/users/{cadre}/days",
    "/api/v1/visits?user_id={cadre}",
    "/api/v1/visits/{visit}",
    "/api/v1/visits/{visit}/events",
    "/api/v1/reports",
    "/api/v1/absences",
    "/api/v1/users",
    "/api/v1/villages",
    "/api/v1/rules",
    "/api/v1/me",
]


def read_only(url: str) -> dict:
    """Settings that open the same database so that any write fails, as on a hot standby."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        return {"DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    return {"DATABASE_URL": url, "SQLALCHEMY_ENGINE_OPTIONS": {
        "connect_args": {"options": "-c default_transaction_read_only=on"}}}


@pytest.fixture
def replica(db_url, tmp_path):
    app = create_app({**vars_of(TestConfig), **read_only(db_url)})
    app.instance_path = str(tmp_path)
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_read_only_copy_really_refuses_writes(client, org, replica):
    auth = token_for(client, org.cadre)  # logging in writes, so it happens on the primary
    response = replica.post("/api/v1/visits", json=check_in_body(org.village), headers=auth)
    assert response.status_code >= 500


@pytest.mark.parametrize("reader", ["supervisor", "secretary"])
def test_every_report_read_works_on_a_read_only_copy(client, org, replica, reader):
    cadre = token_for(client, org.cadre)
    visit = client.post("/api/v1/visits", json=check_in_body(
        org.village, hours_ago=7, check_out={"at": at(1)}), headers=cadre).get_json()
    auth = token_for(client, getattr(org, reader))
    for template in REPORT_READS:
        path = template.format(county=org.county.code, cadre=org.cadre.id, visit=visit["id"])
        primary, copy = client.get(path, headers=auth), replica.get(path, headers=auth)
        assert copy.status_code == primary.status_code, (path, copy.get_json())
        assert copy.status_code in (200, 403), path
        if copy.is_json and "generated" not in copy.get_data(as_text=True):
            assert copy.get_json() == primary.get_json(), path
