"""Lighthouse scores of the pages people open first, measured on this machine.

    python benchmarks/lighthouse.py            # prints a table; exit 1 when a target is missed
    python benchmarks/lighthouse.py --keep DIR # also keeps each report (JSON) in DIR

What it does: runs ``zaicun serve --demo`` (gunicorn, the demo county on a fresh SQLite file in a
temporary folder) and Debian's Chromium with a DevTools port, then the npm package
``lighthouse@12`` (through ``npx``) against that browser:

- the login page, on a phone (Lighthouse's default mobile emulation and simulated throttling),
  with a fresh profile: what a cadre sees the first time;
- a logged-in cadre's home (``cadre1``), on a phone: the browser is logged in through the form
  first (Playwright over the same DevTools port) and Lighthouse keeps that storage
  (``--disable-storage-reset``), as a cadre who opens the app again;
- the console's overview for a county supervisor (``supervisor``) on a desktop
  (``--preset=desktop``), accessibility only.

Targets (issue 13): login and cadre home — performance, accessibility and best practices each
≥ 0.95; console overview — accessibility ≥ 0.95.

Needs: /usr/bin/chromium (or CHROME_PATH), Node's npx with the npm registry reachable (the first
run downloads lighthouse@12), Playwright for Python (the test extras).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.server_process import (  # noqa: E402
    ServerProcess,
    free_port,
    serve_environment,
    zaicun_command,
)

CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
DEMO_PASSWORD = "zaicun-demo"
CADRE = "cadre1"
SUPERVISOR = "supervisor"
TARGET = 0.95
MOBILE = ("performance", "accessibility", "best-practices")


def wait_for(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer within {seconds:.0f} s") from None
            time.sleep(0.3)


def demo_service(folder: Path) -> ServerProcess:
    """``zaicun serve --demo`` on a fresh SQLite file in ``folder``, not yet started."""
    port = free_port()
    env = serve_environment(f"sqlite:///{folder / 'zaicun.sqlite3'}", folder / "instance")
    return ServerProcess(zaicun_command() + ["serve", "--demo", "--port", str(port)], port,
                         cwd=folder, env=env, timeout=240)


def start_chromium(folder: Path, port: int) -> subprocess.Popen:
    chrome = subprocess.Popen(
        [CHROME, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", f"--remote-debugging-port={port}",
         f"--user-data-dir={folder / 'profile'}", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for(f"http://127.0.0.1:{port}/json/version", 30)
    return chrome


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def log_in(debug_port: int, url: str, username: str, tab: str) -> None:
    """Log in through the form in the browser's own profile, so Lighthouse's tab shares it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.connect_over_cdp(f"http://127.0.0.1:{debug_port}")
        page = browser.contexts[0].new_page()
        page.goto(url)
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.locator("#tabs").get_by_role("link", name=tab).wait_for(timeout=30_000)
        page.wait_for_load_state("networkidle")
        page.close()
        browser.close()  # disconnects; the browser and its profile stay


def lighthouse(url: str, debug_port: int, categories: tuple[str, ...], out: Path,
               *extra: str) -> dict[str, float]:
    command = ["npx", "-y", "lighthouse@12", url, f"--port={debug_port}", "--output=json",
               f"--output-path={out}", "--quiet",
               f"--only-categories={','.join(categories)}", *extra]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not out.exists():
        raise SystemExit(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
    report = json.loads(out.read_text())
    if report.get("runtimeError"):
        raise SystemExit(f"lighthouse could not load {url}: {report['runtimeError']}")
    return {name: report["categories"][name]["score"] for name in categories}


def failed_audits(report_path: Path, category: str) -> list[str]:
    """Titles of the audits that cost points in ``category``, for the table's footnote."""
    report = json.loads(report_path.read_text())
    refs = report["categories"][category]["auditRefs"]
    out = []
    for ref in refs:
        audit = report["audits"][ref["id"]]
        if ref["weight"] and audit["score"] is not None and audit["score"] < 1:
            out.append(f"{audit['id']} ({audit['score']:.2f})")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keep", type=Path, help="a folder to keep the JSON reports in")
    args = parser.parse_args()
    if not Path(CHROME).exists():
        raise SystemExit(f"no Chromium at {CHROME}: apt-get install -y chromium")

    folder = Path(tempfile.mkdtemp(prefix="zaicun-lighthouse-"))
    reports = args.keep or folder / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    debug_port = free_port()
    service = demo_service(folder).start()
    chrome = start_chromium(folder, debug_port)
    base = service.url + "/"
    rows: list[tuple[str, dict[str, float], tuple[str, ...], Path]] = []
    try:
        path = reports / "login.json"
        rows.append(("登录页 login (phone)", lighthouse(base, debug_port, MOBILE, path),
                     MOBILE, path))

        log_in(debug_port, base, CADRE, "进度")
        path = reports / "cadre-home.json"
        rows.append(("干部首页 cadre home (phone)",
                     lighthouse(base, debug_port, MOBILE, path, "--disable-storage-reset"),
                     MOBILE, path))

        # the supervisor on a browser of their own (a desk computer, not the cadre's phone)
        stop(chrome)
        chrome = start_chromium(folder / "desk", debug_port)
        log_in(debug_port, base, SUPERVISOR, "总览")
        path = reports / "console-overview.json"
        rows.append(("控制台总览 console overview (desktop)",
                     lighthouse(base, debug_port, ("accessibility",), path,
                                "--preset=desktop", "--disable-storage-reset"),
                     ("accessibility",), path))
    finally:
        stop(chrome)
        service.stop()

    missed = False
    print(f"Lighthouse 12, {CHROME}; target ≥ {TARGET:.2f} for each score shown")
    print(f"{'page':<40} " + " ".join(f"{c:>15}" for c in MOBILE))
    for title, scores, categories, path in rows:
        cells = []
        for category in MOBILE:
            score = scores.get(category)
            if score is None:
                cells.append(f"{'–':>15}")
                continue
            low = score < TARGET
            missed |= low
            cells.append(f"{score:>14.2f}{'!' if low else ' '}")
        print(f"{title:<40} " + " ".join(cells))
        for category in categories:
            lost = failed_audits(path, category)
            if lost and scores[category] < 1:
                print(f"    {category} lost points on: {', '.join(lost)}")
    if args.keep:
        print("reports:", reports)
    shutil.rmtree(folder, ignore_errors=True)
    print("all targets met" if not missed else "MISSED: a score marked ! is under the target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
