"""Reading migration files (Alembic revisions, plain-SQL files) without importing or running them."""
