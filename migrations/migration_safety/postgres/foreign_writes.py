"""Telling the run's own writes from other sessions' on a live database.

The backup reads one exported snapshot (``pg_export_snapshot``), so "in the backup" is exact: a
row version is in it when its ``xmin`` is visible in that snapshot. The run records the id of
every transaction of its own that commits (``CommitTracker``). A row whose ``xmin`` is neither in
the backup nor one of the run's is another session's write — an order the application took while
the migration ran — and reloading its table from the backup would discard it. The restore copies
such rows aside, inside its own transaction and after locking the table against writers, into
``migration_safety.preserved_rows`` (one row each, as ``jsonb``), and says so.

What ``xmin`` cannot show: a row another session deleted (it is gone; the restore brings it back),
and rows written in a subtransaction (a SAVEPOINT) of the run, whose ``xmin`` is the subtransaction's
id — those count as another session's, which errs on the side of keeping them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .tools import query_all

PRESERVED_TABLE = "migration_safety.preserved_rows"

# A row version's 32-bit xmin widened to the 64-bit id txid_* functions use, by the epoch of the
# next transaction id (a row is never newer than that). Ids below 3 are bootstrap/frozen: old.
_XMIN_64 = ("(CASE WHEN {alias}.xmin::text::bigint <= (pg_catalog.txid_snapshot_xmax(pg_catalog.txid_current_snapshot())"
            " & 4294967295) THEN pg_catalog.txid_snapshot_xmax(pg_catalog.txid_current_snapshot()) >> 32"
            " ELSE (pg_catalog.txid_snapshot_xmax(pg_catalog.txid_current_snapshot()) >> 32) - 1 END << 32"
            " | {alias}.xmin::text::bigint)")


@dataclass(frozen=True)
class BackupSnapshot:
    """The snapshot the backup read (``txid_current_snapshot()`` text) and the run's own commits."""
    snapshot: str

    def foreign_condition(self, alias: str, own_xids: Iterable[int]) -> str:
        """SQL true for a row of ``alias`` written after the backup by a transaction not the run's.
        Values are inlined (the same SQL runs inside psql during the restore)."""
        row_xid = _XMIN_64.format(alias=alias)
        own = ",".join(str(int(xid)) for xid in sorted(set(own_xids)))
        condition = (f"{alias}.xmin::text::bigint >= 3 AND NOT pg_catalog.txid_visible_in_snapshot({row_xid}, "
                     f"'{self.snapshot}'::pg_catalog.txid_snapshot)")
        if own:
            condition += f" AND {row_xid} <> ALL('{{{own}}}'::bigint[])"
        return condition


def export_snapshot(connection) -> tuple[str, BackupSnapshot]:
    """On ``connection`` (not autocommit; keep its transaction open until pg_dump has read the
    snapshot, i.e. until the backup ends): the id to give ``pg_dump --snapshot`` and the snapshot."""
    with connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_catalog.pg_export_snapshot(), pg_catalog.txid_current_snapshot()::text")
        exported, snapshot = cursor.fetchone()
    return exported, BackupSnapshot(snapshot)


def qualified(schema: str, table: str) -> str:
    return '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'


def user_tables(connection, excluded_schemas: Iterable[str]) -> list[tuple[str, str]]:
    """(schema, table) of every ordinary table (partitions included, each on its own) outside the
    excluded schemas."""
    rows = query_all(connection, """
        SELECT n.nspname::text, c.relname::text
        FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname <> ALL(%s) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_%%'
          AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY 1, 2""", (list(excluded_schemas),))
    return [(schema, table) for schema, table in rows]


def preserving_sql(tables: Iterable[tuple[str, str]], snapshot: BackupSnapshot, own_xids: Iterable[int],
                   run_id: str) -> list[str]:
    """Statements for the start of the restore's transaction: lock ``tables`` ((schema, table))
    against writers (a commit between the copy and the DROP would be lost) and copy other
    sessions' rows aside."""
    tables = sorted(set(tables))
    if not tables:
        return []
    own = set(own_xids)
    statements = [
        "CREATE SCHEMA IF NOT EXISTS migration_safety;",
        f"CREATE TABLE IF NOT EXISTS {PRESERVED_TABLE} (run_id text NOT NULL, table_name text NOT NULL,"
        " row_data jsonb NOT NULL, row_xmin bigint NOT NULL, preserved_at timestamptz NOT NULL DEFAULT now());",
        f"LOCK TABLE {', '.join(qualified(*table) for table in tables)} IN SHARE MODE;",
    ]
    for schema, table in tables:
        literal = f"{schema}.{table}".replace("'", "''")
        statements.append(
            f"INSERT INTO {PRESERVED_TABLE} (run_id, table_name, row_data, row_xmin) "
            f"SELECT '{run_id}', '{literal}', pg_catalog.to_jsonb(t), {_XMIN_64.format(alias='t')} "
            f"FROM ONLY {qualified(schema, table)} t WHERE {snapshot.foreign_condition('t', own)};")
    return statements


def preserved_counts(connection, run_id: str) -> dict:
    """table -> rows the restore of run ``run_id`` copied aside."""
    exists = query_all(connection, "SELECT to_regclass(%s) IS NOT NULL", (PRESERVED_TABLE,))[0][0]
    if not exists:
        return {}
    return dict(query_all(connection, f"SELECT table_name, count(*) FROM {PRESERVED_TABLE} WHERE run_id = %s"
                                      " GROUP BY table_name ORDER BY table_name", (run_id,)))


@dataclass(frozen=True)
class Preservation:
    """What a restore needs to copy other sessions' rows aside before it reloads their tables and,
    when other sessions may have drawn from sequences (``sequences``: (schema, name) of each),
    to leave those sequences no further back than they stood when the restore began."""
    snapshot: Optional[BackupSnapshot]
    own_xids: frozenset
    run_id: str
    sequences: tuple = ()
    # the migration tool's own bookkeeping (Alembic's version table): nobody else writes it, so its
    # rows are the run's even where a commit went unseen (autocommit) and are never set aside
    bookkeeping: frozenset = frozenset()

    def statements(self, tables: Iterable[tuple[str, str]]) -> list[str]:
        tables = [table for table in tables if table[1] not in self.bookkeeping]
        statements = preserving_sql(tables, self.snapshot, self.own_xids, self.run_id) if self.snapshot else []
        if self.sequences:
            # after the tables are locked: an insert drawing from them waits from here on
            reads = " UNION ALL ".join(
                f"SELECT '{schema.replace(chr(39), chr(39) * 2)}'::text, '{name.replace(chr(39), chr(39) * 2)}'::text,"
                f" last_value, is_called FROM {qualified(schema, name)}" for schema, name in self.sequences)
            statements.append(f"CREATE TEMPORARY TABLE migration_safety_sequences_before (schema_name, sequence_name,"
                              f" last_value, is_called) ON COMMIT DROP AS {reads};")
        return statements

    def epilogue(self) -> str:
        """After the archive's SQL, in the same transaction: a sequence the backup put back behind
        where it stood goes forward again (a gap; never a value handed out twice)."""
        if not self.sequences:
            return ""
        return ("SELECT pg_catalog.setval(pg_catalog.quote_ident(b.schema_name) || '.' || "
                "pg_catalog.quote_ident(b.sequence_name), b.last_value, true)"
                " FROM migration_safety_sequences_before b JOIN pg_catalog.pg_sequences s"
                " ON s.schemaname = b.schema_name AND s.sequencename = b.sequence_name WHERE b.is_called AND"
                " (s.last_value IS NULL OR (s.increment_by > 0 AND s.last_value < b.last_value)"
                " OR (s.increment_by < 0 AND s.last_value > b.last_value));\n")


def other_sessions(connection, own_pids: Iterable[int], run_application_name: str) -> list[str]:
    """Client sessions on this database that are not this tool's (its lock session, the run's
    connections, pg_dump): each could draw from a sequence or write a row meanwhile."""
    rows = query_all(connection, """
        SELECT pid || ' (' || coalesce(nullif(application_name, ''), 'no application name') || ', '
               || coalesce(usename, '?') || ')'
        FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND pid <> ALL(%s) AND application_name <> %s AND application_name NOT LIKE 'migration\\_safety%%'
          AND application_name <> 'pg_dump'
        ORDER BY pid""", (sorted(set(own_pids)), run_application_name))
    return [row[0] for row in rows]


def run_application_backends(connection, run_application_name: str) -> set[int]:
    """The backends on this database carrying the run's ``application_name`` now: read before the
    run starts, they are an earlier run's sessions still ending (a client that left is noticed by
    its server process a moment later), never this run's."""
    rows = query_all(connection, "SELECT pid FROM pg_catalog.pg_stat_activity WHERE datname = current_database()"
                                 " AND application_name = %s", (run_application_name,))
    return {pid for (pid,) in rows}


def unknown_run_connections(connection, known_pids: Iterable[int], run_application_name: str) -> list[str]:
    """The server's own view of connections the run opened that no hook saw: backends on this
    database that carry the run's ``application_name`` (libpq gives every connection this process
    and its programs open the run's PGOPTIONS) and are none of ``known_pids`` — a libpq driver
    other than psycopg2 (psycopg 3, libpq through ctypes) still connected. PostgreSQL forgets a
    session once it ends, so one already closed is not here."""
    rows = query_all(connection, """
        SELECT 'pid ' || pid || ' (connected at ' || to_char(backend_start, 'HH24:MI:SS') || ', not by psycopg2)'
        FROM pg_catalog.pg_stat_activity
        WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid()
          AND pid <> ALL(%s) AND application_name = %s
        ORDER BY pid""", (sorted(set(known_pids)), run_application_name))
    return [row[0] for row in rows]
