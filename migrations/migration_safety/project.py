"""The project a command works on: which alembic.ini, where its revisions and backups live, and
the effective settings. Reading it imports no Alembic, so light commands stay fast."""
from __future__ import annotations

import configparser
import dataclasses
import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from . import redaction
from .errors import ConfigurationError

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = MIGRATIONS_DIR.parent
DEFAULT_INI = MIGRATIONS_DIR / "alembic.ini"
SAFETY_SECTION = "migration_safety"

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from infrastructure.docker import config_management  # noqa: E402  (needs REPO_ROOT on sys.path)

if TYPE_CHECKING:
    from .alembic_runner import VersionTable


@dataclass
class Project:
    ini_path: Path
    sql_dir_option: Optional[str] = None      # --sql-dir

    @classmethod
    def load(cls, ini_path: Optional[str], sql_dir: Optional[str] = None) -> "Project":
        path = Path(ini_path).expanduser() if ini_path else DEFAULT_INI
        if not path.is_file():
            raise ConfigurationError(f"alembic config {path} not found (pass --config path/to/alembic.ini)")
        project = cls(path.resolve(), sql_dir)
        project.parser  # parse now: a malformed ini is a usage error, reported once
        return project

    @cached_property
    def parser(self) -> configparser.ConfigParser:
        parser = configparser.ConfigParser(defaults={"here": str(self.ini_path.parent)})
        try:
            parser.read(self.ini_path, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigurationError(f"cannot read {self.ini_path}: {' '.join(str(exc).split())}") from None
        if not parser.has_section("alembic"):
            raise ConfigurationError(f"{self.ini_path} has no [alembic] section")
        return parser

    def _option(self, section: str, key: str) -> Optional[str]:
        try:
            return self.parser.get(section, key)
        except (configparser.Error, KeyError):
            return None

    @cached_property
    def script_location(self) -> Path:
        location = self._option("alembic", "script_location")
        if not location:
            raise ConfigurationError(f"{self.ini_path} sets no script_location")
        path = Path(location)
        if not path.is_absolute():
            # Alembic resolves a relative script_location against the working directory (or a
            # package); try that first, then the ini's own folder.
            path = Path.cwd() / location if (Path.cwd() / location).is_dir() else self.ini_path.parent / location
        return path.resolve()

    @property
    def versions_dir(self) -> Path:
        configured = self._option("alembic", "version_locations")
        if configured:
            first = configured.replace(",", " ").split()[0]
            return Path(first).resolve()
        return self.script_location / "versions"

    @cached_property
    def database(self) -> config_management.DatabaseSettings:
        ini_url = self._option("alembic", "sqlalchemy.url")
        if ini_url and ini_url.strip() != config_management.ALEMBIC_PLACEHOLDER_URL:
            redaction.register_url(ini_url)  # its password as written, before a message can quote it
        try:
            settings = config_management.database_settings(alembic_ini_url=ini_url)
        except config_management.SettingsError as exc:
            raise ConfigurationError(str(exc)) from None
        redaction.register(settings.password)
        return settings

    @cached_property
    def safety(self) -> config_management.SafetySettings:
        section = dict(self.parser.items(SAFETY_SECTION)) if self.parser.has_section(SAFETY_SECTION) else {}
        section.pop("here", None)
        default_backups = self.ini_path.parent / "backups"
        try:
            settings = config_management.safety_settings(default_backups, section)
        except config_management.SettingsError as exc:
            raise ConfigurationError(str(exc)) from None
        if not settings.backup_dir.is_absolute():
            object.__setattr__(settings, "backup_dir", (self.ini_path.parent / settings.backup_dir).resolve())
        if self.sql_dir is not None and settings.retention_days is None:
            # migration_config.yaml's backup_retention_days, unless a setting says otherwise
            days = self.source.folder.settings.backup_retention_days
            if days is not None:
                settings = dataclasses.replace(settings, retention_days=days)
        return settings

    @cached_property
    def sql_dir(self) -> Optional[Path]:
        """A folder of plain-SQL migrations to drive instead of the Alembic project: ``--sql-dir``,
        else ``MIGRATION_SQL_DIR``, else ``[migration_safety] sql_dir`` (relative to the ini's folder)."""
        if self.sql_dir_option:
            return Path(self.sql_dir_option).expanduser().resolve()
        if os.environ.get("MIGRATION_SQL_DIR", "").strip():
            return Path(os.environ["MIGRATION_SQL_DIR"].strip()).expanduser().resolve()
        configured = self._option(SAFETY_SECTION, "sql_dir")
        if configured and configured.strip():
            return (self.ini_path.parent / Path(configured.strip()).expanduser()).resolve()
        return None

    @cached_property
    def source(self):
        """Where the migrations come from (``sources``): the Alembic project or the SQL folder."""
        from .sources import source_for

        return source_for(self)

    @cached_property
    def version_table(self) -> "VersionTable":
        """The table Alembic keeps the database's revision in: ``[migration_safety] version_table``
        (and ``version_table_schema``) when set; else, when env.py mentions ``version_table``, the one
        its ``context.configure(...)`` really passes, learned by running env.py the way ``alembic
        current`` does; else Alembic's default ``alembic_version``."""
        from .alembic_runner import VersionTable, learn_version_table

        name = self._option(SAFETY_SECTION, "version_table")
        schema = self._option(SAFETY_SECTION, "version_table_schema")
        if name or schema:
            return VersionTable(name or VersionTable.name, schema or None)
        env_py = self.script_location / "env.py"
        try:
            customised = "version_table" in env_py.read_text(encoding="utf-8", errors="replace")
        except OSError:
            customised = False
        return learn_version_table(self.alembic_config()) if customised else VersionTable()

    def revision_files(self) -> dict:
        """revision id -> (file, down revisions), read with ``ast`` (never imported), so a broken
        graph can still be described."""
        import ast

        found = {}
        if not self.versions_dir.is_dir():
            return found
        for path in sorted(self.versions_dir.glob("*.py")):
            try:
                tree = ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError, OSError):
                continue
            values = {}
            for node in tree.body:
                target = node.target if isinstance(node, ast.AnnAssign) else (
                    node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except (ValueError, TypeError, SyntaxError):
                        pass
            if isinstance(values.get("revision"), str):
                down = values.get("down_revision")
                downs = tuple(down) if isinstance(down, (tuple, list)) else ((down,) if down else ())
                found[values["revision"]] = (str(path), downs)
        return found

    def alembic_config(self, *, stdout=None, output_buffer=None):
        from .alembic_runner import alembic_config

        return alembic_config(self.ini_path, self.database.sqlalchemy_url(), stdout=stdout,
                              output_buffer=output_buffer)
