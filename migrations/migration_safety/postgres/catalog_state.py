"""A cheap signature of the database's schema objects, taken before and after a migration.

It does not read table contents, so it costs milliseconds even on a large database. Together
with the version table and the commit events it answers "did the failed run leave anything
behind?" from facts.
"""
from __future__ import annotations

from dataclasses import dataclass

import psycopg2
from psycopg2 import sql

from .tools import query_all, query_one

_SIGNATURE_SQL = """
WITH user_namespaces AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
      AND nspname NOT LIKE 'pg\\_temp\\_%%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%%'
      AND nspname <> ALL(%(excluded)s)
), parts AS (
    SELECT concat_ws(':', 'n', n.nspname) AS item FROM pg_namespace n JOIN user_namespaces u ON u.oid = n.oid
    UNION ALL
    SELECT concat_ws(':', 'c', c.oid, c.relname, c.relkind, c.relnamespace, c.relfilenode)
    FROM pg_class c JOIN user_namespaces u ON u.oid = c.relnamespace
    UNION ALL
    SELECT concat_ws(':', 'a', a.attrelid, a.attname, a.atttypid, a.attnotnull, a.attisdropped, a.atthasdef)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN user_namespaces u ON u.oid = c.relnamespace
    WHERE a.attnum > 0
    UNION ALL
    SELECT concat_ws(':', 'k', co.oid, co.conname, co.convalidated) FROM pg_constraint co JOIN user_namespaces u ON u.oid = co.connamespace
    UNION ALL
    SELECT concat_ws(':', 'p', p.oid, md5(p.prosrc)) FROM pg_proc p JOIN user_namespaces u ON u.oid = p.pronamespace
    UNION ALL
    SELECT concat_ws(':', 't', t.oid, t.typname) FROM pg_type t JOIN user_namespaces u ON u.oid = t.typnamespace
    UNION ALL
    SELECT concat_ws(':', 'e', e.oid, e.enumlabel) FROM pg_enum e
    UNION ALL
    SELECT concat_ws(':', 'x', x.extname, x.extversion) FROM pg_extension x
    UNION ALL
    SELECT concat_ws(':', 'g', tg.oid, tg.tgenabled) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid
    JOIN user_namespaces u ON u.oid = c.relnamespace
)
SELECT md5(coalesce(string_agg(item, ',' ORDER BY item), '')) FROM parts
"""


def catalog_signature(connection, excluded_schemas=()) -> str:
    return query_one(connection, _SIGNATURE_SQL, {"excluded": list(excluded_schemas)})[0]


# Each sequence with the columns that draw from it: the column owning it (serial, identity:
# pg_depend 'a'/'i') and every column whose DEFAULT calls nextval() on it (a dependency 'n' of
# that default, pg_attrdef, on the sequence), so a sequence created on its own counts as well.
# Only sequences this role can read and setval().
_SEQUENCES_SQL = """
WITH sequences AS (
    SELECT s.oid FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
    WHERE s.relkind = 'S' AND n.nspname <> ALL(%(excluded)s)
      -- CASE: the planner may call the function on rows of other kinds first, and it raises on them
      AND CASE WHEN s.relkind = 'S' THEN has_sequence_privilege(s.oid, 'SELECT')
                                         AND has_sequence_privilege(s.oid, 'UPDATE') END
), users AS (
    SELECT d.objid AS sequence, d.refobjid AS relation, d.refobjsubid AS attnum
    FROM pg_depend d JOIN sequences q ON q.oid = d.objid
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.deptype IN ('a', 'i') AND d.refobjsubid > 0
    UNION
    SELECT d.refobjid, ad.adrelid, ad.adnum
    FROM pg_depend d JOIN sequences q ON q.oid = d.refobjid JOIN pg_attrdef ad ON ad.oid = d.objid
    WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'n'
)
SELECT q.oid, q.oid::regclass::text, sn.nspname, s.relname, ps.increment_by,
       coalesce(json_agg(json_build_array(n.nspname, c.relname, a.attname,
                                          a.atttypid IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype,
                                                         'numeric'::regtype)))
                FILTER (WHERE u.relation IS NOT NULL), '[]')
FROM sequences q
JOIN pg_class s ON s.oid = q.oid JOIN pg_namespace sn ON sn.oid = s.relnamespace
JOIN pg_sequences ps ON ps.schemaname = sn.nspname AND ps.sequencename = s.relname
LEFT JOIN users u ON u.sequence = q.oid
LEFT JOIN pg_class c ON c.oid = u.relation LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = u.relation AND a.attnum = u.attnum
GROUP BY q.oid, sn.nspname, s.relname, ps.increment_by
"""

# How long the rewind waits for the tables drawing from a sequence: a busy table keeps its
# sequence advanced (a gap in the numbers, harmless) rather than holding up the application.
REWIND_LOCK_TIMEOUT = "2s"


@dataclass(frozen=True)
class SequenceUser:
    """A column whose values come from a sequence (owned by it, or its DEFAULT calls nextval)."""
    schema: str
    table: str
    column: str
    is_numeric: bool


@dataclass(frozen=True)
class SequencePosition:
    schema: str
    sequence: str
    last_value: int
    is_called: bool
    increment: int
    users: tuple[SequenceUser, ...]

    @property
    def position(self) -> tuple[int, bool]:
        return self.last_value, self.is_called


def _read_positions(connection, sequences: list) -> dict:
    """oid -> (last_value, is_called) read from each sequence itself (pg_sequences hides the
    position of a sequence not called yet), in one statement."""
    if not sequences:
        return {}
    reads = [sql.SQL("SELECT {}::oid, last_value, is_called FROM {}").format(
        sql.Literal(oid), sql.Identifier(schema, name)) for oid, schema, name in sequences]
    return {oid: (value, called) for oid, value, called in query_all(connection, sql.SQL(" UNION ALL ").join(reads))}


def sequence_positions(connection, excluded_schemas=()) -> dict:
    """sequence (as regclass text) -> SequencePosition, for every sequence this role may rewind."""
    rows = query_all(connection, _SEQUENCES_SQL, {"excluded": list(excluded_schemas)})
    positions = _read_positions(connection, [(oid, schema, name) for oid, _, schema, name, *_ in rows])
    return {display: SequencePosition(schema, name, *positions[oid], increment,
                                      tuple(SequenceUser(*user) for user in users))
            for oid, display, schema, name, increment, users in rows}


def rewind_sequences(connection, before: dict, excluded_schemas=()) -> list[str]:
    """PostgreSQL never rolls back nextval(): a failed run that inserted rows leaves its sequences
    advanced. Put each one back where it was when no row of a column drawing from it uses a value
    past the old position, so no later insert can collide. A sequence no column draws from goes
    back unconditionally. Returns the sequences rewound."""
    rewound = []
    for name, now in sequence_positions(connection, excluded_schemas).items():
        old = before.get(name)
        if old is None or now.position == old.position:
            continue
        if _rewind(connection, name, old, now):
            rewound.append(name)
    return rewound


def _rewind(connection, name: str, old: SequencePosition, now: SequencePosition) -> bool:
    if not all(user.is_numeric for user in now.users):    # e.g. DEFAULT 'INV-' || nextval(...): unreadable
        return False
    autocommit = connection.autocommit
    connection.autocommit = False
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = %s", (REWIND_LOCK_TIMEOUT,))
            tables = sorted({(user.schema, user.table) for user in now.users})
            if tables:   # no insert may draw a value between the check and setval()
                cursor.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(
                    sql.SQL(", ").join(sql.Identifier(*table) for table in tables)))
            cursor.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(
                sql.Identifier(now.schema, now.sequence)))
            if cursor.fetchone() != now.position:               # someone else is drawing from it: leave it
                connection.rollback()
                return False
            if any(_uses_newer_value(cursor, user, old) for user in now.users):
                connection.rollback()
                return False
            cursor.execute("SELECT setval(%s::regclass, %s, %s)", (name, old.last_value, old.is_called))
        connection.commit()
        return True
    except psycopg2.Error:      # a lock not granted in time, a privilege: the sequence stays advanced
        connection.rollback()
        return False
    finally:
        connection.autocommit = autocommit


def _uses_newer_value(cursor, user: SequenceUser, old: SequencePosition) -> bool:
    """Does a row hold a value the sequence, put back at ``old``, would hand out again?"""
    ascending = old.increment > 0
    cursor.execute(sql.SQL("SELECT {}({}) FROM {}").format(
        sql.SQL("max" if ascending else "min"), sql.Identifier(user.column),
        sql.Identifier(user.schema, user.table)))
    extreme = cursor.fetchone()[0]
    if extreme is None:
        return False
    if extreme == old.last_value:         # handed out already unless the sequence was never called
        return not old.is_called
    return extreme > old.last_value if ascending else extreme < old.last_value


# Committed row changes per table: n_mod_since_analyze grows only when a transaction that changed
# rows commits (an aborted one adds nothing, unlike n_tup_ins/upd/del), and an ANALYZE resets it,
# which the analyze counters reveal; n_tup_ins/upd/del (attempted changes) tell an ANALYZE of a
# table nobody wrote to from one that hides changes. A backend's counters reach the shared
# statistics when it exits, so read this after the run's connections have ended.
_COMMITTED_CHANGES_SQL = """
SELECT quote_ident(schemaname) || '.' || quote_ident(relname), n_mod_since_analyze,
       analyze_count + autoanalyze_count, n_tup_ins + n_tup_upd + n_tup_del
FROM pg_stat_user_tables WHERE schemaname <> ALL(%(excluded)s)
"""


def committed_row_changes(connection, excluded_schemas=()) -> dict:
    """table -> (changes committed since its last analyze, how many analyzes it has had, rows
    inserted, updated or deleted in all, committed or not)."""
    query_one(connection, "SELECT pg_stat_clear_snapshot()")
    rows = query_all(connection, _COMMITTED_CHANGES_SQL, {"excluded": list(excluded_schemas)})
    return {table: (changes, analyzes, attempted) for table, changes, analyzes, attempted in rows}


def tables_with_committed_changes(before: dict, after: dict) -> list[str]:
    """Tables whose rows a commit changed between the two readings. None attempted: unchanged,
    whatever an ANALYZE did. An ANALYZE in between resets the committed count (to what changed
    after it began), so a table with attempted changes and an ANALYZE in between counts as changed:
    the changes committed before the ANALYZE are no longer counted anywhere."""
    changed = []
    for table, (changes, analyzes, attempted) in after.items():
        if table not in before:
            continue                      # created by the run: the catalog signature sees it
        old_changes, old_analyzes, old_attempted = before[table]
        if attempted == old_attempted:
            continue
        if analyzes != old_analyzes or changes > old_changes:
            changed.append(table)
    return sorted(changed)


# Objects in the schemas a restore manages that it could not replace as they were: dropping one
# needs membership of its owning role, and giving the recreated object back to that role
# (ALTER ... OWNER TO, as pg_restore does) needs the role to have CREATE on the object's schema.
_NOT_REPLACEABLE_SQL = """
WITH managed AS (
    SELECT oid, nspname FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_%%'
      AND nspname <> ALL(%(excluded)s)
), objects AS (
    SELECT 'schema' AS kind, quote_ident(m.nspname) AS name, n.nspowner AS owner, NULL::oid AS namespace
    FROM pg_namespace n JOIN managed m ON m.oid = n.oid WHERE n.nspname <> 'public'
    UNION ALL
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence'
                          WHEN 'f' THEN 'foreign table' ELSE 'table' END,
           quote_ident(m.nspname) || '.' || quote_ident(c.relname), c.relowner, m.oid
    FROM pg_class c JOIN managed m ON m.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype = 'e')
    UNION ALL
    SELECT 'function', quote_ident(m.nspname) || '.' || quote_ident(p.proname)
                       || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.proowner, m.oid
    FROM pg_proc p JOIN managed m ON m.oid = p.pronamespace
    WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                      AND d.deptype = 'e')
    UNION ALL
    SELECT 'type', quote_ident(m.nspname) || '.' || quote_ident(t.typname), t.typowner, m.oid
    FROM pg_type t JOIN managed m ON m.oid = t.typnamespace
    WHERE t.typtype IN ('e', 'd', 'r', 'c')
      AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid
                      AND d.deptype = 'e')
)
SELECT o.kind, o.name, pg_get_userbyid(o.owner),
       CASE WHEN NOT pg_has_role(current_user, o.owner, 'MEMBER')
            THEN 'GRANT ' || quote_ident(pg_get_userbyid(o.owner)) || ' TO ' || quote_ident(current_user)
            ELSE 'GRANT CREATE ON SCHEMA ' || quote_ident(n.nspname) || ' TO '
                 || quote_ident(pg_get_userbyid(o.owner)) END
FROM objects o LEFT JOIN pg_namespace n ON n.oid = o.namespace
WHERE NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
  AND o.owner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)
  AND (NOT pg_has_role(current_user, o.owner, 'MEMBER')
       OR (o.namespace IS NOT NULL AND NOT has_schema_privilege(o.owner, o.namespace, 'CREATE')))
ORDER BY o.kind, o.name
"""


def objects_a_restore_cannot_replace(connection, excluded_schemas=()) -> list[tuple[str, str, str, str]]:
    """(kind, name, owner, the GRANT that would let it) of every object a restore would have to drop
    and recreate with its owner but this role could not."""
    return [tuple(row) for row in query_all(connection, _NOT_REPLACEABLE_SQL, {"excluded": list(excluded_schemas)})]
