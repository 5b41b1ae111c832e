"""Scoped backups: a backup whose cost follows the change, not the database.

Before a run the pending revisions are read as the validator reads them (``op.*`` calls, the SQL
inside ``op.execute`` and SQL migration files). When every operation names the tables it can
change, the backup holds the whole schema plus the data of those tables only: one ``pg_dump``
with ``--exclude-table-data`` for every other table, so the archive is verified, listed and
selectively restored like any other. The scope also takes in

- the tables a cascade reaches: a table whose foreign key to a scoped table says ``ON DELETE`` /
  ``ON UPDATE`` ``CASCADE``, ``SET NULL`` or ``SET DEFAULT`` (transitively), when the plan deletes or
  updates rows; every referencing table for a ``TRUNCATE ... CASCADE``;
- the version table.

It is not certain — and the backup is the whole database, with the reason in the sidecar — when a
revision builds SQL at run time, runs ORM session code, opens a connection of its own, starts a
program (psql in a subprocess, os.system), loads a native library (ctypes), hands its connection
to a function of a module it imports, calls a function or runs a DO block whose effect is
unknown, changes something other than tables (a function, a type, an extension); when a scoped
table has a user trigger or a rule (they can write anywhere), is a view, a foreign table, or takes
part in partitioning or inheritance; when an event trigger is enabled; when the validator cannot
read a revision; or when the selective restore, which a scoped backup is restored with, is
unavailable (PostgreSQL before 15, the setting off, a plain-SQL backup, no photograph).

What the reading cannot see — a column default calling a function that writes another table, for
one — is caught afterwards: ``changes_outside`` compares the photograph taken before the run with
one taken after it, and a committed change to a table outside the scope makes the run end
needing attention (exit 4), naming the tables. A scoped backup is restored only through the
selective restore, with the photograph kept beside it (``backup_X.photo.json``, its SHA-256 in the
signed sidecar); a whole-database restore from it is refused, since it would empty every other
table. For recovering by hand, ``backup_X.scope.list`` beside it is the ``pg_restore -L`` list that
restores its scope and nothing else (docs/backups.md, "A scoped backup, by hand").
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from ..base.errors import ConfigurationError, RestoreError, ToolError
from ..postgres.tools import Tool, query_all
from .catalog import BackupInfo, ProgressCallback, photograph_path, scope_list_path, signing_key, write_sidecar
from .directory import replace_privately
from .restore import OpenedArchive, RestoreResult, archive_toc, toc_without_schemas
from .selective_restore import (_CONSTRAINT_CATALOG, NotCertain, Photograph, Relation, _changed, _only_indexes_changed,
                                photograph, select_toc_entries, try_selective_restore, wait_for_backends_to_exit)

SCOPE_VALUES = ("auto", "full")
SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")

# Operations that change no table's rows or definition beyond its indexes: no data to keep.
_NO_DATA_KINDS = {"create_index", "drop_index", "reindex", "lock_table", "transaction_control", "timeout_override"}
# Operations that delete or update rows of their table: a cascading foreign key carries them on
# (an INSERT may be an upsert).
_DELETING_KINDS = {"delete"}
_UPDATING_KINDS = {"update", "insert"}
_UNCERTAIN_KINDS = {
    "runtime_sql": "builds SQL at run time",
    "side_connection": "opens a connection of its own",
    "enum_add_value": "changes a type",
    "create_type": "creates a type",
    "rename_enum_value": "changes a type",
    "create_schema": "creates a schema",
    "rename_schema": "renames a schema",
    "vacuum_full": "rewrites tables it does not name",
    "cluster": "rewrites tables it does not name",
}
_IDENT = r'(?:"[^"]+"|[\w$]+)(?:\.(?:"[^"]+"|[\w$]+))?'
# Words followed by "(" that are SQL syntax or functions without side effects, not a call whose
# effect is unknown.
_HARMLESS_CALLS = frozenset("""
    select from where and or not in exists any all some values as on using join set when then else case array row
    cast into by over filter within table returning with coalesce nullif greatest least lower upper trim btrim
    ltrim rtrim length char_length substring substr replace concat concat_ws format now date_trunc extract
    to_char to_date to_timestamp round floor ceil abs jsonb_build_object json_build_object jsonb_set to_jsonb
    to_json array_agg string_agg count sum max min avg md5 split_part left right position regexp_replace
    gen_random_uuid nextval btree gin gist hash brin numeric decimal varchar char character varying timestamp
    timestamptz time interval bit float double precision primary key unique check references foreign generated
    identity default enum
""".split())


@dataclass
class BackupScope:
    """What the backup holds: ``tables`` (schema.table) whose data it keeps, or None for all;
    ``note`` why it is whole, or what it covers."""
    tables: Optional[list]
    note: str
    excluded: list = field(default_factory=list)      # (schema, table) whose data is left out
    photograph: bytes = b""                           # the photograph as kept beside the backup
    uncertain: bool = False                           # whole because the plan could not be bounded

    @property
    def is_scoped(self) -> bool:
        return self.tables is not None

    def covers(self, other: "BackupScope") -> bool:
        """Whether a backup of this scope protects everything ``other`` would."""
        return not self.is_scoped or (other.is_scoped and set(other.tables) <= set(self.tables))

    def dump_options(self) -> list:
        return [f"--exclude-table-data={_pattern(schema, name)}" for schema, name in self.excluded]

    def record(self, info: BackupInfo) -> None:
        info.scope_tables = list(self.tables) if self.tables is not None else None
        info.scope_note = self.note
        info.scope_photograph_sha256 = hashlib.sha256(self.photograph).hexdigest() if self.photograph else ""


def whole(reason: str, *, uncertain: bool = False) -> BackupScope:
    return BackupScope(None, reason, uncertain=uncertain)


def _pattern(schema: str, name: str) -> str:
    """A pg_dump pattern matching exactly this table (quoted: no wildcard, no case folding)."""
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def describe(info: BackupInfo) -> str:
    """One line for ``backups list`` and messages."""
    if not info.is_scoped:
        return "full" + (f" ({info.scope_note})" if info.scope_note else "")
    return f"tables: {', '.join(info.scope_tables) or 'none'}"


# -- reading the plan ------------------------------------------------------------------------------
@dataclass
class PlanReading:
    names: set = field(default_factory=set)               # table names the operations change
    deletes: set = field(default_factory=set)             # ... whose rows they delete
    updates: set = field(default_factory=set)             # ... whose rows they update
    truncate_cascade: set = field(default_factory=set)    # ... truncated with CASCADE
    uncertain: Optional[str] = None


def read_plan(paths: Iterable[str], direction: str, source_kind: str) -> PlanReading:
    """The tables the pending revisions (their files) can change, as the validator reads them."""
    from ..validation.checker import read_file
    from ..validation.sql_files import read_sql_file

    reading = PlanReading()
    for path in paths:
        label = Path(path).name
        if source_kind == "sql":
            if direction != "upgrade":
                reading.uncertain = f"{label}: a SQL folder's downgrade is not read"
                return reading
            operations = read_sql_file(Path(path)).operations.get("upgrade", [])
        else:
            revision_file = read_file(Path(path))
            if revision_file.source is None:
                reading.uncertain = f"{label} cannot be read ({revision_file.problem})"
                return reading
            escapes = _escapes_the_reading(revision_file.source.tree)
            if escapes:
                reading.uncertain = f"{label} line {escapes[1]} {escapes[0]}, which can write anywhere"
                return reading
            operations = revision_file.operations.get(direction, [])
        for operation in operations:
            why = _operation_uncertainty(operation, reading)
            if why:
                reading.uncertain = f"{label} line {operation.line} {why}"
                return reading
    return reading


_PROGRAM_MODULES = ("subprocess", "pty", "multiprocessing")
_PROGRAM_FUNCTIONS = ("system", "popen", "posix_spawn", "posix_spawnp")
_NATIVE_MODULES = ("ctypes", "cffi")
_READ_LIBRARIES = ("sqlalchemy", "alembic")       # what they do with a connection is read as operations


def _escapes_the_reading(tree) -> Optional[tuple]:
    """(why, line) of the first thing in the revision whose writes no reading of it can follow —
    a program it starts (psql in a subprocess, os.system), a native library it loads (libpq
    through ctypes), its connection handed to a function of a module it imports (the application's
    helper) — else None. A helper defined in the revision itself is read with it."""
    if tree is None:
        return None
    modules = {}                # local name -> the module it was imported from
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules.update({(alias.asname or alias.name).split(".")[0]: alias.name for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.update({alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names})
    bound = {target.id for node in ast.walk(tree) if isinstance(node, ast.Assign) and _holds_the_bind(node.value)
             for target in node.targets if isinstance(target, ast.Name)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        root, name = _called(node.func)
        origin = modules.get(root, "")
        top = origin.split(".")[0]
        function = origin.rsplit(".", 1)[-1] if root == name else name
        if top in _PROGRAM_MODULES or (top == "os" and (function in _PROGRAM_FUNCTIONS
                                                        or function.startswith(("exec", "spawn")))):
            return f"runs a program ({root}{'.' + name if name != root else ''})", node.lineno
        if top in _NATIVE_MODULES:
            return f"loads a native library ({root}{'.' + name if name != root else ''})", node.lineno
        if origin and top not in _READ_LIBRARIES and any(
                _holds_the_bind(argument, bound) for argument in [*node.args, *(k.value for k in node.keywords)]):
            return f"hands its connection to {ast.unparse(node.func)}(), which is not read", node.lineno
    return None


def _called(func) -> tuple:
    """(the root name, the last name) of a called expression: ``a.b.c(...)`` -> ("a", "c")."""
    last = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    while isinstance(func, (ast.Attribute, ast.Call)):
        func = func.value if isinstance(func, ast.Attribute) else func.func
    return getattr(func, "id", ""), last


def _holds_the_bind(node, bound: frozenset = frozenset()) -> bool:
    """Whether ``node`` is or reaches into the migration's connection (``op.get_bind()``, or a
    name assigned from it)."""
    for inner in ast.walk(node):
        if isinstance(inner, ast.Name) and inner.id in bound:
            return True
        if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) and inner.func.attr == "get_bind" \
                and isinstance(inner.func.value, ast.Name) and inner.func.value.id == "op":
            return True
    return False


def _operation_uncertainty(operation, reading: PlanReading) -> Optional[str]:
    """Adds what the operation changes to ``reading``; returns why it cannot be bounded, if so."""
    kind, table = operation.kind, operation.table
    if kind in _UNCERTAIN_KINDS:
        return _UNCERTAIN_KINDS[kind]
    if operation.via == "orm":
        return "runs ORM session code"
    statement = operation.get("statement")
    if operation.via == "sql" and statement is not None:
        if len(statement) >= 200:
            return "runs a statement too long to be read whole"
        called = _unknown_call(statement)
        if called:
            return f"calls {called}(), whose effect is unknown"
    if kind == "sql":
        table, kind, why = _other_statement(statement or "")
        if why:
            return why
        if table is None:
            return None
    if kind in _NO_DATA_KINDS:
        return None
    if table is None:
        return f"runs {operation.get('name') or kind} on a table it does not name"
    reading.names.add(table)
    if kind in _DELETING_KINDS:
        reading.deletes.add(table)
    if kind in _UPDATING_KINDS:
        reading.updates.add(table)
    if kind == "truncate":
        upper = (statement or "").upper()
        if "," in upper.split(" RESTART")[0].split(" CONTINUE")[0]:
            return "truncates several tables"
        if re.search(r"\bCASCADE\b", upper):
            reading.truncate_cascade.add(table)
    return None


def _unknown_call(statement: str) -> Optional[str]:
    text = re.sub(r"'(?:[^']|'')*'", "''", statement)
    # a relation's name before its column list is no call
    text = re.sub(rf"(?i)\b(TABLE|INTO|REFERENCES|ON|ONLY|EXISTS|USING)\s+{_IDENT}\s*\(", r"\1 (", text)
    for match in re.finditer(r'([A-Za-z_][\w$]*(?:\.[A-Za-z_][\w$]*)?|"[^"]+")\s*\(', text):
        name = match.group(1).strip('"').lower()
        if name.split(".")[-1] not in _HARMLESS_CALLS:
            return name
    return None


def _other_statement(statement: str) -> tuple:
    """(table, kind, why uncertain) of a statement the validator files as plain "sql"."""
    from ..validation.operations import normalize_table

    text = " ".join(re.sub(r"'(?:[^']|'')*'", "''", statement).split())
    upper = text.upper()
    match = re.match(rf"INSERT INTO ({_IDENT})", text, re.I)
    if match:
        return normalize_table(match.group(1)), "insert", None
    match = re.match(rf"(?:COMMENT ON (?:TABLE|COLUMN)|ANALYZE(?: VERBOSE)?|GRANT .* ON (?:TABLE )?|"
                     rf"REVOKE .* ON (?:TABLE )?|CREATE POLICY {_IDENT} ON) ({_IDENT})", text, re.I)
    if match:
        name = match.group(1)
        if upper.startswith("COMMENT ON COLUMN") and name.count(".") >= 1:
            name = name.rsplit(".", 1)[0]
        return normalize_table(name), "comment", None
    if re.match(r"(SELECT|CREATE (OR REPLACE )?VIEW|CREATE SEQUENCE|SET|RESET|SHOW)\b", upper):
        return None, "sql", None
    return None, "sql", f"runs {' '.join(upper.split()[:2]) or 'a statement'}, whose effect is not bounded"


# -- the database's facts --------------------------------------------------------------------------
_RELATIONS_SQL = """
SELECT c.oid, n.nspname, c.relname, c.relkind,
       EXISTS (SELECT 1 FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
       EXISTS (SELECT 1 FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'),
       c.relkind = 'p' OR c.relispartition OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h
                                                      WHERE h.inhrelid = c.oid OR h.inhparent = c.oid)
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND NOT (n.nspname = ANY(%(skipped)s))
  AND n.nspname NOT LIKE 'pg\\_temp\\_%%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND x.objid = c.oid AND x.deptype = 'e')"""
_FOREIGN_KEYS_SQL = """
SELECT conrelid, confrelid, confdeltype IN ('c', 'n', 'd'), confupdtype IN ('c', 'n', 'd')
FROM pg_catalog.pg_constraint WHERE contype = 'f'"""
_EVENT_TRIGGERS_SQL = "SELECT evtname FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D' ORDER BY evtname"
_KIND_WORDS = {"v": "a view", "m": "a materialized view", "f": "a foreign table"}


@dataclass(frozen=True)
class _Table:
    oid: int
    schema: str
    name: str
    kind: str
    has_triggers: bool
    has_rules: bool
    inherits: bool

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def decide_scope(connection, paths: Iterable[str], direction: str, source_kind: str, *, setting: str,
                 photographed: bool, backup_format: str, excluded_schemas: Iterable[str],
                 always: Iterable[str] = ()) -> BackupScope:
    """The backup's scope for the revision files ``paths`` run in ``direction`` (see the module
    docstring). ``always``: table names kept
    whatever the plan (the version table). ``photographed``: the selective restore's photograph
    was taken before the backup (without it a scoped backup could not be restored)."""
    if setting == "full":
        return whole("backup_scope = full")
    if not photographed:
        return whole("auto: the selective restore a scoped backup needs is unavailable")
    if backup_format == "plain":
        return whole("auto: a plain SQL backup is restored whole")
    reading = read_plan(paths, direction, source_kind)
    if reading.uncertain:
        return whole(f"auto: {reading.uncertain}", uncertain=True)
    excluded_schemas = tuple(excluded_schemas)
    tables = [_Table(*row) for row in query_all(connection, _RELATIONS_SQL,
                                                {"skipped": [*SYSTEM_SCHEMAS, *excluded_schemas]})]
    by_name: dict = {}
    for table in tables:
        by_name.setdefault(table.name.lower(), []).append(table)
    by_oid = {table.oid: table for table in tables}
    chosen = {t.oid for name in reading.names | set(always) for t in by_name.get(name.lower(), [])}
    def oids(names):
        return {t.oid for name in names for t in by_name.get(name.lower(), [])}

    chosen |= _cascade_reach(query_all(connection, _FOREIGN_KEYS_SQL), oids(reading.deletes), oids(reading.updates),
                             oids(reading.truncate_cascade))
    for oid in sorted(chosen, key=lambda o: by_oid[o].qualified if o in by_oid else ""):
        table = by_oid.get(oid)
        if table is None:
            continue
        if table.kind in _KIND_WORDS:
            return whole(f"auto: {table.qualified} is {_KIND_WORDS[table.kind]}; what it writes through is not "
                         "followed", uncertain=True)
        if table.has_triggers:
            return whole(f"auto: {table.qualified} has a trigger, which can write anywhere", uncertain=True)
        if table.has_rules:
            return whole(f"auto: {table.qualified} has a rule, which can write anywhere", uncertain=True)
        if table.inherits:
            return whole(f"auto: {table.qualified} takes part in partitioning or inheritance", uncertain=True)
    events = [row[0] for row in query_all(connection, _EVENT_TRIGGERS_SQL)]
    if events:
        return whole(f"auto: event trigger {events[0]} runs on schema changes and can write anywhere",
                     uncertain=True)
    kept = sorted(by_oid[oid].qualified for oid in chosen if oid in by_oid)
    left_out = sorted((t.schema, t.name) for t in tables if t.kind == "r" and t.oid not in chosen)
    return BackupScope(kept, f"auto: the tables the {direction} can change", left_out)


def _cascade_reach(foreign_keys: list, deleted: set, updated: set, truncated: set) -> set:
    """Tables whose rows a delete, update or truncate of the given tables changes through
    foreign keys, transitively (a table reached may have rows deleted and updated in turn)."""
    frontier = [(oid, "delete") for oid in deleted] + [(oid, "update") for oid in updated] + \
        [(oid, "truncate") for oid in truncated]
    reached = set()
    while frontier:
        oid, how = frontier.pop()
        for referencing, referenced, on_delete, on_update in foreign_keys:
            follows = {"delete": on_delete, "update": on_update, "truncate": True,
                       "both": on_delete or on_update}[how]
            if referenced == oid and follows and referencing not in reached:
                reached.add(referencing)
                frontier.append((referencing, "truncate" if how == "truncate" else "both"))
    return reached


# -- the photograph kept beside a scoped backup ----------------------------------------------------
def photograph_bytes(photo: Photograph) -> bytes:
    document = {
        "relations": [asdict(relation) for relation in photo.relations.values()],
        "owned": [[catalog, obj, relation, name] for (catalog, obj), (relation, name) in photo.owned.items()],
        "other_objects": photo.other_objects, "database_signature": photo.database_signature,
        "stats_reset": photo.stats_reset, "has_large_objects": photo.has_large_objects,
        "excluded_schemas": list(photo.excluded_schemas), "search_path": photo.search_path,
    }
    return json.dumps(document, sort_keys=True).encode()


def with_photograph(scope: BackupScope, photo: Optional[Photograph]) -> BackupScope:
    if scope.is_scoped and photo is not None:
        scope.photograph = photograph_bytes(photo)
    return scope


def keep_photograph(info: BackupInfo, scope: BackupScope) -> None:
    """Written beside the published backup, owner-only; its digest is already in the signed sidecar."""
    if not scope.is_scoped:
        return
    replace_privately(photograph_path(info.path), scope.photograph)


_FOREIGN_KEYS_TO_SQL = """
SELECT oid FROM pg_catalog.pg_constraint
WHERE contype = 'f' AND confrelid = ANY(%(scoped)s) AND NOT conrelid = ANY(%(scoped)s)"""


def keep_restore_list(archive: OpenedArchive, info: BackupInfo, photo: Optional[Photograph], connection,
                      pg_restore: Tool) -> None:
    """``backup_X.scope.list`` beside a scoped backup: the ``pg_restore -L`` list that restores its
    scope by hand — its tables dropped and rebuilt with their rows, sequences, defaults,
    constraints, indexes, triggers, comments and grants, and other tables' foreign keys to them
    dropped and re-added (``pg_restore --clean`` drops in the list's reverse order) — so that a
    reader who restores it by hand need not work out which entries those are. Its comment lines
    say what it is and the command. Left out (the wrapper's ``restore`` still works, and
    docs/backups.md says how to build the list by hand) when the archive cannot be matched with
    the photograph or the list cannot be written: it is a convenience, never a reason to fail a run."""
    import psycopg2

    if not info.is_scoped or photo is None:
        return
    kept = set(info.scope_tables)
    touched = {oid: relation for oid, relation in photo.relations.items()
               if relation.kind == "r" and f"{relation.schema}.{relation.name}" in kept}
    try:
        referencing = {(_CONSTRAINT_CATALOG, row[0]) for row in
                       query_all(connection, _FOREIGN_KEYS_TO_SQL, {"scoped": sorted(touched)})}
        toc = toc_without_schemas(archive_toc(archive, pg_restore), photo.excluded_schemas)
        lines = select_toc_entries(toc, photo, touched, [], referencing & set(photo.owned))
    except (NotCertain, ToolError, RestoreError, psycopg2.Error):
        return
    name = info.path.name
    read = f"zstd -dc {name} | pg_restore" if info.format == "custom-zstd" else "pg_restore"
    header = [
        f";; {name} is a SCOPED backup: it holds the whole schema but the rows of",
        f";; {', '.join(info.scope_tables) or 'no table'} only. Restored whole (pg_restore --clean -d DB without",
        ";; this list) it would recreate every other table EMPTY. This list restores its scope and",
        ";; nothing else, in one transaction:",
        f";;   {read} --clean --if-exists --single-transaction -L {scope_list_path(info.path).name} -d DB"
        + ("" if info.format == "custom-zstd" else f" {name}"),
        ";; (docs/backups.md, \"A scoped backup, by hand\")",
    ]
    content = ("\n".join(header + lines) + "\n").encode()
    path = scope_list_path(info.path)
    try:
        replace_privately(path, content)
        # signed with the rest: `backups verify` tells a changed list from the one written here
        info.scope_list_sha256 = hashlib.sha256(content).hexdigest()
        write_sidecar(info, signing_key(info.path.parent))
    except (OSError, ConfigurationError):
        info.scope_list_sha256 = ""
        path.unlink(missing_ok=True)


def load_photograph(info: BackupInfo) -> Photograph:
    path = photograph_path(info.path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{path.name}, the photograph a scoped backup is restored with, cannot be read "
                                 f"({exc.strerror or exc}); {refusal(info)}") from None
    if hashlib.sha256(raw).hexdigest() != info.scope_photograph_sha256:
        raise ConfigurationError(f"{path.name} differs from the one the sidecar recorded; {refusal(info)}")
    document = json.loads(raw)
    relations = {}
    for fields in document["relations"]:
        relations[fields["oid"]] = Relation(**fields)
    owned = {(catalog, obj): (relation, name) for catalog, obj, relation, name in document["owned"]}
    return Photograph(relations, owned, document["other_objects"], document["database_signature"],
                      document["stats_reset"], document["has_large_objects"], tuple(document["excluded_schemas"]),
                      document["search_path"])


def refusal(info: BackupInfo) -> str:
    return (f"{info.path.name} holds the data of {', '.join(info.scope_tables) or 'no table'} only (a scoped "
            "backup): a whole-database restore from it would empty every other table, so it is refused")


# -- after the run -----------------------------------------------------------------------------------
def changes_outside(before: Photograph, after: Photograph, scope_tables: Iterable[str]) -> list:
    """Tables outside the scope whose rows or definition changed between the photographs (a
    change to their indexes alone needs no data: it is rebuilt from the schema)."""
    kept = set(scope_tables)
    outside = []
    for oid, old in before.relations.items():
        if old.kind != "r" or f"{old.schema}.{old.name}" in kept:
            continue
        new = after.relations.get(oid)
        if new is None or (_changed(old, new) and not _only_indexes_changed(old, new)):
            outside.append(f"{old.schema}.{old.name}")
    return sorted(outside)


def unprotected_message(tables: list) -> str:
    return (f"the run committed changes to {', '.join(tables)}, outside its scoped backup: had it failed, "
            "they could not have been restored. Set backup_scope = full (MIGRATION_BACKUP_SCOPE=full) for "
            "migrations like this one")


def changes_outside_after_run(connection, before: Photograph, scope_tables: Iterable[str], *, pids: Iterable[int],
                              application_name: str) -> Optional[str]:
    """None when everything the run committed lies inside the scope; otherwise what to tell the
    user (the tables, or why it could not be checked — which is no reason to be silent)."""
    still_open = wait_for_backends_to_exit(connection, pids, application_name)
    if still_open:
        return f"what the run committed outside its scoped backup could not be checked ({still_open})"
    after = photograph(connection, before.excluded_schemas)
    if after.stats_reset != before.stats_reset:
        return "what the run committed outside its scoped backup could not be checked (statistics were reset)"
    outside = changes_outside(before, after, scope_tables)
    return unprotected_message(outside) if outside else None


NOTHING_CHANGED = "nothing: no relation changed since the backup"


def unchanged_since(why_not: str) -> bool:
    """Whether the selective restore declined because no relation changed since the photograph
    (definitions, files, committed rows, sequences, and the other objects alike): the database is
    as the backup found it, and a scoped backup has nothing to restore."""
    return why_not.startswith("no changed relation")


def restore_scope(settings, archive: OpenedArchive, info: BackupInfo, *, connection, server_major: int, tools: dict,
                  application_name: str, progress: Optional[ProgressCallback] = None) -> RestoreResult:
    """``restore``/``recover`` of a scoped backup: the selective restore against the photograph
    taken before it, so only the relations changed since are rebuilt — which must lie inside its
    scope. Anything else is refused (ConfigurationError) with the database untouched."""
    before = load_photograph(info)
    restored, why_not = try_selective_restore(settings, archive, before, connection=connection, pids=(),
                                              application_name=application_name, server_major=server_major,
                                              tools=tools, progress=progress)
    if restored is None and unchanged_since(why_not):
        return RestoreResult(archive.path, 0.0, True, mode="scope", restored_objects=NOTHING_CHANGED)
    if restored is None and why_not.startswith("the selective restore did not complete"):
        raise RestoreError(why_not)         # a tool failed; the transaction rolled back
    if restored is None:
        raise ConfigurationError(f"{info.path.name} can restore only its scope ({', '.join(info.scope_tables)}) "
                                 f"and that is not enough here: {why_not}; the database was not touched",
                                 hint="restore a full backup (`backups list` shows each backup's scope)")
    restored.mode = "scope"
    return restored
