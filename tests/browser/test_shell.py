"""The app shell: a strict Content-Security-Policy with nothing inline, a small weight, a
service worker that caches every shell file under a versioned name and drops old caches, and
every word in both language tables."""
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from .conftest import log_in, wait_for_script

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "mobile_web"
JS_FILES = sorted([WEB / "app.js", WEB / "sw.js", *(WEB / "js").rglob("*.js")])


class InlineCode(HTMLParser):
    """Collects what a strict CSP would refuse: inline scripts and styles, on* handlers."""

    def __init__(self):
        super().__init__()
        self.found = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        self.found += [f"<{tag} {name}>" for name in names if name.startswith("on") or name == "style"]
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self.found.append("<script> without src")
        if tag == "a" and (names.get("href") or "").lower().startswith("javascript:"):
            self.found.append("javascript: link")


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/", "/index.html", "/app.js", "/sw.js", "/style.css",
                                  "/manifest.webmanifest", "/js/store.js"])
def test_every_served_file_carries_a_csp_without_unsafe_inline(live, path):
    answer = requests.get(live.url + path, timeout=10)
    assert answer.status_code == 200
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert not re.search(r"https?:", csp), "nothing from outside"


def test_the_html_has_no_inline_script_style_or_handlers():
    parser = InlineCode()
    parser.feed((WEB / "index.html").read_text(encoding="utf-8"))
    assert parser.found == []


@pytest.mark.parametrize("pattern", [r"\.innerHTML\b", r"\.outerHTML\s*=", r"insertAdjacentHTML",
                                     r"setAttribute\(\s*['\"](style|on\w+)['\"]", r"\beval\(",
                                     r"new Function\(", r"https?://(?!www\.w3\.org/2000/svg)",
                                     r"document\.write"])
def test_the_scripts_write_no_html_no_inline_style_and_fetch_nothing_from_outside(pattern):
    offenders = [f.name for f in JS_FILES if re.search(pattern, f.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_shell_weighs_at_most_60_kb_gzipped():
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "page_weight.py")],
                         capture_output=True, text=True, check=False)
    total = re.search(r"^total .* ([\d,]+) B gzip", run.stdout, re.M)
    assert total, run.stdout
    assert int(total.group(1).replace(",", "")) <= 60 * 1024
    assert run.returncode == 0


def test_the_service_worker_lists_every_shell_file_and_its_version_is_current():
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "stamp_shell.py"), "--check"],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout


def table_keys(source: str, name: str) -> set[str]:
    block = re.search(rf"^const {name} = \{{\n(.*?)^\}};", source, re.S | re.M).group(1)
    return set(re.findall(r"^  (\w+):", block, re.M))


def test_both_language_tables_have_every_word_the_code_uses():
    source = (WEB / "js" / "i18n.js").read_text(encoding="utf-8")
    zh, en = table_keys(source, "zh"), table_keys(source, "en")
    assert zh == en
    for later in (WEB / "js" / "later").glob("*.js"):   # loaded later, with words of their own
        for own_zh, own_en in console_tables(later.read_text(encoding="utf-8")):
            assert own_zh == own_en, (later.name, sorted(own_zh ^ own_en))
            zh = zh | own_zh
    code = "\n".join(f.read_text(encoding="utf-8") for f in JS_FILES)
    used = set(re.findall(r"\bt\(\s*'(\w+)'", code))
    assert used - zh == set()
    prefixes = set(re.findall(r"\bt\(\s*`(\w+)_\$\{", code))
    for prefix in prefixes:
        assert any(key.startswith(prefix + "_") for key in zh), prefix


CONSOLE_FILES = sorted((WEB / "console").glob("*.js"))


def console_tables(source: str) -> list[tuple[set[str], set[str]]]:
    """The (zh-CN, en) key sets of each word table a console file holds (``WORDS = {…}`` or
    ``addWords({…})``): a ``'zh-CN': {`` block and the ``en: {`` block after it."""
    tables = []
    for zh_block, en_block in re.findall(
            r"^  'zh-CN': \{\n(.*?)^  \},\n  en: \{\n(.*?)^  \},?\n", source, re.S | re.M):
        tables.append(tuple(set(re.findall(r"^    (\w+):", block, re.M))
                            for block in (zh_block, en_block)))
    return tables


def test_the_consoles_word_tables_have_both_languages_and_every_word_it_uses():
    app = table_keys((WEB / "js" / "i18n.js").read_text(encoding="utf-8"), "zh")
    known = set(app)
    for path in CONSOLE_FILES:
        source = path.read_text(encoding="utf-8")
        tables = console_tables(source)
        assert len(tables) == source.count("addWords({") + source.count("WORDS = {"), path.name
        for zh, en in tables:
            assert zh == en, (path.name, sorted(zh ^ en))
            known |= zh
    assert console_tables((WEB / "console" / "words.js").read_text(encoding="utf-8"))
    code = "\n".join(f.read_text(encoding="utf-8") for f in CONSOLE_FILES)
    used = set(re.findall(r"\bt\(\s*'(\w+)'", code))
    assert used - known == set()
    for prefix in set(re.findall(r"\bt\(\s*`(\w+)_\$\{", code)):
        assert any(key.startswith(prefix + "_") for key in known), prefix


def without_comments(source: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", source, flags=re.S))


def without_word_tables(source: str) -> str:
    """A module's own word table (``addWords({…});``, as js/later/ modules carry) left out."""
    return re.sub(r"^addWords\(\{\n.*?^\}\);\n", "", source, flags=re.S | re.M)


def test_no_chinese_text_is_written_outside_the_language_table():
    offenders = {f"{f.name}: {m.group(0)}" for f in JS_FILES if f.name != "i18n.js"
                 for m in re.finditer(r"['\"`][^'\"`\n]*[\u4e00-\u9fff][^'\"`\n]*['\"`]",
                                      without_word_tables(without_comments(
                                          f.read_text(encoding="utf-8"))))}
    assert offenders == set()


@pytest.mark.browser
def test_the_manifest_and_icons_make_the_app_installable(live, page):
    page.goto("/")
    manifest = page.evaluate("fetch('manifest.webmanifest').then(r => r.json())")
    assert manifest["display"] == "standalone" and manifest["start_url"] == "./"
    assert manifest["short_name"] == "在村" and manifest["lang"] == "zh-CN"
    sizes = {icon["sizes"] for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        answer = requests.get(f"{live.url}/{icon['src']}", timeout=10)
        assert answer.status_code == 200 and answer.content[:4] in (b"\x89PNG", b"<svg")


@pytest.mark.browser
def test_the_service_worker_caches_the_shell_under_its_version_and_drops_older_caches(live, page):
    page.goto("/healthz")       # same origin, no service worker yet: leave an older version behind
    page.evaluate("caches.open('zaicun-shell-0ld').then(c => c.put('/app.js', new Response('old')))")
    assert page.evaluate("caches.keys()") == ["zaicun-shell-0ld"]

    log_in(page, live.person())
    wait_for_script(page, "navigator.serviceWorker.controller !== null")
    version = re.search(r"^const VERSION = '(\w+)';", (WEB / "sw.js").read_text(encoding="utf-8"), re.M)
    wait_for_script(page, f"caches.keys().then(k => k.join() === 'zaicun-shell-{version.group(1)}')")
    cached = page.evaluate(f"caches.open('zaicun-shell-{version.group(1)}')"
                           ".then(c => c.keys()).then(k => k.map(r => new URL(r.url).pathname))")
    listed = re.findall(r"^  '([^']+)',$", (WEB / "sw.js").read_text(encoding="utf-8"), re.M)
    assert sorted(cached) == sorted("/" + p.lstrip("./") for p in listed)
