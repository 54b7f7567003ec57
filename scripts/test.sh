#!/usr/bin/env bash
# Install sleeptime with its test extras, start a throwaway PostgreSQL on 127.0.0.1,
# then run the lint, type and test suites. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test
if [ -z "${SLEEPTIME_TEST_PG_URL:-}" ]; then
  SLEEPTIME_TEST_PG_URL="$(bash scripts/postgres.sh)"
  export SLEEPTIME_TEST_PG_URL
fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
