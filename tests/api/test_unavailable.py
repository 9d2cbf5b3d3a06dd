"""What the API answers when something it stands on is unavailable: 503 with Retry-After."""
import pytest

from tests.conftest import PASSWORD

CLOSED_REDIS = "redis://127.0.0.1:1/0"   # nothing listens on port 1


@pytest.mark.parametrize("app_config", [{"RATELIMIT_STORAGE_URL": CLOSED_REDIS}])
def test_a_login_while_the_throttle_store_is_down_is_503_with_retry_after(client, org,
                                                                          app_config):
    response = client.post("/api/v1/auth/login",
                           json={"username": "cadre", "password": PASSWORD})

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.get_json()["code"] == "unavailable"
