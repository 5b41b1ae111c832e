"""A folder of plain-SQL migrations as the old runners left it: which files are which version,
the order they run in (file numbers, or the dependencies of ``migration_config.yaml``), the
problems of the folder itself (duplicates, gaps, an UP without its DOWN, dependency cycles), and
each file's statements as the wrapper runs them.

Recognised names: ``NNN_name_UP.sql`` + ``NNN_name_DOWN.sql``; golang-migrate's
``N_name.up.sql`` + ``N_name.down.sql``; a single ``NNN_name.sql`` (upgrade only). ``000_*.sql``
is the old runner's bootstrap (it creates the tracking table) and never runs as a migration.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from ..base.errors import ConfigurationError

CONFIG_FILE = "migration_config.yaml"
BOOTSTRAP_VERSION = 0
NO_TRANSACTION = re.compile(r"^\s*--\s*migration-safety:\s*no-transaction\b", re.IGNORECASE | re.MULTILINE)
_PAIRED = re.compile(r"^(\d+)_(.+)_(up|down)\.sql$", re.IGNORECASE)
_GOLANG = re.compile(r"^(\d+)_(.+)\.(up|down)\.sql$", re.IGNORECASE)
_SINGLE = re.compile(r"^(\d+)_(.+)\.sql$", re.IGNORECASE)
# Statements a file written for an old runner carries that the wrapper owns instead: the
# transaction around the file, and the file's own bookkeeping row.
_TRANSACTION_CONTROL = re.compile(r"^(BEGIN|START\s+TRANSACTION|COMMIT|END)\b(\s+(WORK|TRANSACTION))?\s*;?\s*$",
                                  re.IGNORECASE)
_OWN_BOOKKEEPING = re.compile(r"^(INSERT\s+INTO|DELETE\s+FROM|UPDATE)\s+(\w+\.)?\"?schema_migrations\"?\b",
                              re.IGNORECASE)


@dataclass
class Problem:
    """A finding about the folder rather than a statement: ``rule`` names a validation rule."""
    rule: str
    path: Path
    message: str
    line: int = 1


@dataclass
class SqlMigration:
    version: int
    label: str                          # the number as the files write it: "001", "1"
    name: str
    up: Optional[Path] = None
    down: Optional[Path] = None
    paired: bool = True                 # named as a pair (an UP without its DOWN is then a finding)
    description: Optional[str] = None
    dependencies: tuple = ()
    rollback_supported: bool = True

    @property
    def title(self) -> str:
        return self.description or self.name.replace("_", " ")

    @property
    def checksum(self) -> Optional[str]:
        """SHA-256 of the UP file's bytes, as the old runners recorded it."""
        return hashlib.sha256(self.up.read_bytes()).hexdigest() if self.up else None

    def downgrade_refusal(self) -> Optional[str]:
        if not self.rollback_supported:
            return f"{self.label} ({self.name}) is marked rollback_supported: false in {CONFIG_FILE}"
        if self.down is None:
            return f"{self.label} ({self.name}) has no DOWN file ({self.up.name if self.up else '?'} is upgrade only)"
        return None


@dataclass
class ExecutionSettings:
    timeout_seconds: Optional[int] = None
    retry_attempts: Optional[int] = None          # None: the wrapper's setting (MIGRATION_RETRY_ATTEMPTS)
    retry_delay_seconds: Optional[float] = None
    backup_retention_days: Optional[int] = None


@dataclass
class SqlFolder:
    directory: Path
    migrations: list = field(default_factory=list)        # in the order they run
    problems: list = field(default_factory=list)
    settings: ExecutionSettings = field(default_factory=ExecutionSettings)
    bootstrap: Optional[Path] = None

    def by_version(self, version) -> Optional[SqlMigration]:
        number = version_number(version)
        return next((m for m in self.migrations if m.version == number), None)


def version_number(text) -> Optional[int]:
    try:
        return int(str(text).strip())
    except ValueError:
        return None


def read_folder(directory: Path) -> SqlFolder:
    directory = Path(directory)
    if not directory.is_dir():
        raise ConfigurationError(f"SQL migrations directory {directory} not found (--sql-dir)")
    folder = SqlFolder(directory.resolve())
    found: dict[int, SqlMigration] = {}
    for path in sorted(directory.glob("*.sql")):
        if _outside(folder, path):
            continue
        _add_file(folder, found, path)
    for migration in found.values():
        if migration.up is None:
            folder.problems.append(Problem("sql-migration-folder", migration.down,
                                           f"{migration.down.name} has no UP file for version {migration.label}"))
        elif migration.down is None and migration.paired:
            folder.problems.append(Problem("sql-migration-gap", migration.up,
                                           f"{migration.up.name} has no DOWN file: a downgrade through "
                                           f"{migration.label} will be refused"))
    migrations = {v: m for v, m in found.items() if m.up is not None}
    _apply_config(folder, migrations)
    folder.migrations = _ordered(folder, migrations)
    numbers = sorted(migrations)
    for before, after in zip(numbers, numbers[1:]):
        if after != before + 1:
            folder.problems.append(Problem("sql-migration-gap", migrations[after].up,
                                           f"version {migrations[after].label} follows {migrations[before].label}: "
                                           f"{after - before - 1} version number(s) missing"))
    return folder


def _outside(folder: SqlFolder, path: Path) -> bool:
    """A link that leads out of the folder is not read: the folder is what was reviewed, and a
    link to /etc/... or another project's files would run or show what nobody meant to."""
    if not path.is_symlink() or path.resolve().is_relative_to(folder.directory):
        return False
    folder.problems.append(Problem("sql-migration-folder", path,
                                   f"{path.name} is a link to a file outside the folder; it is not read"))
    return True


def _add_file(folder: SqlFolder, found: dict, path: Path) -> None:
    for pattern, paired in ((_PAIRED, True), (_GOLANG, True), (_SINGLE, False)):
        match = pattern.match(path.name)
        if match:
            break
    else:
        folder.problems.append(Problem("sql-migration-folder", path,
                                       f"{path.name} does not follow a known naming scheme (NNN_name_UP.sql, "
                                       "N_name.up.sql or NNN_name.sql); it is ignored"))
        return
    number, name = int(match.group(1)), match.group(2)
    direction = match.group(3).lower() if paired else "up"
    if number == BOOTSTRAP_VERSION:
        folder.bootstrap = folder.bootstrap or path    # `init` creates the tracking table instead
        return
    migration = found.setdefault(number, SqlMigration(number, match.group(1), name, paired=paired))
    slot = "up" if direction == "up" else "down"
    existing = getattr(migration, slot)
    if existing is not None:
        folder.problems.append(Problem("sql-migration-folder", path,
                                       f"duplicate version {match.group(1)}: {existing.name} and {path.name}"))
        return
    if direction == "up":
        migration.name, migration.label, migration.paired = name, match.group(1), paired
    setattr(migration, slot, path)


def _apply_config(folder: SqlFolder, migrations: dict) -> None:
    path = folder.directory / CONFIG_FILE
    if not path.is_file():
        return
    if path.is_symlink() and not path.resolve().is_relative_to(folder.directory):
        raise ConfigurationError(f"{path} is a link to a file outside the folder; it is not read")
    data = load_yaml(path)
    entries = data.get("migrations") or []
    if not isinstance(entries, list):
        raise ConfigurationError(f"{path}: 'migrations' must be a list")
    for entry in entries:
        if not isinstance(entry, dict):
            raise ConfigurationError(f"{path}: each entry of 'migrations' must be a mapping")
        number = version_number(entry.get("version"))
        if number is None and entry.get("filename"):
            match = re.match(r"(\d+)_", str(entry["filename"]))
            number = int(match.group(1)) if match else None
        migration = migrations.get(number)
        if migration is None:
            folder.problems.append(Problem("sql-migration-folder", path,
                                           f"{CONFIG_FILE} lists version {entry.get('version')} "
                                           f"({entry.get('filename') or 'no file name'}) but no such file exists"))
            continue
        migration.description = entry.get("description") or None
        dependencies = entry.get("dependencies") or []
        migration.dependencies = tuple(str(d) for d in (dependencies if isinstance(dependencies, list)
                                                        else [dependencies]))
        migration.rollback_supported = entry.get("rollback_supported", True) is not False
    settings = data.get("settings") or {}
    execution = settings.get("execution") or {} if isinstance(settings, dict) else {}
    backup = settings.get("backup") or {} if isinstance(settings, dict) else {}
    try:
        folder.settings = ExecutionSettings(
            timeout_seconds=_optional_int(execution.get("timeout_seconds")),
            retry_attempts=_optional_int(execution.get("retry_attempts")),
            retry_delay_seconds=None if execution.get("retry_delay_seconds") is None
            else float(execution["retry_delay_seconds"]),
            backup_retention_days=_optional_int(backup.get("backup_retention_days")))
    except (TypeError, ValueError, AttributeError):
        raise ConfigurationError(f"{path}: settings.execution/settings.backup values must be numbers") from None


def _optional_int(value) -> Optional[int]:
    if value is None:
        return None
    number = int(value)
    if number < 0:
        raise ValueError(value)
    return number


# A migration_config.yaml lists files and settings: a few kilobytes. The bounds stop a file that
# would exhaust memory or time: too large, or a few lines whose aliases expand to billions of nodes.
MAX_YAML_BYTES = 1 << 20
MAX_YAML_NODES = 100_000


def load_yaml(path: Path) -> dict:
    """The yaml file as a mapping; malformed yaml is a configuration error naming the line."""
    import yaml

    loader = None
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_YAML_BYTES + 1)
        if len(raw) > MAX_YAML_BYTES:
            raise ConfigurationError(f"{path} is larger than {MAX_YAML_BYTES // 1024} KiB; a migration config "
                                     "is a list of files and settings")
        loader = yaml.SafeLoader(raw.decode("utf-8"))
        node = loader.get_single_node()
        if node is not None and _expanded_size(node) > MAX_YAML_NODES:
            raise ConfigurationError(f"{path}: its aliases expand to more than {MAX_YAML_NODES} values; "
                                     "write the entries out instead of repeating anchors")
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigurationError(f"{path}{where}: malformed yaml: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"{path}:1: expected a mapping with 'migrations' and 'settings'")
    return data


def _expanded_size(root) -> int:
    """How many values the document holds once every alias is expanded, counted without
    expanding (each node's size once); a node that contains itself counts as unbounded."""
    import yaml

    sizes: dict = {}
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes and sizes[id(node)] is not None:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) \
            else list(node.value)
        if children_done:
            sizes[id(node)] = min(1 + sum(sizes[id(child)] for child in children), MAX_YAML_NODES + 1)
            continue
        if id(node) in sizes:           # met again while its children are still being counted
            return MAX_YAML_NODES + 1
        sizes[id(node)] = None
        stack.append((node, True))
        stack.extend((child, False) for child in children if sizes.get(id(child)) is None)
    return sizes[id(root)]


def _ordered(folder: SqlFolder, migrations: dict) -> list:
    """File-number order, except that a migration runs after the ones it depends on. A missing
    dependency or a cycle is a finding; the migrations caught in a cycle keep their number order
    so the plan can still be shown (validation refuses to run it)."""
    config = folder.directory / CONFIG_FILE
    depends: dict[int, set] = {}
    for number, migration in migrations.items():
        depends[number] = set()
        for dependency in migration.dependencies:
            target = version_number(dependency)
            if target not in migrations:
                folder.problems.append(Problem("sql-migration-folder", config,
                                               f"{migration.label} depends on {dependency}, which is not in the folder"))
            elif target != number:
                depends[number].add(target)
    ordered, placed = [], set()
    remaining = sorted(migrations)
    while remaining:
        ready = [n for n in remaining if depends[n] <= placed]
        if not ready:
            cycle = ", ".join(migrations[n].label for n in remaining)
            folder.problems.append(Problem("sql-migration-folder", config,
                                           f"dependency cycle among versions {cycle}"))
            ready = remaining[:1]
        chosen = ready[0]
        ordered.append(migrations[chosen])
        placed.add(chosen)
        remaining.remove(chosen)
    return ordered


# -- a file's statements ----------------------------------------------------------------------------

@dataclass
class Statement:
    line: int           # 1-based line of the statement in its file
    text: str


@dataclass
class Script:
    path: Path
    statements: list            # what the wrapper runs
    skipped: list               # the file's own transaction control and bookkeeping, left out
    no_transaction: bool

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def read_script(path: Path) -> Script:
    """The file split into statements (sqlparse: dollar quotes and function bodies stay whole),
    without its top-level BEGIN/COMMIT (the wrapper owns the transaction, so a COMMIT in the file
    cannot commit half a migration) and without its own schema_migrations statements (the
    wrapper writes that row, in the same transaction)."""
    from sqlparse import tokens as T
    from sqlparse.engine import FilterStack

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path}: {exc}") from None
    statements, skipped, line = [], [], 1
    for statement in FilterStack().run(text):
        raw = str(statement)
        start = line
        for token in statement.flatten():
            if token.is_whitespace or token.ttype in T.Comment:
                start += token.value.count("\n")
                continue
            break
        line += raw.count("\n")
        code = "".join(" " if t.ttype in T.Comment else t.value for t in statement.flatten()).strip()
        if not code.rstrip(";").strip():
            continue
        if _TRANSACTION_CONTROL.match(code) or _OWN_BOOKKEEPING.match(code):
            skipped.append(Statement(start, code))
        else:
            statements.append(Statement(start, raw.strip()))
    return Script(path, statements, skipped, bool(NO_TRANSACTION.search(text)))
