#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then runs pytest against
# throwaway PostgreSQL clusters that the suite starts and stops itself.
#
# Tests run in parallel (pytest-xdist, docs/testing.md): one worker per core, each with its own
# cluster; --dist loadgroup hands tests out one at a time except the groups in tests/conftest.py.
# Arguments given here come after these and win: `-n 0` runs everything in this one process.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -n "${TEST_WORKERS:-auto}" --dist loadgroup "$@"
