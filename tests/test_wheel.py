"""The package as a user gets it: a wheel in a fresh virtualenv, run from an empty folder."""
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.server_process import free_port, running_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory):
    """Build the wheel (not editable) and install it into a new virtualenv."""
    work = tmp_path_factory.mktemp("wheel")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w",
                            str(work / "dist"), str(ROOT)], check=True, cwd=work,
                           capture_output=True, text=True)
    # Installing must not greet a user with the build backend's deprecation notices.
    assert "deprecated" not in (build.stdout + build.stderr).lower(), build.stderr
    wheel = next((work / "dist").glob("zaicun-*.whl"))
    subprocess.run([sys.executable, "-m", "venv", str(work / "venv")], check=True)
    subprocess.run([str(work / "venv/bin/pip"), "install", "-q", str(wheel)], check=True,
                   cwd=work)
    return work / "venv"


@pytest.mark.slow
def test_the_installed_wheel_inits_serves_the_demo_and_logs_in(wheel_venv, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZAICUN_")}
    env["PATH"] = f"{wheel_venv / 'bin'}:{env['PATH']}"
    init = subprocess.run(["zaicun", "init-db"], cwd=empty, env=env, capture_output=True,
                          text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    assert (empty / "instance" / "zaicun.sqlite3").is_file()
    password = subprocess.run(
        [str(wheel_venv / "bin/python"), "-c", "from server.demo import DEMO_PASSWORD;"
         "print(DEMO_PASSWORD)"], cwd=empty, env=env, capture_output=True, text=True,
        check=True).stdout.strip()
    port = free_port()
    with running_server(["zaicun", "serve", "--demo", "--port", str(port), "--workers", "2"],
                        port, cwd=empty, env=env, timeout=180) as base:
        assert requests.get(f"{base}/healthz", timeout=5).json() == {"status": "ok"}
        login = requests.post(f"{base}/api/v1/auth/login", timeout=10,
                              json={"username": "admin", "password": password})
        assert login.status_code == 200, login.text
        assert login.json()["user"]["role"] == "admin"
        assert requests.get(f"{base}/", timeout=5).status_code == 200
        assert requests.get(f"{base}/api/docs", timeout=5).status_code == 200


def test_every_package_of_the_server_is_in_the_wheel():
    """pyproject.toml names the packages one by one: a new one left out installs without it
    (``pip install .`` then fails at import while the editable checkout works)."""
    import tomllib
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts)
             for p in (root / "server").rglob("__init__.py") if "__pycache__" not in p.parts}
    assert found - listed == set()
