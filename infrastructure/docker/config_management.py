"""The example application's database settings: the same rules the wrapper reads them by
(``DATABASE_URL``, then ``POSTGRES_*``, then ``sqlalchemy.url``, then the defaults; see
``migration_safety.config.settings``), so a plain ``alembic`` run of migrations/env.py connects where
``migration_utils.py`` would.

The wrapper's package is used from wherever it is importable (installed with pip, or already
loaded by the wrapper running env.py); a plain ``alembic -c migrations/alembic.ini`` in this
repository has only the repository root on ``sys.path`` (``prepend_sys_path``), so this example
application adds the package's folder itself. The package never reaches back here.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

if importlib.util.find_spec("migration_safety") is None:
    sys.path.append(str(Path(__file__).resolve().parents[2] / "migrations"))

from migration_safety.config.settings import DatabaseSettings, SettingsError, database_settings  # noqa: E402

__all__ = ["DatabaseSettings", "SettingsError", "database_settings"]
