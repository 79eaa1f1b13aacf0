#!/usr/bin/env bash
# Creates .venv and installs briefing-qa with its test extras; does nothing when already done.
# torch is installed first at its pinned version: on these machines pip takes a local CPU build,
# while an unpinned torch would pull gigabytes of CUDA packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ -f "$stamp" ]; then exit 0; fi
say() { echo "briefing-qa setup: $*" >&2; }
if [ ! -x .venv/bin/python ]; then
  say "creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
say "[1/3] upgrading pip"
.venv/bin/python -m pip install --quiet --upgrade pip
say "[2/3] installing torch 2.13.0 (CPU build)"
.venv/bin/python -m pip install --quiet "torch==2.13.0"
say "[3/3] installing briefing-qa and its dependencies (a few minutes the first time)"
.venv/bin/python -m pip install --quiet --progress-bar off -e ".[test]" 2>&1 | grep -v -e "BuildBackendWarning" -e "^ *!!" -e "^ *\*\*\*" -e "^ *$" -e "Please be careful" -e "name as your package" -e "WheelFile" -e "WARNING: Location" >&2 || true
.venv/bin/python -c "import qa, ui, faiss, bm25s, gradio" # fails loudly if the install did not work
rm -f .venv/.installed-*
touch "$stamp"
say "done"
