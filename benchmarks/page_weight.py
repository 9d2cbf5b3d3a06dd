"""The phone app shell's weight on the wire: every file the service worker caches (HTML, JS,
CSS, manifest, icons) plus sw.js itself, each gzipped at level 9 as a server would send it.

    python benchmarks/page_weight.py          # prints a table and the total; exit 1 over budget

Budget: 60 KB (61,440 bytes) gzipped, so the app loads on a weak 3G link in a few seconds.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from stamp_shell import WEB, listed_files  # noqa: E402

BUDGET_BYTES = 60 * 1024


def weights() -> list[tuple[str, int, int]]:
    """(file, raw bytes, gzipped bytes) for sw.js and every file in its SHELL list."""
    rows = []
    for name in ["sw.js", *listed_files()]:
        raw = (WEB / name).read_bytes()
        rows.append((name, len(raw), len(gzip.compress(raw, compresslevel=9, mtime=0))))
    return rows


def main() -> int:
    rows = weights()
    width = max(len(name) for name, _, _ in rows)
    for name, raw, packed in rows:
        print(f"{name:<{width}}  {raw:>8,} B  {packed:>7,} B gzip")
    total_raw = sum(raw for _, raw, _ in rows)
    total = sum(packed for _, _, packed in rows)
    print(f"{'total':<{width}}  {total_raw:>8,} B  {total:>7,} B gzip = {total / 1024:.1f} KB "
          f"(budget {BUDGET_BYTES // 1024} KB)")
    return 0 if total <= BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
