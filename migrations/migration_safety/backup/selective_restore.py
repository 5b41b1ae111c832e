"""Restoring only what a failed run touched, instead of the whole database.

A full restore costs time proportional to the database; a failed migration usually touched a
few tables. Before the backup we photograph every relation: an OID-free signature of its
definition (columns, constraints, indexes, triggers, policies, comments, grants...), its
relfilenode (TRUNCATE and rewrites change it), its committed row changes from the cumulative
statistics (``n_mod_since_analyze``, which an aborted transaction does not raise — so a table
whose changes the failed revision's own transaction rolled back is not reloaded — with the
ANALYZE counts that reset it) and, for sequences, the position. After the failure we take
the same photograph once every connection the migration opened has ended (a backend flushes its
counters before it leaves ``pg_stat_activity``). The relations whose photograph changed, those
that appeared or disappeared, and everything ``DROP ... CASCADE`` of them would reach, are the
*touched set*. Two finer grains keep large neighbours out of it: a table whose standalone indexes
alone changed gets only those indexes rebuilt, and another table's foreign key to a touched table
is re-added rather than that table reloaded.

The restore then runs, like the full one, as ONE ``psql --single-transaction``:

1. ``DROP ... CASCADE`` of the touched relations that exist now and of the new ones;
2. from the archive (``pg_restore -L``), exactly the entries of the touched relations: table,
   data, owned sequences, defaults, constraints, indexes, triggers, policies, comments, grants;
   the indexes and foreign keys rebuilt on their own; ``SEQUENCE SET`` for sequences that only
   moved;
3. a check, still inside the transaction, that the signature of every relation and of the
   non-relation objects equals the photograph taken before the run; if not, the transaction
   rolls back.

Afterwards the same schema comparison as the full restore (pg_dump against the archive) runs.
Whenever anything is not known for certain, ``plan_selective_restore`` says why and the caller
does the full restore instead: PostgreSQL older than 15 (its statistics collector could drop
counters), ``track_counts`` off, a migration connection still open, statistics reset, partitions
or inheritance in the touched set, a dependent object we do not know how to rebuild, a changed
function/type/schema/extension, an archive whose entries do not match the photograph, or an
archive kind we do not handle.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Iterable, Optional

from ..base.errors import RestoreError
from ..postgres.deparse import canonical_sql
from ..postgres.tools import Tool, query_all, query_one, quote_ident
from .catalog import ProgressCallback
from .restore import (OpenedArchive, RestoreResult, apply_in_one_transaction, archive_toc, prelude_sql,
                      schema_difference, toc_without_schemas)

MINIMUM_SERVER_MAJOR = 15       # shared-memory statistics: counters are flushed, never dropped

_RELATION_KINDS = {"r": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE", "f": "FOREIGN TABLE",
                   "p": "TABLE"}

# Archive entry kinds that may belong to a relation and that this module does not know how to
# select: their presence means the full restore.
_UNHANDLED_KINDS = ("PUBLICATION TABLE", "SECURITY LABEL", "INDEX ATTACH", "TABLE ATTACH")


def _user_namespaces(excluded: Iterable[str]) -> str:
    """SQL for the namespaces a restore manages; names are inlined (no parameters) because the
    same SQL also runs inside psql in the restore's closing check."""
    literal = ", ".join("'" + name.replace("'", "''") + "'" for name in ("pg_catalog", "information_schema",
                                                                         "pg_toast", *excluded))
    return (f"SELECT oid FROM pg_catalog.pg_namespace WHERE nspname NOT IN ({literal})"
            " AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'")


def _relation_signature_expression(include_indexes: bool = True) -> str:
    """Per relation (alias ``c``): its definition without any OID, so a relation dropped and
    recreated from the archive has the same signature as before. Without the indexes it is the
    relation's "core": when only indexes differ, only they are rebuilt."""
    indexes = _INDEXES_PART if include_indexes else "NULL"
    return """md5(concat_ws('|', c.relname, c.relkind, c.relpersistence, c.relowner::pg_catalog.regrole, c.relam,
        c.reltablespace,
        c.relacl::text, c.reloptions::text, c.relrowsecurity, c.relforcerowsecurity, c.relreplident,
        pg_catalog.obj_description(c.oid, 'pg_class'),
        (SELECT string_agg(concat_ws(':', a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod), a.attnotnull,
                pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), a.attidentity, a.attgenerated,
                a.attcollation::pg_catalog.regcollation, a.attacl::text, a.attoptions::text, a.attstattarget,
                a.attstorage, a.attcompression,
                pg_catalog.col_description(c.oid, a.attnum)), ',' ORDER BY a.attnum)
         FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
        (SELECT string_agg(concat_ws(':', co.conname, """ + canonical_sql("pg_catalog.pg_get_constraintdef(co.oid)") + """,
                pg_catalog.obj_description(co.oid, 'pg_constraint')), ',' ORDER BY co.conname)
         FROM pg_catalog.pg_constraint co WHERE co.conrelid = c.oid),
        """ + indexes + """,
        (SELECT string_agg(concat_ws(':', pg_catalog.pg_get_triggerdef(t.oid), t.tgenabled,
                pg_catalog.obj_description(t.oid, 'pg_trigger')), ',' ORDER BY t.tgname)
         FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal),
        (SELECT string_agg(concat_ws(':', p.polname, p.polcmd, p.polpermissive, p.polroles::text,
                pg_catalog.pg_get_expr(p.polqual, p.polrelid), pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid)),
                ',' ORDER BY p.polname)
         FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),
        (SELECT string_agg(pg_catalog.pg_get_ruledef(r.oid), ',' ORDER BY r.rulename)
         FROM pg_catalog.pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename <> '_RETURN'),
        CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid) END,
        (SELECT string_agg(pg_catalog.pg_get_statisticsobjdef(s.oid), ',' ORDER BY s.stxname)
         FROM pg_catalog.pg_statistic_ext s WHERE s.stxrelid = c.oid),
        (SELECT concat_ws(':', s.seqtypid::pg_catalog.regtype, s.seqstart, s.seqincrement, s.seqmax, s.seqmin,
                s.seqcache, s.seqcycle) FROM pg_catalog.pg_sequence s WHERE s.seqrelid = c.oid)))"""


# an index's definition as a restore gives it back (postgres.deparse: a partial index's predicate)
_INDEX_DEFINITION = canonical_sql("pg_catalog.pg_get_indexdef(i.indexrelid)")
_INDEX_SIGNATURE = f"""md5(concat_ws(':', {_INDEX_DEFINITION}, i.indisclustered,
    i.indisreplident, pg_catalog.obj_description(i.indexrelid, 'pg_class')))"""
_INDEXES_PART = f"""(SELECT string_agg({_INDEX_SIGNATURE}, ',' ORDER BY {_INDEX_DEFINITION})
         FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid)"""
# Indexes that are not a constraint's (those come and go with their constraint): name -> signature.
_STANDALONE_INDEXES = f"""(SELECT pg_catalog.jsonb_object_agg(ci.relname, {_INDEX_SIGNATURE})
         FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ci ON ci.oid = i.indexrelid
         WHERE i.indrelid = c.oid AND NOT EXISTS (
             SELECT 1 FROM pg_catalog.pg_constraint k WHERE k.conindid = i.indexrelid AND k.conrelid = c.oid
               AND k.contype IN ('p', 'u', 'x')))"""

_RELATION_FILTER = """c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND c.relnamespace IN ({namespaces})
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                  AND x.objid = c.oid AND x.deptype = 'e')"""


def _relations_sql(excluded: Iterable[str]) -> str:
    return f"""
SELECT c.oid, n.nspname, c.relname, c.relkind, c.relfilenode, c.relowner::pg_catalog.regrole::text,
       (c.relispartition OR c.relkind = 'p' OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h
                                                       WHERE h.inhrelid = c.oid OR h.inhparent = c.oid)),
       (SELECT d.refobjid FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid
          AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjsubid > 0
          AND d.deptype IN ('a', 'i') LIMIT 1),
       CASE WHEN c.relkind IN ('r', 'm') THEN concat_ws(':', pg_catalog.pg_stat_get_mod_since_analyze(c.oid),
            pg_catalog.pg_stat_get_analyze_count(c.oid) + pg_catalog.pg_stat_get_autoanalyze_count(c.oid),
            pg_catalog.pg_stat_get_tuples_inserted(c.oid) + pg_catalog.pg_stat_get_tuples_updated(c.oid)
            + pg_catalog.pg_stat_get_tuples_deleted(c.oid)) END,
       CASE WHEN c.relkind = 'S' THEN pg_catalog.pg_sequence_last_value(c.oid)::text END,
       {_relation_signature_expression()},
       {_relation_signature_expression(include_indexes=False)},
       {_STANDALONE_INDEXES}
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {_RELATION_FILTER.format(namespaces=_user_namespaces(excluded))}"""


def _owned_objects_sql(excluded: Iterable[str]) -> str:
    """(catalog, object oid, owning relation, name) of everything the archive lists per relation."""
    return f"""
SELECT owned.* FROM ({_owned_union()}) AS owned(catalog, object, relation, name)
JOIN pg_catalog.pg_class c ON c.oid = owned.relation
WHERE {_RELATION_FILTER.format(namespaces=_user_namespaces(excluded))}"""


def _owned_union() -> str:
    pairs = [("pg_class", "i.indexrelid", "i.indrelid",
              "(SELECT relname FROM pg_catalog.pg_class WHERE oid = i.indexrelid)", "pg_catalog.pg_index i"),
             ("pg_constraint", "oid", "conrelid", "conname", "pg_catalog.pg_constraint"),
             ("pg_attrdef", "oid", "adrelid", "NULL::name", "pg_catalog.pg_attrdef"),
             ("pg_trigger", "oid", "tgrelid", "tgname", "pg_catalog.pg_trigger"),
             ("pg_policy", "oid", "polrelid", "polname", "pg_catalog.pg_policy"),
             ("pg_rewrite", "oid", "ev_class", "rulename", "pg_catalog.pg_rewrite"),
             ("pg_statistic_ext", "oid", "stxrelid", "stxname", "pg_catalog.pg_statistic_ext")]
    return "\nUNION ALL ".join(
        f"SELECT 'pg_catalog.{catalog}'::pg_catalog.regclass::oid, {obj}, {rel}, {name} FROM {source}"
        for catalog, obj, rel, name, source in pairs)


def _other_objects_signature_sql(excluded: Iterable[str]) -> str:
    """Everything a selective restore does not rebuild: schemas, routines, types that are not a
    relation's row type, enum labels, extensions. A change here means the full restore."""
    namespaces = _user_namespaces(excluded)
    return f"""
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM (
    SELECT concat_ws(':', 'n', nspname, nspowner::pg_catalog.regrole, nspacl::text) AS item
    FROM pg_catalog.pg_namespace WHERE oid IN ({namespaces})
    UNION ALL
    SELECT concat_ws(':', 'p', p.pronamespace::pg_catalog.regnamespace, p.proname,
                     pg_catalog.pg_get_function_identity_arguments(p.oid), p.prokind, md5(p.prosrc), p.proacl::text)
    FROM pg_catalog.pg_proc p WHERE p.pronamespace IN ({namespaces})
    UNION ALL
    SELECT concat_ws(':', 't', t.typnamespace::pg_catalog.regnamespace, t.typname, t.typtype,
                     pg_catalog.format_type(t.typbasetype, t.typtypmod), t.typnotnull)
    FROM pg_catalog.pg_type t WHERE t.typnamespace IN ({namespaces}) AND t.typrelid = 0
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_type e WHERE e.oid = t.typelem AND e.typrelid <> 0)
    UNION ALL
    SELECT concat_ws(':', 'e', e.enumtypid::pg_catalog.regtype, e.enumsortorder, e.enumlabel)
    FROM pg_catalog.pg_enum e
    UNION ALL
    SELECT concat_ws(':', 'x', extname, extversion) FROM pg_catalog.pg_extension
) AS parts"""


# Large objects live outside any table and have no row counters: their presence means the full restore.
_HAS_LARGE_OBJECTS_SQL = "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_largeobject_metadata)"


def _database_signature_sql(excluded: Iterable[str]) -> str:
    """One value for the definition of every managed relation plus every other object."""
    return f"""
SELECT md5(coalesce((SELECT string_agg(n.nspname || '.' || c.relname || '=' || {_relation_signature_expression()},
                                       ',' ORDER BY n.nspname, c.relname)
                     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE {_RELATION_FILTER.format(namespaces=_user_namespaces(excluded))}), '')
           || ({_other_objects_signature_sql(excluded)}))"""


@dataclass(frozen=True)
class Relation:
    oid: int
    schema: str
    name: str
    kind: str
    filenode: int
    owner: str
    inherits: bool
    owned_by: Optional[int]         # the table a serial/identity sequence belongs to
    row_changes: Optional[str]      # 'committed changes since analyze:analyzes:attempted changes' (statistics)
    sequence_position: Optional[str]
    signature: str
    core_signature: str             # the signature without the indexes
    indexes: Optional[dict]         # standalone index name -> its signature

    @property
    def qualified(self) -> str:
        return f"{quote_ident(self.schema)}.{quote_ident(self.name)}"


@dataclass
class Photograph:
    """The state of every relation at one moment, without reading any table's content."""
    relations: dict                  # oid -> Relation
    owned: dict                      # (catalog oid, object oid) -> (relation oid, name)
    other_objects: str
    database_signature: str
    stats_reset: Optional[str]
    has_large_objects: bool
    excluded_schemas: tuple
    search_path: str                 # definitions print names relative to it (regclass, pg_get_*def)


def photograph(connection, excluded_schemas: Iterable[str], *, lock_timeout: str = "60s") -> Photograph:
    """Take the photograph (milliseconds: catalog queries and statistics counters only). Printing
    an index, view or default takes a share lock on its table, as pg_dump does: wait for one at
    most ``lock_timeout``."""
    previous = query_one(connection, "SELECT current_setting('lock_timeout')")[0]
    query_one(connection, "SELECT set_config('lock_timeout', %s, false)", (lock_timeout,))
    try:
        return _photograph(connection, tuple(excluded_schemas))
    finally:
        query_one(connection, "SELECT set_config('lock_timeout', %s, false)", (previous,))


def _photograph(connection, excluded: tuple) -> Photograph:
    query_one(connection, "SELECT pg_catalog.pg_stat_clear_snapshot()")
    relations = {row[0]: Relation(*row[:-1], indexes=row[-1] or {})
                 for row in query_all(connection, _relations_sql(excluded))}
    owned = {(catalog, obj): (relation, name)
             for catalog, obj, relation, name in query_all(connection, _owned_objects_sql(excluded))}
    other = query_one(connection, _other_objects_signature_sql(excluded))[0]
    database = query_one(connection, _database_signature_sql(excluded))[0]
    stats_reset, search_path = query_one(
        connection, "SELECT stats_reset::text, current_setting('search_path') FROM pg_catalog.pg_stat_database"
                    " WHERE datname = current_database()")
    large_objects = query_one(connection, _HAS_LARGE_OBJECTS_SQL)[0]
    return Photograph(relations, owned, other, database, stats_reset, large_objects, excluded, search_path)


def statistics_are_reliable(connection, server_major: int) -> Optional[str]:
    """None when row-change counters can be trusted; otherwise why not."""
    if server_major < MINIMUM_SERVER_MAJOR:
        return f"PostgreSQL {server_major} may drop statistics messages (selective restore needs 15 or newer)"
    if query_one(connection, "SELECT current_setting('track_counts')")[0] != "on":
        return "track_counts is off, so row changes cannot be seen"
    return None


def wait_for_backends_to_exit(connection, pids: Iterable[int], application_name: str,
                              timeout_seconds: float = 5.0) -> Optional[str]:
    """A backend flushes its statistics before it leaves pg_stat_activity: once every
    connection of the migration has gone (those SQLAlchemy saw, and any other this process
    opened, which carry ``application_name``), its row changes are in the counters."""
    pids = sorted(set(pids))
    deadline = time.monotonic() + timeout_seconds
    while True:
        alive = [row[0] for row in query_all(
            connection, "SELECT pid FROM pg_catalog.pg_stat_activity WHERE pid <> pg_catalog.pg_backend_pid()"
                        " AND (pid = ANY(%s) OR (application_name = %s AND datname = current_database()))",
            (pids, application_name))]
        if not alive:
            return None
        if time.monotonic() > deadline:
            return f"migration connection(s) still open (pid {', '.join(map(str, alive))})"
        time.sleep(0.02)


@dataclass
class SelectivePlan:
    touched: list                  # Relation (before) restored from the archive, dropped first if present
    dropped_now: list              # Relation (now) to DROP ... CASCADE: touched ones still present, new ones
    sequences_reset: list          # Relation (before) whose position alone changed
    reindexed: list = field(default_factory=list)          # Relation (before) whose indexes alone changed
    indexes_dropped: list = field(default_factory=list)    # qualified names of indexes to drop
    foreign_keys: list = field(default_factory=list)       # other tables' foreign keys re-added (described)
    owned_restored: set = field(default_factory=set)       # (catalog, OID in the archive) of indexes and
                                                           # foreign keys rebuilt without their table
    toc_lines: list = field(default_factory=list)          # the archive entries to restore
    left_alone: list = field(default_factory=list)         # tables only other sessions wrote: not reloaded
    all_entries: list = field(default_factory=list)        # all of them (for the schema comparison)

    def describe(self) -> str:
        rebuilt = {r.oid for r in self.touched}
        names = [f"{r.schema}.{r.name}" for r in self.touched if r.owned_by not in rebuilt]
        names += [f"{r.schema}.{r.name} (position)" for r in self.sequences_reset]
        names += [f"{r.schema}.{r.name} (indexes)" for r in self.reindexed]
        names += self.foreign_keys
        created = [f"{r.schema}.{r.name}" for r in self.dropped_now if r.oid not in rebuilt]
        if created:
            names.append("dropped what it created: " + ", ".join(created))
        return ", ".join(names) or "nothing"


_DEPENDENTS_SQL = """
WITH RECURSIVE tree(classid, objid) AS (
    SELECT 'pg_catalog.pg_class'::pg_catalog.regclass::oid, unnest(%(roots)s::oid[])
    UNION
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
    JOIN tree ON d.refclassid = tree.classid AND d.refobjid = tree.objid
    WHERE d.deptype IN ('n', 'a', 'i')
)
SELECT tree.classid::pg_catalog.regclass::text, tree.objid,
  CASE tree.classid
    WHEN 'pg_catalog.pg_class'::pg_catalog.regclass::oid THEN (
        SELECT coalesce((SELECT o.oid FROM pg_catalog.pg_class o WHERE o.reltoastrelid = base.relation), base.relation)
        FROM (SELECT CASE WHEN c.relkind IN ('i', 'I')
                          THEN (SELECT indrelid FROM pg_catalog.pg_index WHERE indexrelid = c.oid)
                          ELSE c.oid END AS relation
              FROM pg_catalog.pg_class c WHERE c.oid = tree.objid) AS base)
    WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass::oid THEN (
        SELECT nullif(conrelid, 0) FROM pg_catalog.pg_constraint WHERE oid = tree.objid)
    WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass::oid THEN (
        SELECT adrelid FROM pg_catalog.pg_attrdef WHERE oid = tree.objid)
    WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass::oid THEN (
        SELECT CASE WHEN t.tgconstraint <> 0
                    THEN (SELECT nullif(conrelid, 0) FROM pg_catalog.pg_constraint WHERE oid = t.tgconstraint)
                    ELSE t.tgrelid END FROM pg_catalog.pg_trigger t WHERE t.oid = tree.objid)
    WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass::oid THEN (
        SELECT ev_class FROM pg_catalog.pg_rewrite WHERE oid = tree.objid)
    WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass::oid THEN (
        SELECT polrelid FROM pg_catalog.pg_policy WHERE oid = tree.objid)
    WHEN 'pg_catalog.pg_statistic_ext'::pg_catalog.regclass::oid THEN (
        SELECT stxrelid FROM pg_catalog.pg_statistic_ext WHERE oid = tree.objid)
    WHEN 'pg_catalog.pg_type'::pg_catalog.regclass::oid THEN (
        SELECT coalesce(nullif(t.typrelid, 0), (SELECT nullif(e.typrelid, 0) FROM pg_catalog.pg_type e
                                                WHERE e.oid = t.typelem))
        FROM pg_catalog.pg_type t WHERE t.oid = tree.objid)
  END,
  CASE tree.classid   -- a foreign key (or one of its triggers) referencing a touched table
    WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass::oid THEN (
        SELECT conname FROM pg_catalog.pg_constraint WHERE oid = tree.objid AND contype = 'f')
    WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass::oid THEN (
        SELECT k.conname FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_constraint k ON k.oid = t.tgconstraint
        WHERE t.oid = tree.objid AND k.contype = 'f')
  END
FROM tree"""


class NotCertain(Exception):
    """The set of touched objects is not known for certain: use the full restore."""


def _changed(before: Relation, after: Relation) -> bool:
    return (before.signature != after.signature or before.filenode != after.filenode
            or _rows_changed(before, after))


def _rows_changed(before: Relation, after: Relation) -> bool:
    """Whether a commit may have changed the table's rows between the photographs. No insert,
    update or delete attempted at all: no (an autovacuum's ANALYZE alone moves the other counters,
    which would otherwise rebuild a large table nobody touched). Otherwise the committed-change
    count decides; an ANALYZE in between resets it, so then we cannot tell: yes."""
    if before.row_changes == after.row_changes:
        return False
    if not before.row_changes or not after.row_changes:
        return True
    changes_before, analyzes_before, attempted_before = map(int, before.row_changes.split(":"))
    changes_after, analyzes_after, attempted_after = map(int, after.row_changes.split(":"))
    if attempted_after == attempted_before:
        return False
    return analyzes_after != analyzes_before or changes_after != changes_before


def _went_backwards(before: Relation, after: Relation) -> bool:
    """Fewer changes than before without an ANALYZE in between, or fewer ANALYZEs or attempted
    changes: the counters were reset."""
    changes_before, analyzes_before, attempted_before = map(int, before.row_changes.split(":"))
    changes_after, analyzes_after, attempted_after = map(int, after.row_changes.split(":"))
    return (analyzes_after < analyzes_before or attempted_after < attempted_before
            or (analyzes_after == analyzes_before and changes_after < changes_before))


def _only_indexes_changed(before: Relation, after: Relation) -> bool:
    """Same columns, constraints, rows and file; only standalone indexes added, dropped or
    changed (a CREATE INDEX on a large table): rebuild those, not the table."""
    return (before.core_signature == after.core_signature and before.filenode == after.filenode
            and not _rows_changed(before, after) and before.indexes != after.indexes)


def plan_selective_restore(connection, before: Photograph, after: Photograph, toc: list,
                           not_the_runs: frozenset = frozenset()) -> SelectivePlan:
    """What to drop and what to take from the archive; raises NotCertain with the reason when the
    full restore is the only safe answer. ``not_the_runs``: tables the run is known not to have
    written (other sessions did): left alone when only their rows changed."""
    if after.stats_reset != before.stats_reset:
        raise NotCertain("the database's statistics were reset during the run")
    if before.has_large_objects or after.has_large_objects:
        raise NotCertain("the database holds large objects, whose changes cannot be seen")
    if after.other_objects != before.other_objects:
        raise NotCertain("the failed run changed a schema, routine, type or extension")
    touched: dict = {}            # before oid -> Relation
    reindexed: dict = {}          # before oid -> (Relation before, Relation after)
    sequences_reset = []
    left_alone = []
    for oid, old in before.relations.items():
        new = after.relations.get(oid)
        if new is None:
            touched[oid] = old
        elif old.kind == "S" and old.signature == new.signature and old.filenode == new.filenode:
            if old.sequence_position != new.sequence_position:
                sequences_reset.append(old)
        elif _only_indexes_changed(old, new):
            reindexed[oid] = (old, new)
        elif _changed(old, new):
            if (old.schema, old.name) in not_the_runs and old.signature == new.signature and old.filenode == new.filenode:
                left_alone.append(f"{old.schema}.{old.name}")
            else:
                touched[oid] = old
        if new is not None and old.row_changes and new.row_changes and _went_backwards(old, new):
            raise NotCertain(f"the statistics of {old.qualified} went backwards (reset during the run)")
    new_relations = {oid: rel for oid, rel in after.relations.items() if oid not in before.relations}
    current_roots, foreign_keys = _close_over_dependents(connection, before, after, touched, new_relations)
    sequences_reset = [s for s in sequences_reset if s.oid not in touched and s.owned_by not in touched]
    for relation in [*touched.values(), *new_relations.values()]:
        if relation.inherits:
            raise NotCertain(f"{relation.qualified} takes part in partitioning or inheritance")
        if relation.kind == "m":
            raise NotCertain(f"materialized view {relation.qualified} would need refreshing")
    if not touched and not new_relations and not sequences_reset and not reindexed and not left_alone:
        raise NotCertain("no changed relation was found although the run committed something")

    plan = SelectivePlan(sorted(touched.values(), key=lambda r: (r.schema, r.name)),
                         [r for r in current_roots.values() if r.owned_by not in current_roots
                          and (r.oid in touched or r.oid not in before.relations)],
                         sequences_reset)
    for oid, (old, new) in sorted(reindexed.items()):
        if oid not in touched:          # the closure may have taken the whole relation
            _plan_index_changes(plan, before, old, new)
    for owner, name in sorted(foreign_keys):
        _plan_foreign_key(plan, before, before.relations[owner], name)
    plan.toc_lines = select_toc_entries(toc, before, touched, sequences_reset, plan.owned_restored)
    plan.all_entries = toc
    for relation in plan.touched:       # a scoped backup (scope.py) holds only some tables' rows
        if relation.kind == "r" and not any(f" TABLE DATA {relation.schema} {relation.name} " in line
                                            for line in plan.toc_lines):
            raise NotCertain(f"the backup holds no rows of {relation.schema}.{relation.name}, which changed")
    plan.left_alone = sorted(left_alone)
    return plan


def _owned_object(before: Photograph, catalog: int, relation: Relation, name: str) -> int:
    for (owned_catalog, object_id), (owner, owned_name) in before.owned.items():
        if owned_catalog == catalog and owner == relation.oid and owned_name == name:
            return object_id
    raise NotCertain(f"{name} of {relation.qualified} is not in the photograph")


def _plan_foreign_key(plan: SelectivePlan, before: Photograph, table: Relation, name: str) -> None:
    """DROP ... CASCADE of the referenced table drops this constraint; the archive re-adds it."""
    plan.foreign_keys.append(f"{table.schema}.{table.name} (foreign key {name})")
    plan.owned_restored.add((_CONSTRAINT_CATALOG, _owned_object(before, _CONSTRAINT_CATALOG, table, name)))


def _plan_index_changes(plan: SelectivePlan, before: Photograph, old: Relation, new: Relation) -> None:
    old_indexes, new_indexes = old.indexes or {}, new.indexes or {}
    plan.reindexed.append(old)
    for name, signature in new_indexes.items():
        if old_indexes.get(name) != signature:
            plan.indexes_dropped.append(f"{quote_ident(new.schema)}.{quote_ident(name)}")
    for name, signature in old_indexes.items():
        if new_indexes.get(name) != signature:
            plan.owned_restored.add((_CLASS_CATALOG, _owned_object(before, _CLASS_CATALOG, old, name)))


def _close_over_dependents(connection, before: Photograph, after: Photograph, touched: dict,
                           new_relations: dict) -> tuple:
    """DROP ... CASCADE of a relation also drops what depends on it, and a sequence is rebuilt
    with the table that owns it. A view over a touched relation joins the touched set; another
    table's foreign key to it is only re-added (re-validating it reads that table, reloading it
    would cost far more). Repeats until nothing new joins. Returns what exists now of the set
    plus the new relations (the relations the restore drops first), and the foreign keys to
    re-add as {(table oid, constraint name)}."""
    while True:
        foreign_keys = set()
        for relation in list(touched.values()):
            if relation.kind == "S" and relation.owned_by in before.relations:
                touched.setdefault(relation.owned_by, before.relations[relation.owned_by])
        current = {oid: after.relations[oid] for oid in touched if oid in after.relations}
        current.update(new_relations)
        rows = query_all(connection, _DEPENDENTS_SQL, {"roots": sorted(current)}) if current else []
        joined = False
        for catalog, object_id, owner, foreign_key in rows:
            if owner is None:
                raise NotCertain(f"an object in {catalog} (oid {object_id}) depends on a touched relation")
            if owner in current:
                continue
            if owner not in after.relations:
                raise NotCertain(f"a relation (oid {owner}) outside the managed schemas depends on a touched one")
            if foreign_key is not None and owner in before.relations:
                foreign_keys.add((owner, foreign_key))
                continue
            if owner in before.relations:
                touched[owner] = before.relations[owner]
            else:
                new_relations[owner] = after.relations[owner]
            joined = True
        if not joined:
            return current, foreign_keys


_TOC_LINE = re.compile(r"^(\d+);\s+(\d+)\s+(\d+)\s+(.*)$")
_CLASS_CATALOG = 1259         # pg_class's own OID: the catalog of TABLE/INDEX/SEQUENCE entries
_CONSTRAINT_CATALOG = 2606    # pg_constraint's: CONSTRAINT and FK CONSTRAINT entries


def select_toc_entries(toc: list, before: Photograph, touched: dict, sequences_reset: list,
                       owned_restored: set = frozenset()) -> list:
    """The archive's entries that rebuild the touched relations, matched by the OIDs the archive
    recorded (the photograph was taken in the same database just before the backup) and, for
    entries without OIDs (comments, grants, sequence ownership and position), by their tag."""
    touched_oids = set(touched)
    sequences = {r.oid for r in before.relations.values() if r.kind == "S" and
                 (r.oid in touched_oids or r.owned_by in touched_oids)}
    seen_relations = set()
    tag_prefixes = _tag_prefixes(before, touched_oids | sequences)
    for catalog, object_id in owned_restored:
        owner, name = before.owned[(catalog, object_id)]
        table = before.relations[owner]
        tag_prefixes.append(f"COMMENT {table.schema} INDEX {name} " if catalog == _CLASS_CATALOG
                            else f"COMMENT {table.schema} CONSTRAINT {name} ON {table.name} ")
    set_only = {f"SEQUENCE SET {s.schema} {s.name} " for s in sequences_reset}
    seq_tags = {f"{kind} {before.relations[oid].schema} {before.relations[oid].name} "
                for oid in sequences for kind in ("SEQUENCE OWNED BY", "SEQUENCE SET")}
    selected = []
    for line in toc:
        match = _TOC_LINE.match(line)
        if not match:
            continue
        catalog, object_id, rest = int(match.group(2)), int(match.group(3)), match.group(4)
        if rest.startswith(_UNHANDLED_KINDS):
            raise NotCertain(f"the archive holds an entry this restore does not handle ({rest.split(' ')[0]}...)")
        if object_id:
            owner = _entry_owner(catalog, object_id, rest, before, seen_relations)
            if (catalog, object_id) in owned_restored:
                selected.append(line)
            elif owner is not None and (owner in touched_oids or owner in sequences):
                selected.append(line)
            continue
        if any(rest.startswith(prefix) for prefix in tag_prefixes) or any(rest.startswith(t) for t in seq_tags) \
                or any(rest.startswith(t) for t in set_only):
            selected.append(line)
    missing = [r.qualified for oid, r in before.relations.items() if oid not in seen_relations]
    if missing:
        raise NotCertain(f"the archive does not match the photograph taken before it ({missing[0]} not found)")
    return selected


def _entry_owner(catalog: int, object_id: int, rest: str, before: Photograph, seen_relations: set) -> Optional[int]:
    if catalog in (0, _CLASS_CATALOG) and object_id in before.relations:
        relation = before.relations[object_id]
        kind = _RELATION_KINDS[relation.kind]
        if rest.startswith(f"{kind} {relation.schema} {relation.name} "):
            seen_relations.add(object_id)
            return object_id
        if catalog == 0:            # TABLE DATA, ROW SECURITY: the relation's OID, another kind word
            return object_id
        raise NotCertain(f"archive entry {rest!r} does not match {relation.qualified} recorded before the run")
    owned = before.owned.get((catalog, object_id))
    if owned is not None:
        return owned[0]
    kind_words = rest.split(" ")
    if kind_words[0] in ("TABLE", "VIEW", "SEQUENCE", "MATERIALIZED", "FOREIGN", "INDEX", "CONSTRAINT", "FK",
                         "TRIGGER", "POLICY", "RULE", "STATISTICS", "DEFAULT", "CHECK"):
        raise NotCertain(f"archive entry {rest!r} is not in the photograph taken before the run")
    return None


def _tag_prefixes(before: Photograph, relation_oids: set) -> list:
    """How pg_dump tags COMMENT/ACL entries of these relations and of what they own."""
    prefixes = []
    for oid in relation_oids:
        relation = before.relations[oid]
        kind = _RELATION_KINDS[relation.kind]
        for entry in ("COMMENT", "ACL"):
            prefixes.append(f"{entry} {relation.schema} {kind} {relation.name} ")
            prefixes.append(f"{entry} {relation.schema} COLUMN {relation.name}.")
    for (catalog, _), (owner, name) in before.owned.items():
        if owner not in relation_oids or name is None:
            continue
        relation = before.relations[owner]
        if catalog == _CLASS_CATALOG:
            prefixes.append(f"COMMENT {relation.schema} INDEX {name} ")
        else:
            for kind in ("CONSTRAINT", "TRIGGER", "POLICY", "RULE"):
                prefixes.append(f"COMMENT {relation.schema} {kind} {name} ON {relation.name} ")
    return prefixes


def restore_touched(settings, archive: OpenedArchive, plan: SelectivePlan, before: Photograph, *, pg_restore: Tool,
                    psql: Tool, pg_dump: Tool, lock_timeout: str = "60s",
                    progress: Optional[ProgressCallback] = None, preservation=None) -> RestoreResult:
    """Run the plan in one transaction that checks its own result before committing; then compare
    the schema with the archive's as the full restore does. ``preservation``: copy other sessions'
    rows of the tables it reloads aside first (foreign_writes.Preservation)."""
    started = time.monotonic()
    drops = []
    if preservation is not None:
        drops += preservation.statements((r.schema, r.name) for r in plan.dropped_now if r.kind == "r")
    drops += [f"DROP INDEX IF EXISTS {name} CASCADE;" for name in plan.indexes_dropped]
    drops += [f"DROP {_RELATION_KINDS[r.kind]} IF EXISTS {r.qualified} CASCADE;" for r in plan.dropped_now]
    prelude = prelude_sql(lock_timeout, drops)
    search_path = before.search_path.replace("'", "''")
    epilogue = (
        f"SELECT pg_catalog.set_config('search_path', '{search_path}', false);\n"
        "DO $selective_check$ BEGIN\n"
        f"  IF ({_database_signature_sql(before.excluded_schemas)}) <> '{before.database_signature}' THEN\n"
        "    RAISE EXCEPTION 'selective restore check: the rebuilt relations differ from the backup';\n"
        "  END IF;\nEND $selective_check$;\n") + (preservation.epilogue() if preservation is not None else "")
    apply_in_one_transaction(settings, archive, plan.toc_lines, prelude, epilogue=epilogue, pg_restore=pg_restore,
                             psql=psql, progress=progress)
    difference = schema_difference(settings, archive, plan.all_entries, pg_restore=pg_restore, pg_dump=pg_dump,
                                   excluded_schemas=before.excluded_schemas)
    restored = plan.describe()
    if plan.left_alone:
        restored += f"; left alone, written only by other sessions: {', '.join(plan.left_alone)}"
    return RestoreResult(archive.path, round(time.monotonic() - started, 3), difference is None, difference,
                         mode="selective", restored_objects=restored)


def try_selective_restore(settings, archive: OpenedArchive, before: Optional[Photograph], *, connection, pids,
                          application_name: str, server_major: int, tools: dict, lock_timeout: str = "60s",
                          progress: Optional[ProgressCallback] = None, not_the_runs: frozenset = frozenset(),
                          preservation=None) -> tuple:
    """(RestoreResult, None) when the selective restore ran and verified; (None, reason) when the
    caller must do the full restore (nothing was committed by us in that case, or what was
    committed is overwritten by the full restore)."""
    import psycopg2

    if archive.format == "plain":
        return None, "the backup is a plain SQL dump (MIGRATION_BACKUP_FORMAT=plain): no entries to select from it"
    try:
        reason = statistics_are_reliable(connection, server_major)
        if reason is None and before is None:
            reason = "no photograph of the relations was taken before the run"
        reason = reason or wait_for_backends_to_exit(connection, pids, application_name)
        if reason:
            return None, reason
        after = photograph(connection, before.excluded_schemas)
        toc = toc_without_schemas(archive_toc(archive, tools["pg_restore"]), before.excluded_schemas)
        plan = plan_selective_restore(connection, before, after, toc, not_the_runs)
    except NotCertain as exc:
        return None, str(exc)
    except psycopg2.Error as exc:
        return None, f"could not read the catalog after the run ({' '.join(str(exc).split())[:200]})"
    try:
        result = restore_touched(settings, archive, plan, before, pg_restore=tools["pg_restore"], psql=tools["psql"],
                                 pg_dump=tools["pg_dump"], lock_timeout=lock_timeout, progress=progress,
                                 preservation=preservation)
    except RestoreError as exc:
        return None, f"the selective restore did not complete ({exc})"
    if not result.schema_verified:
        return None, f"the schema after the selective restore differs from the backup ({result.schema_difference})"
    return result, None
