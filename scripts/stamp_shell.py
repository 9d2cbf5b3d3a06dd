"""Stamp the service worker with a digest of the app shell, so phones pick up every change.

    python scripts/stamp_shell.py           # rewrite VERSION in mobile_web/sw.js
    python scripts/stamp_shell.py --check   # exit 1 when sw.js is stale or lists the wrong files

The shell is every file in mobile_web/ except sw.js itself, the supervisors' console
(mobile_web/console/: loaded online, only by the roles that use it, so it never weighs on a
cadre's phone) and js/later/ (a role's modules, fetched the first time they are needed and then
kept by the worker); sw.js lists the shell in SHELL and the
check fails when a file is missing from that list (it would not open offline) or listed but absent.
"""
from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parent.parent / "mobile_web"
SW = WEB / "sw.js"
CONSOLE = "console"   # the supervisors' console: not part of the phone's offline shell
LATER = ("js", "later")  # modules a role loads when it first needs them; the worker keeps them
VERSION_LINE = re.compile(r"^const VERSION = '([0-9a-f]+)';$", re.M)


def listed_files() -> list[str]:
    """The paths in sw.js's SHELL list (without './', which is index.html)."""
    block = re.search(r"const SHELL = \[(.*?)\];", SW.read_text(encoding="utf-8"), re.S).group(1)
    return [p for p in re.findall(r"'([^']+)'", block) if p != "./"]


def shell_files() -> list[str]:
    """Every file of the app shell on disk, relative to mobile_web/."""
    return sorted(name for name in _app_files() if Path(name).parts[:2] != LATER)


def later_files() -> list[str]:
    """The modules of js/later/: fetched when first needed, then kept (not in SHELL)."""
    return sorted(name for name in _app_files() if Path(name).parts[:2] == LATER)


def _app_files() -> list[str]:
    return [str(p.relative_to(WEB)) for p in WEB.rglob("*")
            if p.is_file() and p.name != "sw.js" and "__pycache__" not in p.parts
            and p.relative_to(WEB).parts[0] != CONSOLE]


def digest() -> str:
    """Over the shell and the later modules: a change to either is a new cache."""
    h = hashlib.sha256()
    for name in sorted(shell_files() + later_files()):
        h.update(name.encode() + b"\0" + (WEB / name).read_bytes() + b"\0")
    return h.hexdigest()[:12]


def problems() -> list[str]:
    found, listed = set(shell_files()), set(listed_files())
    out = [f"not in SHELL: {n}" for n in sorted(found - listed)]
    out += [f"in SHELL but missing: {n}" for n in sorted(listed - found)]
    stamped = VERSION_LINE.search(SW.read_text(encoding="utf-8"))
    if not stamped or stamped.group(1) != digest():
        out.append("VERSION is stale: run python scripts/stamp_shell.py")
    return out


def main(argv: list[str]) -> int:
    if "--check" in argv:
        for line in problems():
            print(line)
        return 1 if problems() else 0
    text = SW.read_text(encoding="utf-8")
    SW.write_text(VERSION_LINE.sub(f"const VERSION = '{digest()}';", text, count=1), encoding="utf-8")
    print(f"sw.js VERSION = {digest()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
