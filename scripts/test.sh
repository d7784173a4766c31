#!/usr/bin/env bash
# Runs every tinycnn test on a fresh machine: `bash scripts/test.sh`
#   1. installs what is missing (venvs, pip extras, npm, Debian's chromium),
#   2. builds the site with `mkdocs build --strict` into ./site (this executes every code cell
#      of the tutorial and fetches the Pyodide runtime from the npm registry on first use),
#   3. runs the unit tests under Python 3.8 + NumPy 1.17.5 (the browser's pair),
#   4. runs the whole suite (PyTorch oracle, site, browser tests in headless Chromium).
# Extra arguments go to the last pytest run, e.g. `bash scripts/test.sh -k conv -x`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh --with-py38 --with-browser

echo "[test] building the site (mkdocs build --strict)"
start=$(date +%s)
.venv/bin/python -m mkdocs build --strict --quiet -d site
echo "[test] site built in $(( $(date +%s) - start ))s"

echo "[test] unit tests on Python 3.8 + NumPy 1.17.5"
TINYCNN_UNIT_ONLY=1 .venv38/bin/python -m pytest -q -p no:cacheprovider \
  -m "not torch and not sklearn and not browser and not site and not image"

echo "[test] full suite on Python 3.11"
TINYCNN_BUILT_SITE="$PWD/site" .venv/bin/python -m pytest -q "$@"
