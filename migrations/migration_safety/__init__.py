"""Safety layer around Alembic for PostgreSQL: backup, validate, migrate, restore."""
