#!/usr/bin/env python3
"""Safe Alembic migrations for PostgreSQL: backup, validate, migrate, restore on failure.

    python migrations/migration_utils.py [--config INI] [--format text|json] COMMAND [options]

This repository's entry point: the CLI itself is ``migration_safety.face.cli`` (installed with pip it is
the ``migration-safety`` command). Run from a checkout, the package is the folder beside this file.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from migration_safety.face.cli import run  # noqa: E402

if __name__ == "__main__":
    run()
