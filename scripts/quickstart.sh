#!/usr/bin/env bash
# The main job on the embedded default: install what is missing, start the project's local
# throwaway PostgreSQL, upgrade the example migrations behind a verified backup, show status.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
PY="$ROOT/.venv/bin/python"
"$PY" scripts/local_postgres.py start
eval "$("$PY" scripts/local_postgres.py env)"
"$PY" migrations/migration_utils.py upgrade
"$PY" migrations/migration_utils.py status
echo
echo "The local database keeps running; stop it with: .venv/bin/python scripts/local_postgres.py stop"
echo "To run the README's commands in a new shell, from $ROOT:"
echo "  source .venv/bin/activate"
echo '  eval "$(python scripts/local_postgres.py env)"'
