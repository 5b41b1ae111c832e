"""Alembic environment of the example project.

migration_utils.py hands the URL in through ``sqlalchemy.url``; plain ``alembic`` runs fall back
to the same POSTGRES_* / DATABASE_URL settings, so both behave alike.
"""
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from infrastructure.db.models import Base
from infrastructure.docker.config_management import database_settings

config = context.config

if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata

# The wrapper's own audit schema is not part of the application's models.
WRAPPER_SCHEMAS = {"migration_safety"}


def include_object(obj, name, type_, reflected, compare_to):
    schema = getattr(obj, "schema", None)
    return schema not in WRAPPER_SCHEMAS


def database_url() -> str:
    url = config.get_main_option("sqlalchemy.url")
    return url or database_settings().sqlalchemy_url()


def run_migrations_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"}, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    section = config.get_section(config.config_ini_section, {})
    section["sqlalchemy.url"] = database_url()
    connectable = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          include_object=include_object, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
