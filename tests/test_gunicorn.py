"""``zaicun serve`` behind its gunicorn: what it trusts, what it refuses, how it answers.

One server process (SQLite, one worker) serves the module; another one, trusting one proxy,
shows the app's ProxyFix still reads the forwarded scheme. A worker timeout is driven through
gunicorn's own sync-worker code in this process (the abort the arbiter's SIGABRT causes), and
once for real with a one-second timeout and a slow test app (no slow endpoint in the product).
"""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from server.messages import MESSAGES
from server.wsgi_server import JsonErrorWorker, error_answer, options
from tests.server_process import ServerProcess, free_port, serve_environment, zaicun_serve

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
FORWARDED_HTTPS = [{"X-Forwarded-Proto": "https"}, {"X-Forwarded-Ssl": "on"},
                   {"X-Forwarded-Protocol": "ssl"},
                   {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "off"}]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("gunicorn") / "serve.sqlite3")
    with zaicun_serve(url, workers=1) as running:
        yield running


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory):
    url = "sqlite:///" + str(tmp_path_factory.mktemp("gunicorn-proxied") / "serve.sqlite3")
    with zaicun_serve(url, workers=1, trusted_proxies="1") as running:
        yield running


def raw_request(server: ServerProcess, data: bytes) -> tuple[int, dict, bytes]:
    """Send bytes as they are; return the status, the headers (lower-case names), the body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(data)
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return parse_answer(answer)


def parse_answer(answer: bytes) -> tuple[int, dict, bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_api_error(status: int, headers, body: bytes, expected_status: int, code: str,
                     language: int = 0) -> None:
    """The API's error shape: JSON ``{"code", "message"}``, never stored, never HTML."""
    assert status == expected_status, body
    assert headers["content-type"].startswith("application/json"), headers
    assert headers["cache-control"] == "no-store"
    assert headers["x-content-type-options"] == "nosniff"
    assert json.loads(body) == {"code": code, "message": MESSAGES[code][language]}


# --- what gunicorn trusts -------------------------------------------------------------------

@pytest.mark.parametrize("forwarded", FORWARDED_HTTPS)
def test_a_forwarded_https_header_from_localhost_earns_no_hsts(server, forwarded):
    for path in ("/healthz", "/api/v1/openapi.json"):
        response = requests.get(server.url + path, headers=forwarded, timeout=10)
        assert response.status_code == 200, response.text
        assert "Strict-Transport-Security" not in response.headers


def test_with_a_trusted_proxy_the_app_reads_the_forwarded_scheme(proxied_server):
    secure = requests.get(proxied_server.url + "/healthz", timeout=10,
                          headers={"X-Forwarded-Proto": "https"})
    plain = requests.get(proxied_server.url + "/healthz", timeout=10)
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in plain.headers
    # gunicorn's own headers stay ignored: only the proxy's X-Forwarded-Proto counts
    ssl_only = requests.get(proxied_server.url + "/healthz", timeout=10,
                            headers={"X-Forwarded-Ssl": "on"})
    assert "Strict-Transport-Security" not in ssl_only.headers


# --- gunicorn's refusals, in the API's shape --------------------------------------------------

def test_a_5kb_query_string_answers_json_414(server):
    response = requests.get(server.url + "/api/v1/compliance?unit_code=" + "3" * 5000,
                            timeout=10)
    assert_api_error(response.status_code, response.headers, response.content, 414, "too_large")


def test_a_request_line_within_the_limit_reaches_the_app(server):
    response = requests.get(server.url + "/api/v1/compliance?unit_code=" + "3" * 3000,
                            timeout=10)
    assert response.status_code == 401  # the app's answer: not logged in
    assert response.json()["code"] == "unauthorized"


@pytest.mark.parametrize("request_bytes", [
    b"GARBAGE\r\n\r\n",
    b"GET /healthz HTTP/1.1 trailing\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
], ids=["garbage", "extra-token", "http-version", "header-name", "two-hosts", "nul-in-value"])
def test_a_malformed_request_answers_json_400(server, request_bytes):
    assert_api_error(*raw_request(server, request_bytes), 400, "bad_request")


@pytest.mark.parametrize("extra_headers", [
    "X-Big: " + "a" * 9000 + "\r\n",
    "".join(f"X-H{n}: {n}\r\n" for n in range(101)),
], ids=["one-over-8kb", "101-fields"])
def test_oversized_headers_answer_json_431(server, extra_headers):
    request_bytes = f"GET /healthz HTTP/1.1\r\nHost: x\r\n{extra_headers}\r\n".encode()
    assert_api_error(*raw_request(server, request_bytes), 431, "too_large")


def test_a_refused_head_request_has_no_body(server):
    status, headers, body = raw_request(server,
                                        b"HEAD /healthz HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n")
    assert status == 400 and headers["content-type"] == "application/json"
    assert int(headers["content-length"]) > 0 and body == b""


def test_the_server_still_answers_after_the_refusals(server):
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}


# --- a worker timeout -------------------------------------------------------------------------

@pytest.fixture
def worker():
    """A JsonErrorWorker as ``zaicun serve`` configures it, not forked: its methods run here."""
    from gunicorn.config import Config
    from gunicorn.glogging import Logger
    cfg = Config()
    for key, value in options("127.0.0.1", 0, 1).items():
        cfg.set(key, value)
    cfg.set("accesslog", None)
    made = JsonErrorWorker(0, os.getpid(), [], None, 30, cfg, Logger(cfg))
    yield made
    made.tmp.close()


def handle(worker, request_bytes: bytes) -> tuple[int, dict, bytes]:
    """Run one request through gunicorn's sync-worker ``handle`` over a socket pair."""
    ours, theirs = socket.socketpair()
    with ours, theirs, socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        theirs.sendall(request_bytes)
        theirs.shutdown(socket.SHUT_WR)
        worker.handle(listener, ours, ("127.0.0.1", 40000))
        answer = b""
        while chunk := theirs.recv(65536):
            answer += chunk
    return parse_answer(answer)


@pytest.mark.parametrize("language, index", [("zh-CN", 0), ("en", 1)])
def test_a_worker_timeout_during_a_request_answers_json_500(worker, language, index):
    def app(environ, start_response):
        # what the arbiter's SIGABRT does on a timeout, inside the app's frame
        worker.handle_abort(signal.SIGABRT, None)
        raise AssertionError("handle_abort returned")

    worker.wsgi = app
    status, headers, body = handle(worker, (
        f"GET /api/v1/compliance HTTP/1.1\r\nHost: x\r\nAccept-Language: {language}\r\n\r\n"
    ).encode())
    assert_api_error(status, headers, body, 500, "internal_error", index)
    assert worker.alive is False  # the worker still exits after answering


def test_a_timeout_before_the_request_was_read_answers_json_408(worker):
    ours, theirs = socket.socketpair()
    with ours, theirs:
        worker.handle_error(None, ours, ("127.0.0.1", 40000), SystemExit(1))
        ours.shutdown(socket.SHUT_WR)
        answer = theirs.recv(65536)
    assert_api_error(*parse_answer(answer), 408, "bad_request")


def test_error_answer_is_json_with_a_content_length():
    status, headers, body = parse_answer(error_answer(500, "Internal Server Error",
                                                      "internal_error"))
    assert int(headers["content-length"]) == len(body)
    assert headers["connection"] == "close"
    assert_api_error(status, headers, body, 500, "internal_error")


SLOW_SERVER = textwrap.dedent("""
    import sys, time
    from server.wsgi_server import ZaicunServer, options

    def app(environ, start_response):  # a test app: /healthz at once, anything else hangs
        if environ["PATH_INFO"] != "/healthz":
            time.sleep(30)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']

    class SlowServer(ZaicunServer):
        def load(self):
            return app

    SlowServer({**options("127.0.0.1", int(sys.argv[1]), 1), "timeout": 1}).run()
""")


def test_a_real_worker_timeout_answers_json_500(tmp_path):
    port = free_port()
    env = serve_environment("sqlite://", tmp_path / "instance")
    env["PYTHONPATH"] = str(ROOT)
    with ServerProcess([sys.executable, "-c", SLOW_SERVER, str(port)], port, cwd=tmp_path,
                       env=env) as slow:
        started = time.monotonic()
        response = requests.get(slow.url + "/api/v1/anything", timeout=20,
                                headers={"Accept-Language": "en"})
        waited = time.monotonic() - started
        log = slow.log()
    assert_api_error(response.status_code, response.headers, response.content, 500,
                     "internal_error", 1)
    assert 0.9 <= waited < 10, waited
    assert "WORKER TIMEOUT" in log, log[-3000:]


# --- connections opened ahead of need -------------------------------------------------------

def test_idle_connections_do_not_stall_the_worker(server):
    """A browser opens connections before it needs them (Chromium's preconnect) and may leave
    them unused: the one worker still answers everyone else at once, then serves the idle
    connection's request when it finally comes."""
    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(3)]
    try:
        time.sleep(0.3)  # the worker has accepted them by now
        started = time.monotonic()
        assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
        assert time.monotonic() - started < 2
        idle[1].sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := idle[1].recv(65536):
            answer += chunk
        status, _, body = parse_answer(answer)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
    finally:
        for conn in idle:
            conn.close()
    assert requests.get(server.url + "/healthz", timeout=10).json() == {"status": "ok"}
