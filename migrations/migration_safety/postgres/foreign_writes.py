"""Telling the run's own writes from other sessions' on a live database.

The backup reads one exported snapshot (``pg_export_snapshot``), so "in the backup" is exact: a
row version is in it when its ``xmin`` is visible in that snapshot. The run records the id of
every transaction of its own that commits (``CommitTracker``). A row whose ``xmin`` is neither in
the backup nor one of the run's is another session's write — an order the application took while
the migration ran — and reloading its table from the backup would discard it. The restore copies
such rows aside, inside its own transaction and after locking the table against writers, into
``migration_safety.preserved_rows`` (one row each, as ``jsonb``, ``kind`` 'written'), and says so.

A row another session deleted leaves no row version to find, so when other sessions may have
written, the restore also remembers the key of every row of each table it reloads (its primary
key, else its replica identity or a unique index on NOT NULL columns; after locking, before
dropping) and, once the backup's rows are loaded, records the rows it brought back whose key was
missing. Where the run cannot have removed a key from that table (every commit of
the run was seen, none deleted from it or replaced its storage, and no update of the run gave a
row a key the backup lacks), those rows were deleted by another session: ``kind`` 'deleted'.
Otherwise who deleted them cannot be told: ``kind`` 'absent' (deleted by the run or by another
session). The reloaded table stays exactly the backup's either way; a person decides. A table
without such a key cannot be compared: ``migration_safety.restore_notes`` says so.

What ``xmin`` cannot show: rows written in a subtransaction (a SAVEPOINT) of the run, whose
``xmin`` is the subtransaction's id — those count as another session's, which errs on the side of
keeping them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from .tools import query_all, quote_ident, quote_literal

PRESERVED_TABLE = "migration_safety.preserved_rows"
RESTORE_NOTES_TABLE = "migration_safety.restore_notes"

# preserved_rows.kind: a row another session wrote (not in the table now); a row of the backup
# another session deleted (in the table again); one deleted by the run or by another session
WRITTEN, DELETED_BY_OTHERS, ABSENT_BEFORE_RESTORE = "written", "deleted", "absent"

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
    return f"{quote_ident(schema)}.{quote_ident(table)}"


# Every ordinary table (partitions included, each on its own) outside the excluded schemas (%s)
# and not an extension's.
_USER_TABLES = """
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname <> ALL(%s) AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%%'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass
                      AND d.objid = c.oid AND d.deptype = 'e')"""


def user_tables(connection, excluded_schemas: Iterable[str]) -> list[tuple[str, str]]:
    """(schema, table) of every ordinary table outside the excluded schemas."""
    rows = query_all(connection, f"SELECT n.nspname::text, c.relname::text {_USER_TABLES} ORDER BY 1, 2",
                     (list(excluded_schemas),))
    return [(schema, table) for schema, table in rows]


def table_storage(connection, excluded_schemas: Iterable[str]) -> dict:
    """(schema, table) -> (oid, relfilenode) of every ordinary table: a TRUNCATE, a rewrite or a
    table dropped and created again changes it, removing rows without counting a delete."""
    rows = query_all(connection, f"SELECT n.nspname::text, c.relname::text, c.oid::bigint, c.relfilenode::bigint"
                                 f" {_USER_TABLES}", (list(excluded_schemas),))
    return {(schema, table): (oid, filenode) for schema, table, oid, filenode in rows}


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
        " row_data jsonb NOT NULL, row_xmin bigint, preserved_at timestamptz NOT NULL DEFAULT now(),"
        f" kind text NOT NULL DEFAULT '{WRITTEN}');",
        # a database whose table an earlier version created (a deleted row has no xmin of its own);
        # only then: ALTER TABLE would wait for anyone reading the rows of an earlier restore
        "DO $migration_safety_kind$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_attribute WHERE attrelid ="
        f" '{PRESERVED_TABLE}'::regclass AND attname = 'kind' AND NOT attisdropped) THEN ALTER TABLE"
        f" {PRESERVED_TABLE} ADD COLUMN kind text NOT NULL DEFAULT '{WRITTEN}', ALTER COLUMN row_xmin DROP NOT NULL;"
        " END IF; END $migration_safety_kind$;",
        f"LOCK TABLE {', '.join(qualified(*table) for table in tables)} IN SHARE MODE;",
    ]
    for schema, table in tables:
        statements.append(
            f"INSERT INTO {PRESERVED_TABLE} (run_id, table_name, row_data, row_xmin) "
            f"SELECT {quote_literal(run_id)}, {quote_literal(f'{schema}.{table}')}, pg_catalog.to_jsonb(t), "
            f"{_XMIN_64.format(alias='t')} "
            f"FROM ONLY {qualified(schema, table)} t WHERE {snapshot.foreign_condition('t', own)};")
    return statements


# PL/pgSQL: the columns, in key order, and their types, of the key that identifies a row of the
# relation named by {relation}, into {columns} and {types}: its primary key, else its replica
# identity index, else its narrowest unique index on NOT NULL columns (not partial, no
# expressions; by name, which a restore keeps, for a choice that is the same after it). A unique
# index on a column that allows NULL identifies nothing: many rows may hold NULL there.
_KEY_COLUMNS_SQL = ("SELECT array_agg(a.attname::text ORDER BY k.position),"
                    " array_agg(pg_catalog.format_type(a.atttypid, a.atttypmod) ORDER BY k.position)"
                    " INTO {columns}, {types} FROM (SELECT i.indrelid, i.indkey, i.indnkeyatts"
                    " FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid"
                    " WHERE i.indrelid = {relation}::regclass AND i.indisunique AND i.indisvalid"
                    " AND i.indpred IS NULL AND i.indexprs IS NULL AND NOT EXISTS (SELECT 1"
                    " FROM unnest((i.indkey::int2[])[0:i.indnkeyatts - 1]) AS u(attnum)"
                    " JOIN pg_catalog.pg_attribute ua ON ua.attrelid = i.indrelid AND ua.attnum = u.attnum"
                    " WHERE NOT ua.attnotnull)"
                    " ORDER BY i.indisprimary DESC, i.indisreplident DESC, i.indnkeyatts, ic.relname LIMIT 1) i"
                    " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, position)"
                    " JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum"
                    " WHERE k.position <= i.indnkeyatts")
# The saved keys b against the table t, column by column: in the key's own type, so that the
# key's index and hashing serve the comparison (a table of millions of rows takes seconds);
# as text where the run changed a key column's type (int to bigint: still the same values).
_JOIN_CONDITION_SQL = ("(SELECT string_agg(CASE WHEN b_type = t_type THEN format('b.%1$I = t.%1$I', c)"
                       " ELSE format('b.%1$I::text = t.%1$I::text', c) END, ' AND ' ORDER BY n)"
                       " FROM unnest({columns}, {types_before}, {types_now}) WITH ORDINALITY AS u(c, b_type, t_type, n))")
_NO_KEY_NOTE = ("no primary key or unique index on NOT NULL columns: a row another session deleted during the"
                " run cannot be told from the backup's rows, and is in the table again")
_KEY_CHANGED_NOTE = ("the key that identifies its rows is not the one it had before the restore (the run changed"
                     " it): rows deleted during the run cannot be told, and are in the table again")
_BY_RUN_COLUMN = "migration_safety_by_run"


def key_recording_sql(tables: Iterable[tuple[str, str]], kinds: dict, own_xids: Iterable[int]) -> list[str]:
    """Statements for the restore's transaction, after the lock and before the drops: remember the
    key of every row of ``tables`` ((schema, table)), one temporary table each, with
    whether the run wrote that row version, and what a row the backup brings back under a missing
    key is. ``kinds``: (schema, table) -> (DELETED_BY_OTHERS or ABSENT_BEFORE_RESTORE, whether the
    run updated the table: then a key the run wrote that the backup lacks turns DELETED_BY_OTHERS
    into ABSENT_BEFORE_RESTORE, as the update may have changed that row's key)."""
    tables = sorted(set(tables))
    if not tables:
        return []
    own = ",".join(str(int(xid)) for xid in sorted(set(own_xids)))
    by_run = f"{_XMIN_64.format(alias='t')} = ANY('{{{own}}}'::bigint[])" if own else "false"
    statements = [
        f"CREATE TABLE IF NOT EXISTS {RESTORE_NOTES_TABLE} (run_id text NOT NULL, table_name text NOT NULL,"
        " note text NOT NULL, noted_at timestamptz NOT NULL DEFAULT now());",
        "CREATE TEMPORARY TABLE migration_safety_keyed (relation text PRIMARY KEY, table_name text NOT NULL,"
        " key_columns text[], key_types text[], keys_table text NOT NULL, kind text NOT NULL,"
        " rekeyed_by_run_possible boolean NOT NULL) ON COMMIT DROP;",
    ]
    for number, (schema, table) in enumerate(tables):
        name, relation = quote_literal(f"{schema}.{table}"), quote_literal(qualified(schema, table))
        keys_table = quote_literal(f"migration_safety_keys_{number}")
        kind, run_updated = kinds[(schema, table)]
        statements.append(
            "DO $migration_safety_keys$ DECLARE key_columns text[]; key_types text[]; BEGIN\n"
            f"  {_KEY_COLUMNS_SQL.format(relation=relation, columns='key_columns', types='key_types')};\n"
            f"  INSERT INTO pg_temp.migration_safety_keyed VALUES ({relation}, {name}, key_columns, key_types,"
            f" {keys_table}, {quote_literal(kind)}, {'true' if run_updated else 'false'});\n"
            "  IF key_columns IS NOT NULL THEN\n"
            "    EXECUTE format('CREATE TEMPORARY TABLE %I ON COMMIT DROP AS SELECT %s, %s AS "
            f"{_BY_RUN_COLUMN} FROM ONLY %s t', {keys_table},"
            " (SELECT string_agg(format('t.%I', c), ', ') FROM unnest(key_columns) AS c),"
            f" $by_run${by_run}$by_run$, {relation});\n"
            f"    EXECUTE format('ANALYZE pg_temp.%I', {keys_table});   -- the comparison hashes or probes the index\n"
            "  END IF;\nEND $migration_safety_keys$;")
    return statements


def deleted_rows_sql(run_id: str) -> str:
    """After the archive's data is loaded, in the same transaction: record each row the restore
    brought back whose key was missing before it (key_recording_sql), and a note for each table
    whose rows cannot be compared. Both comparisons read every row (a count, never an EXISTS, which
    the planner may answer with a scan of the table per saved key)."""
    run = quote_literal(run_id)
    return f"""DO $migration_safety_deleted$ DECLARE keyed record; key_columns_now text[]; key_types_now text[];
  join_condition text; row_kind text; rekeyed bigint; BEGIN
  IF pg_catalog.to_regclass('pg_temp.migration_safety_keyed') IS NULL THEN
    RETURN;   -- no table was reloaded
  END IF;
  FOR keyed IN SELECT * FROM pg_temp.migration_safety_keyed ORDER BY relation LOOP
    IF pg_catalog.to_regclass(keyed.relation) IS NULL THEN
      CONTINUE;   -- the run created it: dropped, nothing reloaded
    END IF;
    IF keyed.key_columns IS NULL THEN
      INSERT INTO {RESTORE_NOTES_TABLE} (run_id, table_name, note) VALUES ({run}, keyed.table_name, {quote_literal(_NO_KEY_NOTE)});
      CONTINUE;
    END IF;
    {_KEY_COLUMNS_SQL.format(relation='keyed.relation', columns='key_columns_now', types='key_types_now')};
    IF key_columns_now IS DISTINCT FROM keyed.key_columns THEN
      INSERT INTO {RESTORE_NOTES_TABLE} (run_id, table_name, note)
        VALUES ({run}, keyed.table_name, {quote_literal(_KEY_CHANGED_NOTE)});
      CONTINUE;
    END IF;
    join_condition := {_JOIN_CONDITION_SQL.format(columns='keyed.key_columns', types_before='keyed.key_types',
                                                  types_now='key_types_now')};
    row_kind := keyed.kind;
    IF row_kind = {quote_literal(DELETED_BY_OTHERS)} AND keyed.rekeyed_by_run_possible THEN
      EXECUTE format('SELECT count(*) FROM pg_temp.%I b WHERE b.{_BY_RUN_COLUMN} AND NOT EXISTS'
                     ' (SELECT 1 FROM ONLY %s t WHERE %s)', keyed.keys_table, keyed.relation, join_condition)
        INTO rekeyed;
      IF rekeyed > 0 THEN
        row_kind := {quote_literal(ABSENT_BEFORE_RESTORE)};
      END IF;
    END IF;
    EXECUTE format('INSERT INTO {PRESERVED_TABLE} (run_id, table_name, row_data, row_xmin, kind)'
                   ' SELECT %L, %L, pg_catalog.to_jsonb(t), NULL, %L FROM ONLY %s t WHERE NOT EXISTS'
                   ' (SELECT 1 FROM pg_temp.%I b WHERE %s)', {run}, keyed.table_name, row_kind, keyed.relation,
                   keyed.keys_table, join_condition);
  END LOOP;
END $migration_safety_deleted$;
"""


def preserved_counts(connection, run_id: str) -> dict:
    """kind -> table -> rows the restore of run ``run_id`` recorded (an earlier version's table,
    without the kind column, holds written rows only)."""
    exists, kind_column = query_all(
        connection, "SELECT to_regclass(%s) IS NOT NULL, EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
                    " WHERE attrelid = to_regclass(%s) AND attname = 'kind' AND NOT attisdropped)",
        (PRESERVED_TABLE, PRESERVED_TABLE))[0]
    if not exists:
        return {}
    kind = "kind" if kind_column else quote_literal(WRITTEN)
    counts: dict = {}
    for row_kind, table, count in query_all(
            connection, f"SELECT {kind}, table_name, count(*) FROM {PRESERVED_TABLE} WHERE run_id = %s"
                        " GROUP BY 1, 2 ORDER BY 1, 2", (run_id,)):
        counts.setdefault(row_kind, {})[table] = count
    return counts


def restore_notes(connection, run_id: str) -> list[str]:
    """'table: why', for each table whose deleted rows the restore of run ``run_id`` could not tell."""
    if not query_all(connection, "SELECT to_regclass(%s) IS NOT NULL", (RESTORE_NOTES_TABLE,))[0][0]:
        return []
    return [f"{table}: {note}" for table, note in query_all(
        connection, f"SELECT table_name, note FROM {RESTORE_NOTES_TABLE} WHERE run_id = %s ORDER BY 1", (run_id,))]


@dataclass(frozen=True)
class Preservation:
    """What a restore needs to copy other sessions' rows aside before it reloads their tables and,
    when other sessions may have drawn from sequences (``sequences``: (schema, name) of each),
    to leave those sequences no further back than they stood when the restore began.

    ``deletes_checked``: other sessions were connected, so one may have deleted rows the restore
    brings back; those are then recorded. ``run_may_have_deleted``: the tables the run may have
    removed rows from (it deleted from them, or their storage was replaced: TRUNCATE, a rewrite, a
    table dropped and created again); None when some commit of the run went unseen (any table).
    ``run_updated``: the tables the run updated rows of."""
    snapshot: Optional[BackupSnapshot]
    own_xids: frozenset
    run_id: str
    sequences: tuple = ()
    # the migration tool's own bookkeeping (Alembic's version table): nobody else writes it, so its
    # rows are the run's even where a commit went unseen (autocommit) and are never set aside
    bookkeeping: frozenset = frozenset()
    deletes_checked: bool = False
    run_may_have_deleted: Optional[frozenset] = None
    run_updated: frozenset = frozenset()

    def _checks_deletes(self) -> bool:
        return self.snapshot is not None and self.deletes_checked

    def _missing_key_kind(self, table: tuple) -> tuple[str, bool]:
        if self.run_may_have_deleted is None or table in self.run_may_have_deleted:
            return ABSENT_BEFORE_RESTORE, False
        return DELETED_BY_OTHERS, table in self.run_updated

    def statements(self, tables: Iterable[tuple[str, str]]) -> list[str]:
        tables = [table for table in tables if table[1] not in self.bookkeeping]
        statements = preserving_sql(tables, self.snapshot, self.own_xids, self.run_id) if self.snapshot else []
        if statements and self._checks_deletes():
            statements += key_recording_sql(tables, {table: self._missing_key_kind(table) for table in tables},
                                            self.own_xids)
        if self.sequences:
            # after the tables are locked: an insert drawing from them waits from here on
            reads = " UNION ALL ".join(
                f"SELECT {quote_literal(schema)}::text, {quote_literal(name)}::text,"
                f" last_value, is_called FROM {qualified(schema, name)}" for schema, name in self.sequences)
            statements.append(f"CREATE TEMPORARY TABLE migration_safety_sequences_before (schema_name, sequence_name,"
                              f" last_value, is_called) ON COMMIT DROP AS {reads};")
        return statements

    def epilogue(self) -> str:
        """After the archive's SQL, in the same transaction: the rows the restore brought back that
        were deleted meanwhile are recorded; a sequence the backup put back behind where it stood
        goes forward again (a gap; never a value handed out twice)."""
        deleted = deleted_rows_sql(self.run_id) if self._checks_deletes() else ""
        if not self.sequences:
            return deleted
        return deleted + ("SELECT pg_catalog.setval(pg_catalog.quote_ident(b.schema_name) || '.' || "
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
