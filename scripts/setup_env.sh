#!/usr/bin/env bash
# Installs what tinycnn's site and tests need on a fresh machine; safe to run again (it only
# installs what is missing). Sourced by scripts/serve.sh and scripts/test.sh.
#   - .venv    : Python 3.11 with tinycnn (editable) and the `test` and `docs` extras
#                (PyTorch 2.13 CPU is a local wheel on this machine kind; see ../shared/ENVIRONMENT.md)
#   - .venv38  : Python 3.8 + NumPy 1.17.5, the pair the in-browser Pyodide runtime has
#                (only with --with-py38)
#   - Debian's chromium for the browser tests (only with --with-browser)
# The Pyodide runtime and other front-end packages are fetched from the npm registry by the site
# build itself (cached in ~/.cache/tinycnn, never committed).
set -euo pipefail

TINYCNN_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON311="${PYTHON311:-python3.11}"
export DEBIAN_FRONTEND=noninteractive
export PIP_DISABLE_PIP_VERSION_CHECK=1 NO_MKDOCS_2_WARNING=1
# One BLAS thread: tinycnn's matrices are small, and on a 2-core machine extra BLAS threads fight
# with the browser and each other (measured: native training up to 10x slower).
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" \
       MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"

_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

_apt_install() {  # _apt_install COMMAND PACKAGE...
  local command=$1; shift
  if ! command -v "$command" >/dev/null 2>&1; then
    echo "[setup] installing $* with apt-get"
    _sudo apt-get update -qq
    _sudo apt-get install -y -qq "$@" >/dev/null
  fi
}

_stamp_ok() {  # the venv is up to date when its stamp is newer than pyproject.toml
  [ -f "$1/.tinycnn-stamp" ] && [ "$1/.tinycnn-stamp" -nt "$TINYCNN_ROOT/pyproject.toml" ]
}

setup_main_venv() {
  local venv="$TINYCNN_ROOT/.venv"
  if ! _stamp_ok "$venv"; then
    echo "[setup] creating $venv (tinycnn + test and docs extras)"
    "$PYTHON311" -m venv "$venv"
    "$venv/bin/pip" install -q --upgrade pip
    "$venv/bin/pip" install -q -e "$TINYCNN_ROOT[test,docs]"
    touch "$venv/.tinycnn-stamp"
  fi
}

setup_py38_venv() {
  local venv="$TINYCNN_ROOT/.venv38"
  if ! _stamp_ok "$venv"; then
    echo "[setup] creating $venv (Python 3.8 + NumPy 1.17.5, as in the browser)"
    PYENV_VERSION=3.8.18 python3.8 -m venv "$venv"
    "$venv/bin/pip" install -q "numpy==1.17.5" "pytest>=7,<9"
    touch "$venv/.tinycnn-stamp"
  fi
}

setup_node() { _apt_install npm nodejs npm; }
setup_browser() { _apt_install chromium chromium; }

for _arg in "$@"; do
  case "$_arg" in
    --with-py38) setup_py38_venv ;;
    --with-browser) setup_browser ;;
  esac
done
setup_node
setup_main_venv
