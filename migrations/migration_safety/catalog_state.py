"""A cheap signature of the database's schema objects, taken before and after a migration.

It does not read table contents, so it costs milliseconds even on a large database. Together
with the version table and the commit events it answers "did the failed run leave anything
behind?" from facts.
"""
from __future__ import annotations

from .pgtools import query_one

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
