"""Settings read from the environment (and, for the database, alembic.ini).

Precedence for the database connection, first match wins:

1. ``DATABASE_URL`` (e.g. ``postgresql://user:pass@host:5432/db?sslmode=require``);
2. any of ``POSTGRES_HOST``, ``POSTGRES_PORT``, ``POSTGRES_DB``, ``POSTGRES_USER``,
   ``POSTGRES_PASSWORD`` (the others take their defaults);
3. ``sqlalchemy.url`` in alembic.ini, unless it is Alembic's template placeholder;
4. the defaults: localhost, 5432, fataplus_dev, fataplus_user, no password.

The password is kept out of ``repr`` and every rendered form except the URL handed to
SQLAlchemy; child processes receive it through ``PGPASSWORD`` in their environment, never argv.

This module deliberately imports nothing heavy: it runs on every CLI start.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import parse_qsl, quote, unquote, urlsplit

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "fataplus_dev"
DEFAULT_USER = "fataplus_user"

POSTGRES_VARIABLES = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")
ALEMBIC_PLACEHOLDER_URL = "driver://user:pass@localhost/dbname"

# libpq connection parameters that may ride along in a URL's query string (sslmode for RDS, ...).
LIBPQ_URL_PARAMETERS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "connect_timeout",
    "application_name", "target_session_attrs", "gssencmode", "options",
}


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line meant for the user."""


@dataclass(frozen=True)
class DatabaseSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    database: str = DEFAULT_DATABASE
    user: str = DEFAULT_USER
    password: Optional[str] = field(default=None, repr=False)
    parameters: Mapping[str, str] = field(default_factory=dict)
    source: str = "defaults"

    def sqlalchemy_url(self, driver: str = "postgresql+psycopg2") -> str:
        """The URL for SQLAlchemy, password URL-quoted so ``@ % : / !`` survive."""
        credentials = quote(self.user, safe="")
        if self.password is not None:
            credentials += ":" + quote(self.password, safe="")
        parameters = dict(self.parameters)
        if self.host.startswith("/"):   # a Unix-socket directory goes in the query, as libpq's host
            parameters.update(host=self.host, port=str(self.port))
            url = f"{driver}://{credentials}@/{quote(self.database, safe='')}"
        else:
            host = f"[{self.host}]" if ":" in self.host else self.host
            url = f"{driver}://{credentials}@{host}:{self.port}/{quote(self.database, safe='')}"
        if parameters:
            url += "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in sorted(parameters.items()))
        return url

    def masked_url(self) -> str:
        """The URL as it may be shown to people and logs."""
        masked = DatabaseSettings(self.host, self.port, self.database, self.user,
                                  "***" if self.password else None, self.parameters, self.source)
        return masked.sqlalchemy_url(driver="postgresql").replace("%2A%2A%2A", "***")

    def libpq_keywords(self) -> dict:
        """Keyword arguments for psycopg2.connect / a libpq conninfo, without the password."""
        keywords = {"host": self.host, "port": str(self.port), "dbname": self.database, "user": self.user}
        keywords.update({k: str(v) for k, v in self.parameters.items()})
        return keywords

    def conninfo(self, database: Optional[str] = None) -> str:
        """A libpq conninfo string without the password, safe to put in a child's argv."""
        keywords = self.libpq_keywords()
        if database is not None:
            keywords["dbname"] = database
        return " ".join(f"{k}={_conninfo_quote(v)}" for k, v in keywords.items())

    def child_environment(self, base: Optional[Mapping[str, str]] = None) -> dict:
        """Environment for pg_dump/pg_restore/psql connecting to the database: the password travels
        here as ``PGPASSWORD``, never in argv, and the wrapper's own secret variables stay behind."""
        env = without_secrets(os.environ if base is None else base)
        for variable in ("PGPASSWORD", "PGPASSFILE", "PGSERVICE", "PGOPTIONS"):
            env.pop(variable, None)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        return env

    def with_database(self, database: str) -> "DatabaseSettings":
        return DatabaseSettings(self.host, self.port, database, self.user, self.password,
                                self.parameters, self.source)


# Variables holding the wrapper's own copy of the password (and the API token); no child process needs them (a tool
# that connects gets PGPASSWORD from child_environment).
SECRET_VARIABLES = ("POSTGRES_PASSWORD", "DATABASE_URL", "MIGRATION_API_TOKEN")


def without_secrets(environ: Mapping[str, str]) -> dict:
    """A copy of ``environ`` for a child process: without SECRET_VARIABLES."""
    return {name: value for name, value in environ.items() if name not in SECRET_VARIABLES}


def _conninfo_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "._-/:" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_database_url(url: str, source: str = "DATABASE_URL") -> DatabaseSettings:
    """Parse ``postgresql[+driver]://user:pass@host:port/db?sslmode=...``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORT
    except ValueError as exc:
        # Not urlsplit's message: it may quote part of an unquoted password (as the "port").
        raise SettingsError(f"{source} is not a valid URL (URL-quote the password's special characters: "
                            "@ %40, : %3A, / %2F, % %25)") from None
    if not parts.scheme.split("+")[0] in ("postgresql", "postgres"):
        raise SettingsError(f"{source} must be a postgresql:// URL, got scheme {parts.scheme or 'none'!r}")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise SettingsError(f"{source} names no database (expected .../dbname)")
    parameters = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in LIBPQ_URL_PARAMETERS:
            parameters[key] = value
    return DatabaseSettings(
        host=unquote(parts.hostname or DEFAULT_HOST),
        port=port,
        database=database,
        user=unquote(parts.username) if parts.username else DEFAULT_USER,
        password=unquote(parts.password) if parts.password is not None else None,
        parameters=parameters,
        source=source,
    )


def database_settings(environ: Optional[Mapping[str, str]] = None,
                      alembic_ini_url: Optional[str] = None) -> DatabaseSettings:
    """Resolve the connection settings (see the module docstring for the precedence)."""
    environ = os.environ if environ is None else environ
    if environ.get("DATABASE_URL"):
        return parse_database_url(environ["DATABASE_URL"])
    if any(environ.get(name) for name in POSTGRES_VARIABLES):
        port_text = environ.get("POSTGRES_PORT") or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"POSTGRES_PORT must be a port number, got {port_text!r}")
        return DatabaseSettings(
            host=environ.get("POSTGRES_HOST") or DEFAULT_HOST,
            port=int(port_text),
            database=environ.get("POSTGRES_DB") or DEFAULT_DATABASE,
            user=environ.get("POSTGRES_USER") or DEFAULT_USER,
            password=environ.get("POSTGRES_PASSWORD") or None,
            source="POSTGRES_* environment",
        )
    if alembic_ini_url and alembic_ini_url.strip() != ALEMBIC_PLACEHOLDER_URL:
        return parse_database_url(alembic_ini_url, source="sqlalchemy.url in alembic.ini")
    return DatabaseSettings()


@dataclass(frozen=True)
class SafetySettings:
    """How the wrapper behaves; environment ``MIGRATION_*`` overrides ``[migration_safety]`` in alembic.ini."""
    backup_dir: Path
    backup_compression: int = 1           # pg_dump -Z level; measured choice, see README "Backup format"
    lock_timeout: str = "5s"              # applied to the migration connection
    statement_timeout: str = "0"          # 0 = none
    lock_wait_seconds: float = 0.0        # how long to wait for another run's migration lock
    retention_days: Optional[int] = None
    retention_count: Optional[int] = None
    history_table: str = "migration_history"
    selective_restore: bool = True        # restore only what a failed run touched, when known for certain
    log_file: Optional[str] = None        # JSON lines of every run (migration_safety.structured_log)


SAFETY_KEYS = {
    # key in [migration_safety]: (environment variable, converter)
    "backup_dir": "MIGRATION_BACKUP_DIR",
    "backup_compression": "MIGRATION_BACKUP_COMPRESSION",
    "lock_timeout": "MIGRATION_LOCK_TIMEOUT",
    "statement_timeout": "MIGRATION_STATEMENT_TIMEOUT",
    "lock_wait_seconds": "MIGRATION_LOCK_WAIT",
    "retention_days": "MIGRATION_BACKUP_KEEP_DAYS",
    "retention_count": "MIGRATION_BACKUP_KEEP_LAST",
    "history_table": "MIGRATION_HISTORY_TABLE",
    "selective_restore": "MIGRATION_SELECTIVE_RESTORE",
    "log_file": "MIGRATION_LOG_FILE",
}


def safety_settings(default_backup_dir: Path, ini_section: Optional[Mapping[str, str]] = None,
                    environ: Optional[Mapping[str, str]] = None) -> SafetySettings:
    environ = os.environ if environ is None else environ
    ini_section = ini_section or {}
    values = {}
    for key, variable in SAFETY_KEYS.items():
        raw = environ.get(variable) or ini_section.get(key)
        if raw is None or str(raw).strip() == "":
            continue
        raw = str(raw).strip()
        where = variable if environ.get(variable) else f"[migration_safety] {key}"
        values[key] = _convert(key, raw, where)
    backup_dir = Path(values.pop("backup_dir", default_backup_dir)).expanduser()
    return SafetySettings(backup_dir=backup_dir, **values)


def _convert(key: str, raw: str, where: str):
    try:
        if key == "selective_restore":
            switch = raw.lower()
            if switch not in ("on", "off", "true", "false", "yes", "no", "1", "0"):
                raise ValueError
            return switch in ("on", "true", "yes", "1")
        if key in ("backup_compression", "retention_days", "retention_count"):
            number = int(raw)
            if number < 0 or (key == "backup_compression" and number > 9):
                raise ValueError
            return number
        if key == "lock_wait_seconds":
            number = float(raw)
            if number < 0:
                raise ValueError
            return number
        if key == "history_table" and not raw.replace("_", "").isalnum():
            raise ValueError
        if key in ("lock_timeout", "statement_timeout") and not _is_postgres_duration(raw):
            raise ValueError
    except ValueError:
        raise SettingsError(f"{where} has an invalid value {raw!r}") from None
    return raw


def _is_postgres_duration(text: str) -> bool:
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz").strip()
    unit = text[len(number):].strip() if number else ""
    return number.isdigit() and unit in ("", "ms", "s", "min", "h", "d", "us")
