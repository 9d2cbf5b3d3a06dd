#!/usr/bin/env bash
# Run zaicun with the demo county 示范县 on SQLite (instance/zaicun.sqlite3) at http://127.0.0.1:8000/
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/zaicun" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  "$VENV/bin/pip" install -q .
fi
exec "$VENV/bin/zaicun" serve --demo --host "${HOST:-127.0.0.1}" --port "${PORT:-8000}" "$@"
