#!/usr/bin/env bash
# Everything a fresh machine needs, installed by the project itself (sourced by quickstart.sh
# and run_tests.sh): PostgreSQL's server binaries from Debian's `postgresql` package when
# initdb is missing, Debian's `zstd` for the default backup format, Debian's `chromium` and
# `chromium-driver` for the dashboard's browser test when missing (and we can install them), and a
# virtualenv with requirements.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

have_initdb() {
    command -v initdb >/dev/null 2>&1 && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null 2>&1
}

# Installs Debian package $2 when command $1 is missing and this is a root Debian machine;
# otherwise says what is lost without it ($3) and carries on.
install_if_missing() {
    command -v "$1" >/dev/null 2>&1 && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing $1 (Debian package '$2')" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
    else
        echo "bootstrap: $1 not found; $3 (install Debian's '$2' package)" >&2
    fi
}

# `make` drives the Makefile's shortcuts (Debian's slim images lack it); without it only those
# shortcuts are missing.
install_if_missing make make "the Makefile's targets cannot be used"
# The default backup format pipes pg_dump through the zstd tool (docs/performance.md, "The default:
# custom-zstd"); without it backups fall back to pg_dump's own gzip (MIGRATION_BACKUP_FORMAT=auto).
install_if_missing zstd zstd "backups will use pg_dump's gzip"

if ! have_initdb || ! command -v pg_dump >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing PostgreSQL (Debian package 'postgresql')" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
    else
        echo "error: PostgreSQL server binaries (initdb) not found; install the 'postgresql' package" >&2
        exit 2
    fi
fi

# The service's dashboard is tested in a real headless browser. Without root or apt the test is
# skipped with a reason instead: a developer's machine can still run everything else.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian's chromium and chromium-driver (dashboard browser test)" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
    else
        echo "bootstrap: chromium/chromedriver missing and cannot be installed here; the browser test will be skipped" >&2
    fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV" >&2
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
wanted="$(sha256sum "$ROOT/requirements.txt" | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "bootstrap: installing requirements.txt" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/requirements.txt"
    echo "$wanted" > "$stamp"
fi
# Bytecode for the package now, as pip does when it installs one: where PYTHONDONTWRITEBYTECODE
# is set (many CI and container images set it) Python never writes it, and every run would compile
# the package's modules again, about 0.13 s of CPU before the backup can start.
"$VENV/bin/python" -m compileall -q "$ROOT/migrations/migration_safety" >/dev/null
