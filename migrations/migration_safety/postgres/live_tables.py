"""Catalog facts about the tables a validation finding names (rows, size, column types), read for
the validator's judgement against the live database (validation.live takes them as data)."""
from __future__ import annotations

import contextlib
from typing import Callable, Optional

from .tools import connect, query_all

# The bounded count waits this long for a table another session holds, then the estimate is used.
_COUNT_LOCK_TIMEOUT = "2s"

_TABLES = """
SELECT c.relname, c.oid, n.nspname, c.reltuples::bigint, pg_total_relation_size(c.oid)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relname = ANY(%s) AND c.relkind IN ('r', 'p')
   AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
 ORDER BY pg_table_is_visible(c.oid) DESC, n.nspname
"""
_COLUMNS = """
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped
"""



def live_table_reader(*, connection=None, settings=None, max_harmless_rows: int = 0) -> Callable[[set], dict]:
    """``read_tables(names)`` for ``validation.live.judge_against_database``: through ``connection``,
    or through a connection opened from ``settings`` only when it is called."""
    def read_tables(names) -> dict:
        with _connection(connection, settings) as live_connection:
            return read_live_tables(live_connection, names, max_harmless_rows=max_harmless_rows)
    return read_tables


@contextlib.contextmanager
def _connection(connection, settings):
    if connection is not None:
        yield connection
        return
    with contextlib.closing(connect(settings)) as opened:
        yield opened


def read_live_tables(connection, names, *, max_harmless_rows: int = 0) -> dict:
    """Table name -> {rows, bytes, column_types} for the named tables that exist (the one on the search path when
    several schemas have it). ``reltuples`` is the row estimate; whether a table is empty (at most
    ``max_harmless_rows`` rows) is counted exactly, reading at most one row more than that, because
    a table never analyzed (or analyzed while empty) has no useful estimate."""
    names = sorted({name for name in names if name})
    if not names:
        return {}
    tables = {}
    for name, oid, schema, estimate, size in query_all(connection, _TABLES, (names,)):
        if name in tables:
            continue
        counted = _count_up_to(connection, schema, name, max_harmless_rows + 1)
        if counted is not None and counted <= max_harmless_rows:
            rows = counted
        elif estimate > max_harmless_rows:
            rows = estimate
        else:                           # more rows than the threshold, but no estimate that says how many
            rows = -1
        columns = dict(query_all(connection, _COLUMNS, (oid,)))
        tables[name] = {"rows": rows, "bytes": size, "column_types": columns}
    return tables


def _count_up_to(connection, schema: str, table: str, limit: int) -> Optional[int]:
    """min(rows, limit), or None when the table cannot be read now (no privilege, a lock held
    elsewhere): the estimate decides then. Only on an autocommit session (the lock session is one),
    in a transaction of its own so its lock_timeout does not outlive it."""
    from psycopg2 import sql

    if not connection.autocommit:
        return None
    query = sql.SQL("SELECT count(*) FROM (SELECT 1 FROM {} LIMIT %s) AS bounded").format(
        sql.Identifier(schema, table))
    with connection.cursor() as cursor:
        try:
            cursor.execute("BEGIN")
            cursor.execute("SET LOCAL lock_timeout = %s", (_COUNT_LOCK_TIMEOUT,))
            cursor.execute(query, (limit,))
            counted = cursor.fetchone()[0]
            cursor.execute("COMMIT")
            return counted
        except Exception:  # psycopg2.Error: the estimate is still there
            cursor.execute("ROLLBACK")
            return None
