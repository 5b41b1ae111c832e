#!/usr/bin/env python3
"""Safe Alembic migrations for PostgreSQL: backup, validate, migrate, restore on failure.

    python migrations/migration_utils.py [--config INI] [--format text|json] COMMAND [options]

This repository's entry point: the CLI itself is ``migration_safety.face.cli`` (installed with pip it is
the ``migration-safety`` command). Run from a checkout, the package is the folder beside this file.
"""
import importlib.util
import os
import sys

# What the package needs at run time (pyproject.toml's dependencies), by import name
REQUIRED_MODULES = ("alembic", "sqlalchemy", "psycopg2", "sqlparse", "rich", "yaml")


def missing_modules() -> list:
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def refuse_without_the_virtualenv(missing: list) -> None:
    """A Python without the project's requirements (python3 outside the virtualenv): one line that
    says what to do, exit 2 (a configuration error), rather than an import error on the way."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv = os.path.join(root, ".venv")
    def shown(path: str) -> str:
        relative = os.path.relpath(path)
        return path if relative.startswith("..") else relative

    if os.path.isdir(venv):
        how = (f"activate the project's virtualenv (`source {shown(venv)}/bin/activate`) or run "
               f"{shown(os.path.join(venv, 'bin', 'python'))} instead")
    else:
        how = f"create the project's virtualenv with `bash {shown(os.path.join(root, 'scripts', 'bootstrap.sh'))}`, " \
              "then activate it (`source .venv/bin/activate`)"
    sys.stderr.write(f"error: {sys.executable} lacks {', '.join(missing)}, which the migration tool needs: {how}\n")
    sys.exit(2)


if __name__ == "__main__":
    missing = missing_modules()
    if missing:
        refuse_without_the_virtualenv(missing)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from migration_safety.face.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
