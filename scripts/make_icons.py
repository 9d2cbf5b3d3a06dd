"""Draw the phone app's PNG icons from mobile_web/icons/icon.svg with headless Chromium.

    .venv/bin/python scripts/make_icons.py

Run it after changing the SVG, then scripts/stamp_shell.py (the icons are part of the shell).
Where Debian's pngquant is installed the PNGs are reduced to a palette (a quarter of the bytes).
"""
import shutil
import subprocess
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "mobile_web" / "icons"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    svg = (ICONS / "icon.svg").read_text(encoding="utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for size in (192, 512):
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace("<svg ", f"<svg width={size} height={size} ", 1)
            page.set_content(f"<html><body style='margin:0'>{sized}</body></html>")
            target = ICONS / f"icon-{size}.png"
            page.screenshot(path=str(target))
            page.close()
            if shutil.which("pngquant"):
                subprocess.run(["pngquant", "--force", "--strip", "--speed", "1", "--quality",
                                "70-95", "--output", str(target), str(target)], check=True)
        browser.close()


if __name__ == "__main__":
    main()
