"""Safety layer around Alembic for PostgreSQL: backup, validate, migrate, restore."""

__version__ = "0.1.0"   # the installed distribution's version (pyproject.toml reads it from here)
