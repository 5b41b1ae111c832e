"""The static report judged against the database an upgrade is about to change: the catalog facts
``judge`` needs (rows, size, column types of the tables the findings name) and the tables earlier
revisions of the plan create. Read-only; the run pipeline, ``upgrade --dry-run`` and
``validate --database`` each call ``judge_against_database`` once."""
from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Optional

from .judge import LiveTable, judge

# A table the same plan creates has no rows when a later revision changes it.
_CREATING_KINDS = ("create_table",)
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


def judge_against_database(report, plan, safety, *, connection=None, settings=None):
    """``report`` (a ValidationReport, or None) with the findings of the plan's revisions judged
    against the live catalog, read through ``connection`` (or a connection opened from
    ``settings`` for this call). Findings in files outside the plan are left as they are."""
    if report is None or not report.findings or plan is None or plan.is_empty:
        return report
    with _connection(connection, settings) as live_connection:
        tables = {f.table for f in report.findings if f.table}
        live = read_live_tables(live_connection, tables, max_harmless_rows=safety.validation_max_harmless_rows)
    created_before = _created_before_each_step(plan.steps)
    rate = safety.validation_rewrite_mb_per_second * 1024 * 1024
    judged = []
    for finding in report.findings:
        created = created_before.get(Path(finding.file).resolve())
        if created is None:
            judged.append(finding)
        else:
            judged += judge([finding], live, created_by_plan=created,
                            max_harmless_rows=safety.validation_max_harmless_rows, bytes_per_second=rate)
    report.findings = judged
    return report


@contextlib.contextmanager
def _connection(connection, settings):
    if connection is not None:
        yield connection
        return
    from ..postgres.tools import connect

    with contextlib.closing(connect(settings)) as opened:
        yield opened


def read_live_tables(connection, names, *, max_harmless_rows: int = 0) -> dict:
    """Table name -> LiveTable for the named tables that exist (the one on the search path when
    several schemas have it). ``reltuples`` is the row estimate; whether a table is empty (at most
    ``max_harmless_rows`` rows) is counted exactly, reading at most one row more than that, because
    a table never analyzed (or analyzed while empty) has no useful estimate."""
    from ..postgres.tools import query_all

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
        tables[name] = LiveTable(rows=rows, bytes=size, column_types=columns)
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


def _created_before_each_step(steps) -> dict:
    """File of each planned step -> the tables earlier steps create (a step's own creations are
    judged by the rules already: ``table_created_here``)."""
    created, before = set(), {}
    for step in steps:
        path = Path(step.path).resolve()
        before[path] = frozenset(created)
        created |= _tables_created_by(path)
    return before


def _tables_created_by(path: Path) -> set:
    from .checker import read_file
    from .sql_files import read_sql_file

    try:
        revision_file = read_sql_file(path) if path.suffix == ".sql" else read_file(path)
    except Exception:  # an unreadable file has findings of its own; it creates nothing we know of
        return set()
    return {operation.table for operation in revision_file.operations.get("upgrade", [])
            if operation.kind in _CREATING_KINDS and operation.table}
