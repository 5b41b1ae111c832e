"""Which targets a fleet command runs on: a targets file, the tenant schemas of one database, and
a deterministic shard of them (``--shard INDEX/COUNT``, or COUNT with Kubernetes' Indexed Job
``JOB_COMPLETION_INDEX``). Secrets come from environment variables named in the file, never from
the file itself, so a targets file can be committed and printed."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from ..base.errors import ConfigurationError

MAX_TARGETS_FILE_BYTES = 1024 * 1024
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}\Z")
_SCHEMA = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}\Z")
_KEYS = {"name", "url", "host", "port", "database", "user", "password_env"}


@dataclass(frozen=True)
class Target:
    """One database (or one tenant schema of it) and how a child run reaches it."""
    name: str
    settings: Mapping[str, str] = field(default_factory=dict)     # POSTGRES_* (no password); none: the fleet's own
    password_env: Optional[str] = None        # the variable holding its password, read when it runs
    x_arguments: tuple = ()                   # -x tenant=NAME for a tenant schema

    def child_environment(self, environ: Mapping[str, str], other_secrets=()) -> dict:
        """The environment of this target's run: the fleet's own, with this target's connection
        settings in place of any the fleet was started with, and without the variables that hold
        the other targets' passwords (``other_secrets``): a revision run for one tenant never
        sees another's."""
        environment = {key: value for key, value in environ.items() if key not in other_secrets}
        if "POSTGRES_DB" in self.settings:     # another database: none of the fleet's own settings
            environment = {key: value for key, value in environment.items()
                           if not key.startswith("POSTGRES_") and key != "DATABASE_URL"}
        environment.update(self.settings)
        if self.password_env:
            if self.password_env not in environ:
                raise ConfigurationError(f"target {self.name}: password_env {self.password_env} is not set")
            environment["POSTGRES_PASSWORD"] = environ[self.password_env]
        return environment


def load_targets(path: str) -> list[Target]:
    """The targets of a YAML file: ``targets:`` a list of entries, each ``url:`` (without a
    password) or ``host``/``port``/``database``/``user``, plus ``name`` and ``password_env``."""
    import yaml

    file = Path(path).expanduser()
    try:
        if file.stat().st_size > MAX_TARGETS_FILE_BYTES:
            raise ConfigurationError(f"targets file {file} is larger than {MAX_TARGETS_FILE_BYTES} bytes")
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read targets file {file}: {exc.strerror or exc}") from None
    if "&" in text and "*" in text:
        _refuse_aliases(text, file)
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"targets file {file}: not YAML ({' '.join(str(exc).split())[:200]})") from None
    entries = document.get("targets") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"targets file {file}: expected `targets:` with a list of databases")
    targets, names = [], set()
    for number, entry in enumerate(entries, 1):
        target = _target(entry, number, file)
        if target.name in names:
            raise ConfigurationError(f"targets file {file}: target name {target.name!r} appears twice")
        names.add(target.name)
        targets.append(target)
    return targets


def _refuse_aliases(text: str, file: Path) -> None:
    """A targets file is a flat list: anchors and aliases are refused rather than expanded (an
    alias bomb would exhaust memory long before the file's size limit)."""
    import yaml

    for token in yaml.scan(text):
        if isinstance(token, (yaml.AliasToken, yaml.AnchorToken)):
            raise ConfigurationError(f"targets file {file}: YAML anchors and aliases are not accepted")


def _target(entry, number: int, file: Path) -> Target:
    where = f"targets file {file}, entry {number}"
    if isinstance(entry, str):
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise ConfigurationError(f"{where}: expected a URL or a mapping")
    unknown = set(entry) - _KEYS
    if "password" in unknown:
        raise ConfigurationError(f"{where}: no inline password; name the environment variable that holds it "
                                 "with password_env")
    if unknown:
        raise ConfigurationError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    settings = {}
    if "url" in entry:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(str(entry["url"]))
        except ArgumentError:
            raise ConfigurationError(f"{where}: url is not a database URL") from None
        if url.password is not None:
            raise ConfigurationError(f"{where}: no password in the url; name the environment variable that "
                                     "holds it with password_env")
        parts = {"POSTGRES_HOST": url.host, "POSTGRES_PORT": url.port, "POSTGRES_DB": url.database,
                 "POSTGRES_USER": url.username}
    else:
        parts = {"POSTGRES_HOST": entry.get("host"), "POSTGRES_PORT": entry.get("port"),
                 "POSTGRES_DB": entry.get("database"), "POSTGRES_USER": entry.get("user")}
    settings = {key: str(value) for key, value in parts.items() if value is not None}
    if "POSTGRES_DB" not in settings:
        raise ConfigurationError(f"{where}: no database named")
    name = str(entry.get("name") or settings["POSTGRES_DB"])
    if not _NAME.match(name):
        raise ConfigurationError(f"{where}: name {name!r} must be letters, digits, '.', '_' or '-' (at most 63)")
    password_env = entry.get("password_env")
    if password_env is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(password_env)):
        raise ConfigurationError(f"{where}: password_env must name an environment variable")
    return Target(name, settings, None if password_env is None else str(password_env))


def tenant_targets(spec: str, list_schemas) -> list[Target]:
    """The tenants of ``--tenant-schemas``: a comma-separated list of schema names, or a query
    (``SELECT``/``WITH``) whose first column lists them, run through ``list_schemas(query)``.
    Each tenant runs with ``-x tenant=NAME``, as in Alembic's cookbook for schema-per-tenant."""
    text = spec.strip()
    if re.match(r"(?is)\s*(select|with)\b", text):
        names = [str(row[0]) for row in list_schemas(text)]
    else:
        names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise ConfigurationError("--tenant-schemas names no schema")
    bad = [name for name in names if not valid_schema_name(name)]
    if bad:
        raise ConfigurationError(f"--tenant-schemas: not a plain schema name: {bad[0]!r}")
    if len(set(names)) != len(names):
        raise ConfigurationError("--tenant-schemas names a schema twice")
    return [Target(name, {}, None, (f"tenant={name}",)) for name in names]


def with_setting(target: Target, key: str, value: str) -> Target:
    return Target(target.name, {**target.settings, key: value}, target.password_env, target.x_arguments)


def valid_schema_name(name: str) -> bool:
    return bool(_SCHEMA.match(name))


def parse_shard(spec: Optional[str], environ: Mapping[str, str] = os.environ) -> Optional[tuple]:
    """``INDEX/COUNT`` (0-based), or ``COUNT`` alone with the index from JOB_COMPLETION_INDEX (a
    Kubernetes Indexed Job); None without ``--shard``."""
    if spec is None:
        return None
    match = re.fullmatch(r"\s*(?:(\d+)\s*/\s*)?(\d+)\s*", spec)
    if not match:
        raise ConfigurationError(f"--shard {spec!r}: expected INDEX/COUNT (e.g. 0/3) or COUNT with JOB_COMPLETION_INDEX")
    index, count = match.group(1), int(match.group(2))
    if index is None:
        index = environ.get("JOB_COMPLETION_INDEX")
        if index is None or not index.isdigit():
            raise ConfigurationError(f"--shard {spec}: no INDEX given and JOB_COMPLETION_INDEX is not set")
    index = int(index)
    if count < 1 or index >= count:
        raise ConfigurationError(f"--shard {spec}: INDEX must be below COUNT")
    return index, count


def select_shard(targets: list[Target], shard: Optional[tuple]) -> list[Target]:
    """The targets of one shard: sorted by name, every COUNT-th from INDEX, so shards cover every
    target exactly once whatever order the file lists them in."""
    if shard is None:
        return list(targets)
    index, count = shard
    ordered = sorted(targets, key=lambda target: target.name)
    return [target for position, target in enumerate(ordered) if position % count == index]
