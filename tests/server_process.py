"""Real server processes for tests: started in their own process group, stopped with it.

    with running_server(["zaicun", "serve", "--port", str(port)], port, env=env) as base_url:
        requests.get(base_url + "/healthz")

    with zaicun_serve(database_url, workers=2) as server:      # a free port, a clean env
        requests.post(server.url + "/api/v1/auth/login", json=...)

A server is ready when ``GET /healthz`` answers 200. It is stopped by signalling its whole
process group (gunicorn's master and its workers: TERM, then KILL), never by name. Its output
goes to a temporary file that ``log()`` reads, so a failing test can show it.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def zaicun_command() -> list[str]:
    """The ``zaicun`` command installed beside the interpreter running the tests."""
    beside = Path(sys.executable).with_name("zaicun")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("zaicun")
    if found:
        return [found]
    return [sys.executable, "-c", "from server.cli import main; main()"]


class ServerProcess:
    """``command``, a server that will listen on 127.0.0.1:``port``."""

    def __init__(self, command: list[str], port: int, cwd: str | os.PathLike | None = None,
                 env: dict[str, str] | None = None, timeout: float = 60.0):
        self.command = command
        self.port = port
        self.cwd = cwd
        self.env = env
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        self._output = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        """Start and wait for ``/healthz``; RuntimeError (with the output) when it never comes."""
        if self._output is None:  # a restart keeps appending to the same log
            self._output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env,
                                        stdout=self._output, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        if not self._wait_healthy():
            output = self.log()
            self.stop()
            raise RuntimeError(f"{' '.join(self.command)} did not become healthy:\n"
                               f"{output[-4000:]}")
        return self

    def _wait_healthy(self) -> bool:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.1)
        return False

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop the whole process group: TERM, then KILL after ``grace_s``."""
        if self.process is not None:
            for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(timeout=wait_s)
                    break
                except subprocess.TimeoutExpired:
                    continue
            self.process = None
        if self._output is not None:
            self._output.close()
            self._output = None

    def kill(self) -> None:
        """``kill -9`` the whole process group at once, like a crash; ``start()`` may follow."""
        if self.process is not None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)
            self.process = None

    def log(self) -> str:
        """What the server has printed so far."""
        if self._output is None:
            return ""
        self._output.flush()
        self._output.seek(0)
        return self._output.read().decode("utf-8", errors="replace")

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


@contextmanager
def running_server(command: list[str], port: int, cwd: str | os.PathLike | None = None,
                   env: dict[str, str] | None = None, timeout: float = 60.0) -> Iterator[str]:
    """Run ``command`` until the block ends; yield its base URL once it is healthy."""
    with ServerProcess(command, port, cwd=cwd, env=env, timeout=timeout) as server:
        yield server.url


def serve_environment(database_url: str, instance_path: str | os.PathLike,
                      **settings: str) -> dict[str, str]:
    """This environment without the test run's ``ZAICUN_*``, plus the server's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAICUN_")}
    env.update({"ZAICUN_DATABASE_URL": database_url,
                "ZAICUN_INSTANCE_PATH": str(instance_path), "PYTHONUNBUFFERED": "1"})
    env.update({f"ZAICUN_{name.upper()}": value for name, value in settings.items()})
    return env


@contextmanager
def zaicun_serve(database_url: str, workers: int = 2, attempts: int = 3,
                 **settings: str) -> Iterator[ServerProcess]:
    """``zaicun serve`` on a free port against ``database_url`` (another port if it was taken)."""
    with tempfile.TemporaryDirectory(prefix="zaicun-serve-") as home:
        env = serve_environment(database_url, Path(home) / "instance", **settings)
        for attempt in range(attempts):
            port = free_port()
            server = ServerProcess(zaicun_command() + [
                "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                port, cwd=home, env=env)
            try:
                server.start()
                break
            except RuntimeError as exc:
                if "Address already in use" not in str(exc) or attempt == attempts - 1:
                    raise
        try:
            yield server
        finally:
            server.stop()
