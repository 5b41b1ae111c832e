"""A cheap signature of the database's schema objects, taken before and after a migration.

It does not read table contents, so it costs milliseconds even on a large database. Together
with the version table and the commit events it answers "did the failed run leave anything
behind?" from facts.
"""
from __future__ import annotations

from .pgtools import query_all, query_one

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


_SEQUENCES_SQL = """
SELECT s.oid::regclass::text, coalesce(ps.last_value, 0), ps.last_value IS NOT NULL,
       (SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ':' || quote_ident(a.attname)
        FROM pg_depend d JOIN pg_class c ON c.oid = d.refobjid JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = s.oid AND d.deptype IN ('a', 'i') LIMIT 1)
FROM pg_class s JOIN pg_sequences ps
  ON ps.schemaname = (SELECT nspname FROM pg_namespace WHERE oid = s.relnamespace) AND ps.sequencename = s.relname
WHERE s.relkind = 'S' AND (SELECT nspname FROM pg_namespace WHERE oid = s.relnamespace) <> ALL(%(excluded)s)
"""


def sequence_positions(connection, excluded_schemas=()) -> dict:
    """sequence -> (last_value, is_called, 'table:column' it belongs to or None)."""
    rows = query_all(connection, _SEQUENCES_SQL, {"excluded": list(excluded_schemas)})
    return {name: (value, called, owner) for name, value, called, owner in rows}


def rewind_sequences(connection, before: dict, excluded_schemas=()) -> list[str]:
    """PostgreSQL never rolls back nextval(): a failed run that inserted rows leaves its sequences
    advanced. Put each one back where it was, but only when it belongs to a column and no row of
    that column uses a value past the old position, so no later insert can collide."""
    rewound = []
    for name, (value, called, owner) in sequence_positions(connection, excluded_schemas).items():
        if name not in before or (value, called) == before[name][:2] or owner is None:
            continue
        old_value, old_called, _ = before[name]
        table, column = owner.rsplit(":", 1)
        highest = query_one(connection, f"SELECT max({column}) FROM {table}")[0]
        if highest is not None and (not old_called or highest > old_value):
            continue
        query_one(connection, "SELECT setval(%s, %s, %s)", (name, max(old_value, 1), old_called))
        rewound.append(name)
    return rewound
