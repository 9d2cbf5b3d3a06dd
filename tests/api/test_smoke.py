from tests.conftest import check_in_body, token_for


def test_a_cadre_checks_in_and_out_inside_the_village_and_the_visit_counts(client, org):
    auth = token_for(client, org.cadre)
    response = client.post("/api/v1/visits", json=check_in_body(org.village), headers=auth)
    assert response.status_code == 201, response.get_json()
    visit = response.get_json()
    assert visit["status"] == "open"
    out = client.post(f"/api/v1/visits/{visit['client_id']}/check-out",
                      json={"at": visit["check_in"]["at"].replace("T", "T")}, headers=auth)
    assert out.status_code == 200, out.get_json()
    assert out.get_json()["status"] == "verified"
    assert out.get_json()["counts"] is True
