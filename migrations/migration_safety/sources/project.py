"""The project a command works on: which Alembic config (alembic.ini and/or pyproject.toml), where
its revisions and backups live, and the effective settings. Reading it imports no Alembic, so
light commands stay fast.

The config is found as Alembic's own CLI finds it: ``--config``, then ``ALEMBIC_CONFIG``, then
``alembic.ini`` (or a ``pyproject.toml`` with ``[tool.alembic]``) in the current directory; only
then, when the package runs from this repository's checkout, its example project (an installed
package has no such fallback: finding no config is a usage error). A project is one directory: an
alembic.ini and a pyproject.toml side by side are used together (Alembic 1.16+ reads
``[tool.alembic]`` from the toml and logging plus ``sqlalchemy.url`` from the ini)."""
from __future__ import annotations

import configparser
import dataclasses
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional

from ..base import redaction
from ..base.errors import ConfigurationError
from ..config.discovery import (SAFETY_SECTION, find_config, has_tool_alembic, inside_installed_package, read_toml,
                                repository_example)
from ..config.settings import (ALEMBIC_PLACEHOLDER_URL, DatabaseSettings, SafetySettings, SettingsError,
                               check_safety_keys, database_settings, safety_settings)

if TYPE_CHECKING:
    from .alembic_runner import VersionTable


@dataclass
class Project:
    config_path: Path                  # the file that was found or named
    found_by: str                      # how (see find_config)
    ini_file: Optional[Path] = None    # alembic.ini in use, if any
    toml_file: Optional[Path] = None   # pyproject.toml with [tool.alembic], if any
    sql_dir_option: Optional[str] = None      # --sql-dir
    x_arguments: tuple = ()            # -x KEY=VALUE for env.py (context.get_x_argument), as Alembic's own -x

    @classmethod
    def load(cls, config: Optional[str], sql_dir: Optional[str] = None, *,
             environ: Optional[Mapping[str, str]] = None, cwd: Optional[Path] = None,
             x_arguments: tuple = ()) -> "Project":
        path, found_by = find_config(config, environ, cwd)
        if path.suffix == ".toml":
            if not has_tool_alembic(path):
                raise ConfigurationError(f"{path} has no [tool.alembic] table")
            ini = path.parent / "alembic.ini"
            project = cls(path, found_by, ini.resolve() if ini.is_file() else None, path, sql_dir, tuple(x_arguments))
        else:
            toml = path.parent / "pyproject.toml"
            project = cls(path, found_by, path, toml.resolve() if has_tool_alembic(toml) else None, sql_dir,
                          tuple(x_arguments))
        # Parse and check now: a malformed config or a misspelt setting is a usage error,
        # reported once, before anything runs.
        project.parser
        project.safety
        if project.sql_dir is None:
            # a file that only configures a SQL folder needs no [alembic] section
            if project.ini_file and not project.parser.has_section("alembic") and project.toml_file is None:
                raise ConfigurationError(f"{project.ini_file} has no [alembic] section")
            project.script_location
        return project

    @property
    def ini_path(self) -> Path:
        """The main config file: alembic.ini, or pyproject.toml when the project has no ini."""
        return self.ini_file or self.toml_file

    def describe(self) -> dict:
        """Which config and which database this run acts on, and where each came from."""
        files = [str(f) for f in (self.ini_file, self.toml_file) if f]
        settings = self.database
        return {"config": " + ".join(files), "config_found_by": self.found_by,
                "server": f"{settings.host}:{settings.port}", "database": settings.database, "user": settings.user,
                "settings_from": settings.source, "driver": settings.driver, "driver_from": settings.driver_source}

    @cached_property
    def parser(self) -> configparser.ConfigParser:
        """alembic.ini as Alembic reads it (empty for a pyproject.toml-only project)."""
        parser = configparser.ConfigParser(defaults={"here": str(self.config_path.parent)})
        if self.ini_file is None:
            return parser
        try:
            parser.read(self.ini_file, encoding="utf-8")
        except configparser.Error as exc:
            raise ConfigurationError(f"cannot read {self.ini_file}: {' '.join(str(exc).split())}") from None
        return parser

    @cached_property
    def toml(self) -> dict:
        return read_toml(self.toml_file).get("tool", {}) if self.toml_file else {}

    def _option(self, section: str, key: str) -> Optional[str]:
        try:
            return self.parser.get(section, key)
        except (configparser.Error, KeyError):
            return None

    def alembic_option(self, key: str):
        """An [alembic] option as Alembic's Config.get_alembic_option reads it: the ini first,
        then [tool.alembic], whose strings get ``%(here)s`` (the toml's folder) substituted."""
        value = self._option("alembic", key)
        if value not in (None, ""):
            return value
        value = self.toml.get("alembic", {}).get(key)
        here = {"here": str(self.toml_file.parent)} if self.toml_file else {}
        try:
            if isinstance(value, str):
                return value % here
            if isinstance(value, list):
                return [item % here for item in value]
        except (KeyError, ValueError, TypeError):
            raise ConfigurationError(f"{self.toml_file}: cannot expand [tool.alembic] {key} = {value!r}") from None
        return value

    def _config_names(self) -> str:
        return " / ".join(str(f) for f in (self.ini_file, self.toml_file) if f)

    @cached_property
    def script_location(self) -> Path:
        location = self.alembic_option("script_location")
        if not location or not isinstance(location, str):
            raise ConfigurationError(f"{self._config_names()} sets no script_location")
        return self._resolve_location(location, "script_location")

    def _resolve_location(self, location: str, key: str, must_exist: bool = True) -> Path:
        """As Alembic resolves it (util.coerce_resource_to_filename): ``package:folder`` is a
        package resource; any other relative path is relative to the current directory."""
        if not os.path.isabs(location) and ":" in location:
            from importlib import resources

            package, *parts = location.split(":")
            try:
                return Path(str(resources.files(package).joinpath(*parts))).resolve()
            except (ImportError, TypeError) as exc:
                raise ConfigurationError(f"{key} {location!r}: package {package!r} not importable ({exc})") from None
        path = Path(location)
        if must_exist and not path.is_absolute() and not path.is_dir():
            raise ConfigurationError(
                f"{key} {location!r} is relative to the current directory ({Path.cwd()}) and not found there, "
                f"as Alembic would not find it; run from the project's folder or write %(here)s/{location}")
        return path.resolve()

    @property
    def versions_dir(self) -> Path:
        """Where a new revision is written: the first version location."""
        return self.version_dirs[0]

    @property
    def version_dirs(self) -> list:
        """Every version location the config names (Alembic reads them all), else ``versions/``."""
        configured = self.alembic_option("version_locations")
        if configured:
            locations = configured if isinstance(configured, list) else self._split_paths(configured)
            return [self._resolve_location(location, "version_locations", must_exist=False)
                    for location in locations]
        return [self.script_location / "versions"]

    @property
    def module_paths(self) -> tuple:
        """Where the project's own modules are, as Alembic puts them on ``sys.path``
        (``prepend_sys_path``, relative to the current directory), then the config's folder and
        this Python's path: the validator reads a column type a revision imports from there."""
        configured = self.alembic_option("prepend_sys_path")
        if isinstance(configured, str):
            configured = self._split_paths(configured)
        paths = [Path(entry).resolve() for entry in configured or []] + [self.config_path.parent.resolve()]
        import sys

        return tuple(dict.fromkeys(paths + [Path(entry) for entry in sys.path if entry]))

    def _split_paths(self, value: str) -> list:
        """version_locations of an ini, split as Alembic splits it (path_separator)."""
        separator = self._option("alembic", "path_separator")
        named = {"os": os.pathsep, "space": " ", "newline": "\n", ":": ":", ";": ";"}
        if separator in named:
            parts = value.split(named[separator])
        else:   # Alembic's legacy splitting on spaces and commas
            parts = value.replace(",", " ").split()
        return [part.strip() for part in parts if part.strip()]

    @cached_property
    def database(self) -> DatabaseSettings:
        url = self._option("alembic", "sqlalchemy.url")
        where = self.ini_file
        if not url and self.toml_file:
            url, where = self.alembic_option("sqlalchemy.url"), self.toml_file
        if isinstance(url, str) and url.strip() != ALEMBIC_PLACEHOLDER_URL:
            redaction.register_url(url)  # its password as written, before a message can quote it
        try:
            settings = database_settings(
                alembic_ini_url=url if isinstance(url, str) else None, alembic_ini_name=str(where))
            settings.sqlalchemy_url()   # refuses parameters the named driver cannot take
            if repository_example() is not None:   # run from this repository's checkout, not installed
                settings = dataclasses.replace(settings, unset_hint=(
                    "or for this repository's local database: eval \"$(.venv/bin/python scripts/local_postgres.py env)\""))
        except SettingsError as exc:
            raise ConfigurationError(str(exc)) from None
        redaction.register(settings.password)
        return settings

    @property
    def backup_base(self) -> Path:
        """What a relative (or the default) backup directory is relative to: the config's folder,
        unless that is inside an installed package (a config shipped in site-packages), whose
        files a reinstall replaces: then the current directory."""
        folder = self.config_path.parent
        return Path.cwd() if inside_installed_package(folder) else folder

    @cached_property
    def safety(self) -> SafetySettings:
        """``[migration_safety]`` of alembic.ini, or ``[tool.migration_safety]`` of pyproject.toml."""
        section = dict(self.parser.items(SAFETY_SECTION)) if self.parser.has_section(SAFETY_SECTION) else {}
        section.pop("here", None)
        where = f"[{SAFETY_SECTION}] in {self.ini_file}"
        if not section and isinstance(self.toml.get(SAFETY_SECTION), dict):
            where = f"[tool.{SAFETY_SECTION}] in {self.toml_file}"
            section = {key: str(value).lower() if isinstance(value, bool) else str(value)
                       for key, value in self.toml[SAFETY_SECTION].items() if not isinstance(value, dict)}
        default_backups = self.backup_base / "backups"
        try:
            check_safety_keys(section, where)
            settings = safety_settings(default_backups, section)
        except SettingsError as exc:
            raise ConfigurationError(str(exc)) from None
        if not settings.backup_dir.is_absolute():
            object.__setattr__(settings, "backup_dir", (self.backup_base / settings.backup_dir).resolve())
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
        from . import source_for

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

    def revision_files(self, directories: Optional[list] = None) -> dict:
        """revision id -> (file, revision_file.Declared: down revisions, depends_on, branch labels)
        of every version location (or of ``directories``, where env.py put them), read with
        ``ast`` (never imported) and leniently, so a broken graph can still be described."""
        from ..migration_files.revision_file import Declared, as_tuple, read_revision_file

        found = {}
        for directory in [Path(d) for d in directories] if directories else self.version_dirs:
            for path in sorted(directory.glob("*.py")) if directory.is_dir() else ():
                declared = read_revision_file(path, strict=False)
                if declared is not None:
                    found[declared.revision] = (str(path), Declared(
                        as_tuple(declared.down_revision), as_tuple(declared.depends_on),
                        as_tuple(declared.branch_labels)))
        return found

    def alembic_config(self, *, stdout=None, output_buffer=None):
        from .alembic_runner import alembic_config

        return alembic_config(self.ini_path, self.database.sqlalchemy_url(), stdout=stdout,
                              output_buffer=output_buffer, x_arguments=self.x_arguments)
