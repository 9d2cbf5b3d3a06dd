"""Two ``zaicun serve`` processes on one PostgreSQL database, login throttle state in Redis.

Whatever one process stores or decides, the other sees: visits, tokens (and their revocation)
and failed logins. The database is a fresh PostgreSQL one made here, even in the SQLite run of
the suite; the Redis keys carry a prefix of this run's own and are deleted afterwards.
Without PostgreSQL or Redis these tests fail (``scripts/test.sh`` leaves them out, saying so,
on a machine that has neither and is not CI).
"""
from __future__ import annotations

import contextlib
import itertools
import uuid

import pytest
import requests

from tests.live import (
    FAST_HASHES,
    PASSWORD,
    REDIS_URL,
    FieldTeam,
    fresh_postgres_database,
    log_in,
    prepare_database,
)
from tests.server_process import zaicun_serve

pytestmark = pytest.mark.slow


def redis_client():
    """A client of the test Redis; AssertionError (never a skip) when it does not answer."""
    import redis
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise AssertionError(f"Redis does not answer at {REDIS_URL} ({exc}); "
                             "set ZAICUN_TEST_REDIS") from exc
    return client


class Pair:
    """Two servers and a client that sends each request to the next one in turn."""

    def __init__(self, a, b, team: FieldTeam, prefix: str, redis):
        self.servers = (a, b)
        self.team = team
        self.prefix = prefix
        self.redis = redis
        self._turn = itertools.cycle(self.servers)

    def next_url(self) -> str:
        return next(self._turn).url

    def logs(self) -> str:
        return "\n".join(s.log()[-2000:] for s in self.servers)


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    redis = redis_client()
    prefix = f"zaicun-test-{uuid.uuid4().hex[:12]}:"
    settings = {**FAST_HASHES, "ratelimit_storage_url": REDIS_URL,
                "ratelimit_key_prefix": prefix}
    home = tmp_path_factory.mktemp("pair")
    try:
        with fresh_postgres_database() as url, contextlib.ExitStack() as stack:
            prepare_database(url, home)
            a = stack.enter_context(zaicun_serve(url, workers=1, **settings))
            b = stack.enter_context(zaicun_serve(url, workers=1, **settings))
            yield Pair(a, b, FieldTeam.create(a.url, cadres=3), prefix, redis)
    finally:
        for key in redis.scan_iter(match=prefix + "*"):
            redis.delete(key)


def test_a_client_alternating_between_processes_sees_one_set_of_data(pair):
    auth = pair.team.auth(pair.next_url(), 0)
    body = pair.team.visit(hours_ago=3)

    created = requests.post(pair.next_url() + "/api/v1/visits", json=body, headers=auth,
                            timeout=30)
    replayed = requests.post(pair.next_url() + "/api/v1/visits", json=body, headers=auth,
                             timeout=30)
    closed = requests.post(f"{pair.next_url()}/api/v1/visits/{body['client_id']}/check-out",
                           json=pair.team.check_out(hours_ago=0.5), headers=auth, timeout=30)
    seen = [requests.get(f"{url}/api/v1/visits/{body['client_id']}", headers=auth,
                         timeout=30).json() for url in (pair.next_url(), pair.next_url())]

    assert (created.status_code, replayed.status_code, closed.status_code) == (201, 200, 200), \
        pair.logs()
    assert replayed.json()["id"] == created.json()["id"]
    assert seen[0] == seen[1]
    assert seen[0]["status"] == "verified" and seen[0]["check_out"] is not None


def test_a_token_works_on_both_processes_and_logging_out_on_one_revokes_it_on_both(pair):
    a, b = (s.url for s in pair.servers)
    auth = log_in(a, pair.team.usernames[1])

    before = [requests.get(url + "/api/v1/me", headers=auth, timeout=30).status_code
              for url in (a, b)]
    logged_out = requests.post(b + "/api/v1/auth/logout", headers=auth, timeout=30)
    after = [requests.get(url + "/api/v1/me", headers=auth, timeout=30).status_code
             for url in (a, b)]

    assert before == [200, 200]
    assert logged_out.status_code in (200, 204), logged_out.text
    assert after == [401, 401]


def test_failed_logins_are_counted_across_processes_in_redis(pair):
    username = pair.team.usernames[2]

    failures = [requests.post(pair.next_url() + "/api/v1/auth/login", timeout=30, json={
        "username": username, "password": "wrong-password-0"}).status_code for _ in range(5)]
    sixth = [requests.post(s.url + "/api/v1/auth/login", timeout=30, json={
        "username": username, "password": PASSWORD}) for s in pair.servers]

    assert failures == [401] * 5
    assert [r.status_code for r in sixth] == [429, 429], pair.logs()
    assert all(int(r.headers["Retry-After"]) > 800 for r in sixth)
    assert pair.redis.exists(f"{pair.prefix}lock:{username}")   # kept in Redis, by both
