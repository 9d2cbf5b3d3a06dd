"""Running the app on gunicorn from the ``zaicun serve`` command.

What gunicorn trusts: nobody. By default it takes ``X-Forwarded-Proto: https`` (and
``X-Forwarded-Ssl``, ``X-Forwarded-Protocol``) from 127.0.0.1 as proof of HTTPS, so any
local process, or a proxy passing the client's own header along, would earn HSTS and
``request.is_secure``. Here ``forwarded_allow_ips`` is empty and ``secure_scheme_headers``
and ``forwarder_headers`` are too, whatever ``ZAICUN_TRUSTED_PROXIES`` says: with it unset
(0) no header decides the scheme, the client address or the host; with N > 0 the app's
ProxyFix (server/__init__.py) reads X-Forwarded-For/-Proto/-Host, counting N hops from the
right, which is stricter than gunicorn's yes-or-no trust of a whole header.

Gunicorn's own answers (a request line or header it refuses, a worker timeout) come in the
API's error shape, ``{"code", "message"}`` as JSON, never its HTML page; see JsonErrorWorker.
"""
from __future__ import annotations

import errno
import json
import os
import select
import time
from collections.abc import Callable
from datetime import datetime
from ssl import SSLError

from flask import Flask
from gunicorn import util
from gunicorn.app.base import BaseApplication
from gunicorn.http.errors import (
    ConfigurationProblem,
    ExpectationFailed,
    ForbiddenProxyRequest,
    InvalidResponseHeader,
    InvalidResponseHeaderName,
    LimitRequestHeaders,
    LimitRequestLine,
    ParseException,
    UnsupportedTransferCoding,
)
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers.sync import StopWaiting, SyncWorker

from .messages import MESSAGES
from .security import CSP

# Request limits, set here rather than left to gunicorn's defaults. The API's longest URLs
# (a roll-up's filters, a page cursor) stay far below 4 KB; a longer request line gets 414,
# more than 100 header fields or one over 8 KB gets 431, both as JSON.
LIMITS = {"limit_request_line": 4094, "limit_request_fields": 100,
          "limit_request_field_size": 8190}

# Trust no client for forwarding headers (see the module's docstring).
NO_FORWARDING_TRUST = {"forwarded_allow_ips": "", "secure_scheme_headers": {},
                       "forwarder_headers": ""}

# How long a connection that has sent nothing yet is kept open. Browsers open connections
# ahead of need (Chromium's preconnect) and may leave them unused for seconds; a sync worker
# that waited on one would serve no one else meanwhile (see JsonErrorWorker.accept).
IDLE_CONNECTION_S = 10.0

# Headers every answer carries (server/security.py adds the same to the app's).
ERROR_HEADERS = (("Content-Security-Policy", CSP), ("X-Content-Type-Options", "nosniff"),
                 ("Referrer-Policy", "no-referrer"), ("X-Frame-Options", "DENY"),
                 ("Cache-Control", "no-store"))


def error_status(exc: BaseException, req) -> tuple[int, str, str]:
    """(HTTP status, reason phrase, API code) for what gunicorn could not hand the app.

    The statuses are gunicorn's own (gunicorn.workers.base.Worker.handle_error), except a
    client that never finished its request before the worker timeout: 408, not 500. The
    codes are the API's (server/errors.py): a URI or headers too long are ``too_large``
    (414, 431) like a body too large (413); the message says "the request is too large".
    """
    if isinstance(exc, (InvalidResponseHeader, InvalidResponseHeaderName, ConfigurationProblem)):
        return 500, "Internal Server Error", "internal_error"  # the app's or ours, not the client's
    if isinstance(exc, LimitRequestLine):
        return 414, "URI Too Long", "too_large"
    if isinstance(exc, LimitRequestHeaders):
        return 431, "Request Header Fields Too Large", "too_large"
    if isinstance(exc, ExpectationFailed):
        return 417, "Expectation Failed", "bad_request"
    if isinstance(exc, UnsupportedTransferCoding):
        return 501, "Not Implemented", "bad_request"
    if isinstance(exc, (ForbiddenProxyRequest, SSLError)):
        return 403, "Forbidden", "forbidden"
    if isinstance(exc, ParseException):
        return 400, "Bad Request", "bad_request"
    if isinstance(exc, SystemExit) and req is None:
        # the abort of a worker timeout while the request line or headers were still coming
        return 408, "Request Timeout", "bad_request"
    return 500, "Internal Server Error", "internal_error"


def _header(req, name: str) -> str:
    """A request header's value ('' when absent or when there is no request)."""
    for key, value in getattr(req, "headers", None) or ():
        if key == name:
            return value
    return ""


def _prefers_english(req) -> bool:
    """The app's choice (server/messages.py) from the Accept-Language that came, if any."""
    from werkzeug.datastructures import LanguageAccept
    from werkzeug.http import parse_accept_header
    accept = parse_accept_header(_header(req, "ACCEPT-LANGUAGE"), LanguageAccept)
    return accept.best_match(["zh", "zh-CN", "en"], default="zh").startswith("en")


def error_answer(status: int, reason: str, code: str, req=None) -> bytes:
    """A whole HTTP/1.1 answer in the API's error shape; the connection closes after it."""
    zh, en = MESSAGES[code]
    body = json.dumps({"code": code, "message": en if _prefers_english(req) else zh},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    head = [f"HTTP/1.1 {status} {reason}", "Connection: close",
            "Content-Type: application/json", f"Content-Length: {len(body)}",
            *(f"{name}: {value}" for name, value in ERROR_HEADERS)]
    if getattr(req, "method", None) == "HEAD":
        body = b""
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class JsonErrorWorker(SyncWorker):
    """gunicorn's sync worker, answering its own errors in the API's JSON error shape.

    ``handle_error`` is where the sync worker answers everything the app did not: a request
    line or headers it refused (414, 431, 400 …), and a worker timeout. On a timeout the
    arbiter sends SIGABRT; ``handle_abort`` calls ``sys.exit(1)`` inside the app's frame;
    ``handle_request`` re-raises that SystemExit if no header was sent yet (once the answer
    has begun it closes the connection instead) and ``handle`` passes it to ``handle_error``,
    which writes the answer before the worker exits (the arbiter kills it only a second
    later). So a request the app took too long over ends as a JSON 500, never HTML.
    """

    # --- connections that have sent nothing yet ---------------------------------------------
    # gunicorn's sync worker reads the request right after accepting a connection, so one
    # connection a browser opened ahead of need and left idle stalls the worker until the
    # worker timeout (60 s), and two of them stall a two-worker server: every request waits.
    # Here a connection with no bytes to read yet is set aside, the worker's select() watches
    # it beside the listening socket, and it is served once its request arrives, or closed
    # after IDLE_CONNECTION_S. A request already under way is read as before (a client that
    # stops half-way through its headers still meets the worker timeout: 408).

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._waiting = {}  # connection → (its listener, its address, when it is closed)

    def accept(self, listener):
        if self._serve_a_waiting_connection():
            return
        client, addr = listener.accept()
        client.setblocking(1)
        util.close_on_exec(client)
        if _readable([client], 0):  # its request came with it: the usual case
            self.handle(listener, client, addr)
        else:
            self._waiting[client] = (listener, addr, time.monotonic() + IDLE_CONNECTION_S)

    def _serve_a_waiting_connection(self) -> bool:
        """Serve one set-aside connection whose request has come; close the expired ones."""
        waiting = self._waiting
        if not waiting:
            return False
        now = time.monotonic()
        for client, (_, _, deadline) in list(waiting.items()):
            if deadline < now:
                del waiting[client]
                util.close(client)
        ready = _readable(list(waiting), 0)
        if not ready:
            return False
        listener, addr, _ = waiting.pop(ready[0])
        self.handle(listener, ready[0], addr)
        return True

    def wait(self, timeout):
        """gunicorn's wait, also woken when a set-aside connection's request arrives."""
        waiting = self._waiting
        if not waiting:
            return super().wait(timeout)
        self.notify()
        try:
            ready = _readable(self.wait_fds + list(waiting), min(timeout, IDLE_CONNECTION_S))
        except OSError as e:
            if e.args[0] == errno.EINTR:
                return self.sockets
            if e.args[0] == errno.EBADF:
                if self.nr < 0:
                    return self.sockets
                raise StopWaiting from e
            raise
        if self.PIPE[0] in ready:
            os.read(self.PIPE[0], 1)
        # the listeners stand for the waiting connections too: accept() serves those first
        return self.sockets if ready else []

    def handle_error(self, req, client, addr, exc):
        request_start = datetime.now()
        addr = addr or ("", -1)  # a unix socket
        if req is None and getattr(exc, "req", None) is not None:
            req = exc.req  # some header errors know their request: for the access log
        status, reason, code = error_status(exc, req)
        if status == 408:
            self.log.warning("Request from ip=%s not received before the worker timeout",
                             addr[0])
        elif code != "internal_error":
            self.log.warning("Invalid request from ip=%s: %s", addr[0], exc)
        elif hasattr(req, "uri"):
            self.log.exception("Error handling request %s %s", getattr(req, "method", ""),
                               req.uri)
        else:
            self.log.exception("Error handling request (no URI read)")
        answer = error_answer(status, reason, code, req)
        sent = 0
        try:
            util.write_nonblock(client, answer)
            sent = len(answer)
        except Exception:  # the client is gone, or the socket is: nothing left to tell
            self.log.debug("Failed to send error message.")
        if req is not None and hasattr(req, "method"):
            environ = default_environ(req, client, self.cfg)
            environ["REMOTE_ADDR"], environ["REMOTE_PORT"] = addr[0], str(addr[1])
            resp = Response(req, client, self.cfg)
            resp.status = f"{status} {reason}"
            resp.response_length = resp.sent = sent
            self.log.access(resp, req, environ, datetime.now() - request_start)


def _readable(sockets: list, timeout: float) -> list:
    return select.select(sockets, [], [], timeout)[0] if sockets else []


class ZaicunServer(BaseApplication):
    """Gunicorn running the app that ``factory`` builds, once in each worker (after the fork,
    so no worker shares another's database connections)."""

    def __init__(self, options: dict, factory: Callable[[], Flask] | None = None):
        self.options = options
        self.factory = factory
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)
        if "control_socket_disable" in self.cfg.settings:
            # one shared socket in $HOME would make two servers on a machine collide
            self.cfg.set("control_socket_disable", True)

    def load(self):
        import gc

        app = self.factory()
        # Everything built so far (the app, its routes, schemas and mappers) lives as long as
        # the worker: moved out of the collector's sight, a full collection no longer walks
        # it on every few thousand requests (a pause every request behind it would wait for).
        gc.collect()
        gc.freeze()
        return app


def options(host: str, port: int, workers: int) -> dict:
    """gunicorn's settings for ``zaicun serve``."""
    return {"bind": f"{host}:{port}", "workers": max(1, workers), "accesslog": "-",
            "timeout": 60, "graceful_timeout": 10, "worker_class": JsonErrorWorker,
            **LIMITS, **NO_FORWARDING_TRUST}


def run(host: str, port: int, workers: int, factory: Callable[[], Flask]) -> None:
    """Serve the app ``factory`` builds on host:port with ``workers`` processes until stopped."""
    ZaicunServer(options(host, port, workers), factory).run()
