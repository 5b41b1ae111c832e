#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what is missing, then runs pytest against a
# throwaway PostgreSQL cluster that the suite starts and stops itself.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest "$@"
