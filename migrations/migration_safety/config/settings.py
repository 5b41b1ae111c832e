"""Settings read from the environment (and, for the database, alembic.ini).

Precedence for the database connection, first match wins:

1. ``DATABASE_URL`` (e.g. ``postgresql://user:pass@host:5432/db?sslmode=require``);
2. any of ``POSTGRES_HOST``, ``POSTGRES_PORT``, ``POSTGRES_DB``, ``POSTGRES_USER``,
   ``POSTGRES_PASSWORD`` (the others take their defaults);
3. ``sqlalchemy.url`` in alembic.ini, unless it is Alembic's template placeholder;
4. the defaults: localhost, 5432, fataplus_dev, fataplus_user, no password.

The SQLAlchemy driver of the URL handed to Alembic is the one the user's project expects, since
env.py builds the engine (an async env.py needs ``postgresql+asyncpg``): the driver named in
``DATABASE_URL``'s scheme, else the one named by ``sqlalchemy.url``, else psycopg2 (SQLAlchemy
2.1 maps a bare ``postgresql://`` to psycopg 3, which is not installed). The wrapper's own
connections, pg_dump and psql always use libpq.

The password is kept out of ``repr`` and every rendered form except the URL handed to
SQLAlchemy; child processes receive it through ``PGPASSWORD`` in their environment, never argv.

This module deliberately imports nothing heavy: it runs on every CLI start.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Mapping, Optional
from urllib.parse import parse_qsl, quote, unquote, urlsplit

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 5432
DEFAULT_DATABASE = "fataplus_dev"
DEFAULT_USER = "fataplus_user"

POSTGRES_VARIABLES = ("POSTGRES_HOST", "POSTGRES_PORT", "POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD")
ALEMBIC_PLACEHOLDER_URL = "driver://user:pass@localhost/dbname"
DEFAULT_DRIVER = "postgresql+psycopg2"

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
    driver: str = DEFAULT_DRIVER          # SQLAlchemy dialect+driver of the URL handed to env.py
    driver_source: str = "the default"
    # where to find working settings when none were given (this repository's local database)
    unset_hint: str = field(default="", repr=False)

    def sqlalchemy_url(self, driver: Optional[str] = None) -> str:
        """The URL for SQLAlchemy, password URL-quoted so ``@ % : / !`` survive."""
        driver = driver or self.driver
        credentials = quote(self.user, safe="")
        if self.password is not None:
            credentials += ":" + quote(self.password, safe="")
        parameters = _driver_parameters(driver, self.parameters)
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
        masked = replace(self, password="***" if self.password else None)
        return masked.sqlalchemy_url(driver="postgresql").replace("%2A%2A%2A", "***")

    def libpq_keywords(self) -> dict:
        """Keyword arguments for psycopg2.connect / a libpq conninfo, without the password."""
        keywords = {"host": self.host, "port": str(self.port), "dbname": self.database, "user": self.user}
        keywords.update({k: str(v) for k, v in self.parameters.items()})
        return keywords

    def conninfo(self, database: Optional[str] = None, *, options: str = "") -> str:
        """A libpq conninfo string without the password, safe to put in a child's argv.
        ``options`` (``-c name=value``) are added after any the settings carry."""
        keywords = self.libpq_keywords()
        if database is not None:
            keywords["dbname"] = database
        if options:
            keywords["options"] = f"{keywords.get('options', '')} {options}".strip()
        return " ".join(f"{k}={_conninfo_quote(v)}" for k, v in keywords.items())

    def child_environment(self, base: Optional[Mapping[str, str]] = None) -> dict:
        """Environment for pg_dump/pg_restore/psql connecting to the database: ``tool_environment``
        and the password as ``PGPASSWORD`` (never in argv)."""
        env = tool_environment(base)
        if self.password is not None:
            env["PGPASSWORD"] = self.password
        env.setdefault("PGCONNECT_TIMEOUT", "10")
        return env

    def with_database(self, database: str) -> "DatabaseSettings":
        return replace(self, database=database)


# What a child process (pg_dump, pg_restore, psql, zstd, their --version probes) may inherit: the
# locale, the time zone, where to find programs and the home folder (libpq's ~/.pgpass and
# ~/.postgresql/ certificates), and libpq's settings for TLS and the session. Anything else — the
# backup key, API tokens, a cloud credential, an unrelated secret — stays behind.
CHILD_VARIABLES = frozenset((
    "PATH", "HOME", "LANG", "LANGUAGE", "TZ", "TMPDIR",
    "PGCONNECT_TIMEOUT", "PGSSLMODE", "PGSSLCERT", "PGSSLKEY", "PGSSLROOTCERT", "PGSSLCRL", "PGSSLCRLDIR",
    "PGSSLSNI", "PGSSLCERTMODE", "PGSSLMINPROTOCOLVERSION", "PGSSLMAXPROTOCOLVERSION", "PGREQUIRESSL",
    "PGGSSENCMODE", "PGGSSDELEGATION", "PGKRBSRVNAME", "PGGSSLIB", "PGREQUIREPEER", "PGREQUIREAUTH",
    "PGCHANNELBINDING", "PGTARGETSESSIONATTRS", "PGLOADBALANCEHOSTS", "PGCLIENTENCODING", "PGTZ",
    "PGSYSCONFDIR", "PGLOCALEDIR"))
# Only the tools that connect get the password, and only from DatabaseSettings.child_environment.
CONNECTING_VARIABLES = frozenset(("PGPASSWORD",))


def tool_environment(environ: Optional[Mapping[str, str]] = None, *, connecting: bool = False) -> dict:
    """The allow-listed part of ``environ`` (default: ours) for a child process; ``connecting``
    also keeps PGPASSWORD when the caller put it there."""
    environ = os.environ if environ is None else environ
    allowed = CHILD_VARIABLES | CONNECTING_VARIABLES if connecting else CHILD_VARIABLES
    return {name: value for name, value in environ.items() if name in allowed or name.startswith("LC_")}


def _conninfo_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "._-/:" for c in value):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def parse_database_url(url: str, source: str = "DATABASE_URL") -> DatabaseSettings:
    """Parse ``postgresql[+driver]://user:pass@host:port/db?sslmode=...``."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or DEFAULT_PORT
    except ValueError:
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
                      alembic_ini_url: Optional[str] = None,
                      alembic_ini_name: str = "alembic.ini") -> DatabaseSettings:
    """Resolve the connection settings (see the module docstring for the precedence)."""
    environ = os.environ if environ is None else environ
    ini_url = alembic_ini_url.strip() if alembic_ini_url and alembic_ini_url.strip() != ALEMBIC_PLACEHOLDER_URL \
        else None
    ini_source = f"sqlalchemy.url in {alembic_ini_name}"
    if environ.get("DATABASE_URL"):
        settings = parse_database_url(environ["DATABASE_URL"])
    elif any(environ.get(name) for name in POSTGRES_VARIABLES):
        port_text = environ.get("POSTGRES_PORT") or str(DEFAULT_PORT)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise SettingsError(f"POSTGRES_PORT must be a port number, got {port_text!r}")
        named = [name for name in POSTGRES_VARIABLES if environ.get(name)]
        unset = [name for name in POSTGRES_VARIABLES if not environ.get(name)]
        settings = DatabaseSettings(
            host=environ.get("POSTGRES_HOST") or DEFAULT_HOST,
            port=int(port_text),
            database=environ.get("POSTGRES_DB") or DEFAULT_DATABASE,
            user=environ.get("POSTGRES_USER") or DEFAULT_USER,
            password=environ.get("POSTGRES_PASSWORD") or None,
            source="POSTGRES_* environment (" + ", ".join(named)
                   + (f"; defaults for {', '.join(unset)}" if unset else "") + ")",
        )
    elif ini_url:
        settings = parse_database_url(ini_url, source=ini_source)
    else:
        settings = DatabaseSettings(source="built-in defaults (no DATABASE_URL, POSTGRES_* or sqlalchemy.url set)")
    for url, where in ((environ.get("DATABASE_URL"), "DATABASE_URL"), (ini_url, ini_source)):
        driver = named_driver(url) if url else None
        if driver:
            return replace(settings, driver=driver, driver_source=f"named in {where}")
    return replace(settings, driver_source="the default: none named in DATABASE_URL or sqlalchemy.url")


def named_driver(url: str) -> Optional[str]:
    """``postgresql+asyncpg://...`` -> ``postgresql+asyncpg``; None when the scheme names no driver."""
    scheme = url.strip().split("://", 1)[0].lower()
    dialect, _, driver = scheme.partition("+")
    if dialect in ("postgresql", "postgres") and driver:
        return f"postgresql+{driver}"
    return None


# asyncpg takes its own keyword arguments, not libpq's: these are translated or left out (the
# wrapper's own libpq connections still use them), any other libpq parameter is refused.
_ASYNCPG_RENAMED = {"sslmode": "ssl", "target_session_attrs": "target_session_attrs"}
_ASYNCPG_OMITTED = {"connect_timeout", "application_name"}


def _driver_parameters(driver: str, parameters: Mapping[str, str]) -> dict:
    if not driver.endswith("+asyncpg"):
        return dict(parameters)
    translated = {}
    for key, value in parameters.items():
        if key in _ASYNCPG_RENAMED:
            translated[_ASYNCPG_RENAMED[key]] = value
        elif key in ("host", "port"):
            translated[key] = value
        elif key not in _ASYNCPG_OMITTED:
            raise SettingsError(f"the asyncpg driver takes no libpq parameter {key!r}; remove it from the "
                                f"URL or name another driver (e.g. postgresql+psycopg2://)")
    return translated


@dataclass(frozen=True)
class SafetySettings:
    """How the wrapper behaves; environment ``MIGRATION_*`` overrides ``[migration_safety]`` in alembic.ini."""
    backup_dir: Path
    backup_compression: int = 1           # pg_dump -Z level; measured choice, see README "Backup format"
    # auto (custom-zstd when zstd is available, else custom), custom-zstd, custom (pg_dump -Fc) or
    # plain (a .sql file); measured choice, see README "Performance and the backup format"
    backup_format: str = "auto"
    # auto: back up the schema plus the data of the tables the plan can change when that set is
    # certain, else the whole database (backup/scope.py); full: always the whole database, which
    # a later restore can bring back whole (a scoped backup restores only its scope)
    backup_scope: str = "auto"
    lock_timeout: str = "5s"              # applied to the migration connection
    statement_timeout: str = "0"          # 0 = none
    lock_wait_seconds: float = 0.0        # how long to wait for another run's migration lock
    retention_days: Optional[int] = None
    retention_count: Optional[int] = None
    history_table: str = "migration_history"
    selective_restore: bool = True        # restore only what a failed run touched, when known for certain
    backup_dir_shared: bool = False       # accept a backup directory others can write (the sidecar MAC protects it)
    retry_attempts: int = 0               # further attempts after a transient failure that committed nothing
    retry_delay_seconds: float = 0.0
    log_file: Optional[str] = None        # JSON lines of every run (migration_safety.face.structured_log)
    # A row-dependent finding (rewrite, scan, NOT NULL without default) on a table with at most
    # this many rows does not block an upgrade (validation/live.py); the rate turns a table's size
    # into the lock-time estimate shown when it does block.
    validation_max_harmless_rows: int = 0
    validation_rewrite_mb_per_second: float = 50.0
    rehearse: bool = False                # rehearse = always: every run rehearses on a scratch copy first
    fleet_targets: Optional[str] = None   # the targets file the service's fleet runs use (docs/fleets.md)


BACKUP_FORMATS = ("auto", "custom-zstd", "custom", "plain")
BACKUP_SCOPES = ("auto", "full")
REHEARSE_VALUES = ("always", "never")

SAFETY_KEYS = {
    # key in [migration_safety]: (environment variable, converter)
    "backup_dir": "MIGRATION_BACKUP_DIR",
    "backup_compression": "MIGRATION_BACKUP_COMPRESSION",
    "backup_format": "MIGRATION_BACKUP_FORMAT",
    "backup_scope": "MIGRATION_BACKUP_SCOPE",
    "lock_timeout": "MIGRATION_LOCK_TIMEOUT",
    "statement_timeout": "MIGRATION_STATEMENT_TIMEOUT",
    "lock_wait_seconds": "MIGRATION_LOCK_WAIT",
    "retention_days": "MIGRATION_BACKUP_KEEP_DAYS",
    "retention_count": "MIGRATION_BACKUP_KEEP_LAST",
    "history_table": "MIGRATION_HISTORY_TABLE",
    "selective_restore": "MIGRATION_SELECTIVE_RESTORE",
    "backup_dir_shared": "MIGRATION_BACKUP_DIR_SHARED",
    "retry_attempts": "MIGRATION_RETRY_ATTEMPTS",
    "retry_delay_seconds": "MIGRATION_RETRY_DELAY",
    "log_file": "MIGRATION_LOG_FILE",
    "validation_max_harmless_rows": "MIGRATION_VALIDATION_MAX_HARMLESS_ROWS",
    "validation_rewrite_mb_per_second": "MIGRATION_VALIDATION_REWRITE_MB_PER_SECOND",
    "rehearse": "MIGRATION_REHEARSE",
    "fleet_targets": "MIGRATION_FLEET_TARGETS",
}


# Keys of [migration_safety] read elsewhere (Project.version_table), accepted here too.
OTHER_SAFETY_KEYS = ("version_table", "version_table_schema", "sql_dir")


def valid_safety_keys() -> list:
    """Every key ``[migration_safety]`` accepts, sorted (the README's list is checked against it)."""
    return sorted(set(SAFETY_KEYS) | set(OTHER_SAFETY_KEYS))


def check_safety_keys(ini_section: Mapping[str, str], where: str = "[migration_safety]") -> None:
    """A misspelt key would otherwise be ignored silently and the default used."""
    valid = valid_safety_keys()
    unknown = sorted(key for key in ini_section if key not in valid)
    if unknown:
        raise SettingsError(f"{where} has unknown key(s) {', '.join(unknown)}; valid keys: {', '.join(valid)}")


def safety_settings(default_backup_dir: Path, ini_section: Optional[Mapping[str, str]] = None,
                    environ: Optional[Mapping[str, str]] = None) -> SafetySettings:
    environ = os.environ if environ is None else environ
    ini_section = ini_section or {}
    check_safety_keys(ini_section)
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
        if key in ("selective_restore", "backup_dir_shared"):
            switch = raw.lower()
            if switch not in ("on", "off", "true", "false", "yes", "no", "1", "0"):
                raise ValueError
            return switch in ("on", "true", "yes", "1")
        if key in ("backup_compression", "retention_days", "retention_count", "retry_attempts",
                   "validation_max_harmless_rows"):
            number = int(raw)
            if number < 0 or (key == "backup_compression" and number > 9):
                raise ValueError
            return number
        if key in ("lock_wait_seconds", "retry_delay_seconds", "validation_rewrite_mb_per_second"):
            number = float(raw)
            if number < 0 or (key == "validation_rewrite_mb_per_second" and number == 0):
                raise ValueError
            return number
        if key == "rehearse":
            if raw.lower() not in REHEARSE_VALUES:
                raise ValueError
            return raw.lower() == "always"
        if key in ("backup_format", "backup_scope"):
            if raw.lower() not in (BACKUP_FORMATS if key == "backup_format" else BACKUP_SCOPES):
                raise ValueError
            return raw.lower()
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


TRUSTED_PROXIES_VARIABLE = "MIGRATION_SERVICE_TRUSTED_PROXIES"


def service_trusted_proxies(environ: Optional[Mapping[str, str]] = None) -> tuple:
    """The proxies whose ``X-Forwarded-For`` the service believes (``MIGRATION_SERVICE_TRUSTED_PROXIES``:
    comma-separated addresses or networks, e.g. ``127.0.0.1,10.0.0.0/8``); none by default."""
    import ipaddress

    environ = os.environ if environ is None else environ
    networks = []
    for entry in (environ.get(TRUSTED_PROXIES_VARIABLE) or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise SettingsError(f"{TRUSTED_PROXIES_VARIABLE} has an invalid address {entry.strip()!r} "
                                    "(expected IP addresses or networks, comma-separated)") from None
    return tuple(networks)
