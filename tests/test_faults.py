"""Fault drills against real server processes: a crash, a lost database, a busy SQLite file.

The phone retries whenever the network drops, with the same ``client_id``; whatever happens to
the server or its database, every visit must end up stored exactly once, and while the database
cannot be reached the API says so with 503 and ``Retry-After`` — never a 500.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections import Counter

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.databases import fresh_database
from tests.live import FAST_HASHES, FieldTeam, PrivateCluster, prepare_database, retrying_post
from tests.server_process import free_port, zaicun_serve

pytestmark = pytest.mark.slow


def stored_counts(database_url: str) -> tuple[Counter, Counter]:
    """Visits per client_id and "created" audit events per visit, read from the database."""
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            visits = Counter(dict(conn.execute(text(
                "SELECT client_id, count(*) FROM visits GROUP BY client_id")).all()))
            created = Counter(dict(conn.execute(text(
                "SELECT visit_id, count(*) FROM visit_events WHERE action = 'created' "
                "GROUP BY visit_id")).all()))
    finally:
        engine.dispose()
    return visits, created


# --- kill -9 during a burst ------------------------------------------------------------------

CADRES, VISITS_EACH = 4, 12


def test_a_server_killed_mid_burst_and_restarted_stores_every_visit_exactly_once(tmp_path):
    with fresh_database(tmp_path) as url:
        prepare_database(url, tmp_path)
        with zaicun_serve(url, workers=2, **FAST_HASHES) as server:
            team = FieldTeam.create(server.url, cadres=CADRES)
            auths = [team.auth(server.url, n) for n in range(CADRES)]
            bodies = [[team.visit(hours_ago=100 - 3 * k, hours=2) for k in range(VISITS_EACH)]
                      for _ in range(CADRES)]
            outcomes: list[int | str] = []
            finals: list[int] = []

            def send_all(n: int) -> None:
                for body in bodies[n]:
                    final = retrying_post(server.url + "/api/v1/visits", body, auths[n],
                                          seen=outcomes.append)
                    finals.append(final.status_code)

            threads = [threading.Thread(target=send_all, args=(n,)) for n in range(CADRES)]
            for thread in threads:
                thread.start()
            wait_for(lambda: len(finals) >= CADRES * VISITS_EACH // 4, "the burst to start")
            server.kill()   # master and workers at once, mid-burst
            killed_at = len(finals)
            time.sleep(0.5)
            server.start()
            for thread in threads:
                thread.join(timeout=120)

        visits, created = stored_counts(url)

    client_ids = [body["client_id"] for per_cadre in bodies for body in per_cadre]
    assert killed_at < len(client_ids), "the kill came after the burst"
    assert any(isinstance(o, str) for o in outcomes), "no request saw the server go away"
    assert set(finals) <= {200, 201}, Counter(finals)
    assert len(finals) == len(client_ids)
    assert {c: visits[c] for c in client_ids} == {c: 1 for c in client_ids}
    assert sum(visits.values()) == len(client_ids)
    assert set(created.values()) == {1} and len(created) == len(client_ids)


def wait_for(condition, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


# --- the database cut off --------------------------------------------------------------------

def test_while_postgresql_is_down_the_api_answers_503_and_recovers_without_a_restart(tmp_path):
    with PrivateCluster(free_port()) as cluster:
        url = cluster.create_database("zaicun_drill")
        prepare_database(url, tmp_path)
        with zaicun_serve(url, workers=2, **FAST_HASHES) as server:
            team = FieldTeam.create(server.url)
            auth = team.auth(server.url)
            before, during = team.visit(hours_ago=30, hours=2), team.visit(hours_ago=20, hours=2)
            assert requests.post(server.url + "/api/v1/visits", json=before, headers=auth,
                                 timeout=30).status_code == 201

            cluster.stop("immediate")
            down = [answer(server.url, auth, during) for _ in range(4)]  # both workers, twice
            cluster.start()
            wait_for(lambda: healthz(server.url) == 200, "/healthz to recover", 30)
            stored = requests.post(server.url + "/api/v1/visits", json=during, headers=auth,
                                   timeout=30)
            replayed = requests.post(server.url + "/api/v1/visits", json=before, headers=auth,
                                     timeout=30)
            listed = requests.get(server.url + "/api/v1/visits", headers=auth, timeout=30)
            log = server.log()

    for statuses in down:
        assert statuses == {"healthz": (503, True), "check_in": (503, True),
                            "me": (503, True), "list": (503, True)}, (statuses, log[-3000:])
    assert (stored.status_code, replayed.status_code) == (201, 200)
    assert sorted(v["client_id"] for v in listed.json()) == sorted(
        [before["client_id"], during["client_id"]])
    assert '" 500 ' not in log   # gunicorn's access log: no request anywhere ended in a 500


def answer(base_url: str, auth: dict, body: dict) -> dict:
    """Status and whether Retry-After came, for a write, two reads and /healthz."""
    responses = {
        "healthz": requests.get(base_url + "/healthz", timeout=30),
        "check_in": requests.post(base_url + "/api/v1/visits", json=body, headers=auth,
                                  timeout=30),
        "me": requests.get(base_url + "/api/v1/me", headers=auth, timeout=30),
        "list": requests.get(base_url + "/api/v1/visits", headers=auth, timeout=30),
    }
    return {name: (r.status_code, r.headers.get("Retry-After", "").isdigit())
            for name, r in responses.items()}


def healthz(base_url: str) -> int:
    return requests.get(base_url + "/healthz", timeout=30).status_code


# --- SQLite held by another writer -----------------------------------------------------------

BUSY_TIMEOUT_MS = 1000


class Holder:
    """Another connection holding SQLite's write lock (``BEGIN EXCLUSIVE``) for a while."""

    def __init__(self, path):
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def hold(self, seconds: float) -> threading.Thread:
        self.conn.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(seconds, lambda: self.conn.execute("COMMIT"))
        release.start()
        return release


def timed_post(url: str, body: dict, auth: dict) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(url, json=body, headers=auth, timeout=30)
    return response, time.monotonic() - started


def test_sqlite_held_by_another_writer_waits_briefly_then_answers_503_and_loses_nothing(
        tmp_path):
    path = tmp_path / "held.sqlite3"
    url = f"sqlite:///{path}"
    prepare_database(url, tmp_path)
    with zaicun_serve(url, workers=1, sqlite_busy_timeout_ms=str(BUSY_TIMEOUT_MS),
                      **FAST_HASHES) as server:
        team = FieldTeam.create(server.url)
        auth = team.auth(server.url)
        visits = server.url + "/api/v1/visits"
        holder = Holder(path)
        opened, whole = team.visit(hours_ago=1), team.visit(hours_ago=30, hours=2)
        check_out = f"{visits}/{opened['client_id']}/check-out"
        close = team.check_out(hours_ago=0.1)

        released = holder.hold(0.3)   # shorter than the busy timeout: the write waits
        short, short_wait = timed_post(visits, opened, auth)
        released.join()

        released = holder.hold(2.5)   # longer: the writes give up with 503
        refused = [timed_post(visits, whole, auth), timed_post(check_out, close, auth)]
        health_while_held = healthz(server.url)   # readers are not blocked (WAL)
        released.join()

        retried = [requests.post(visits, json=whole, headers=auth, timeout=30),
                   requests.post(check_out, json=close, headers=auth, timeout=30)]
        listed = requests.get(visits, headers=auth, timeout=30).json()
        log = server.log()

    assert short.status_code == 201 and short_wait >= 0.25, (short.text, short_wait)
    for response, waited in refused:
        assert response.status_code == 503, (response.text, log[-3000:])
        assert response.headers["Retry-After"].isdigit()
        assert waited >= BUSY_TIMEOUT_MS / 1000 * 0.9
    assert health_while_held == 200
    assert [r.status_code for r in retried] == [201, 200], [r.text for r in retried]
    assert retried[1].json()["check_out"] is not None
    assert Counter(v["client_id"] for v in listed) == Counter(
        [opened["client_id"], whole["client_id"]])
