#!/usr/bin/env bash
# Builds the tutorial site and serves it on http://127.0.0.1:8000 : `bash scripts/serve.sh`
# Installs what it needs first (Python venv with the docs extra; the Pyodide runtime is fetched
# from the npm registry by the build on first use). Extra arguments go to `mkdocs serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh
exec .venv/bin/python -m mkdocs serve -a 127.0.0.1:8000 "$@"
