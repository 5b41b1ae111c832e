"""Judging static findings against the database an upgrade is about to change (pure: the caller
reads the catalog; tests pass made-up tables).

A hazard whose harm depends on rows (a rewrite, a scan, a NOT NULL column without default, a
delete or update of every row) does not block on a table that is empty or that the same plan
creates: it stays in the report as info, with the reason. On a table with rows it keeps its
severity and the message gains the table's size and an estimate of how long the lock is held.
Hazards to the running code (renames, dropped columns and tables) do not depend on rows: they stay
unless what they rename or drop was created by an earlier revision of the same plan, which nothing
outside the run can read or hold data in yet, or is a table the database does not have (a guarded
`if "t" in inspector.get_table_names(): op.drop_table("t")` on a fresh database). A table an earlier
revision renamed is judged as the live table it was renamed from, never as one that does not exist.
A type change the file could not judge is decided from the live column type."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .types import compare_keys, sql_type_key

ROW_DEPENDENT = frozenset({
    "change-column-type", "change-column-type-unverified", "set-not-null", "add-not-null-column-without-default",
    "add-column-volatile-default", "add-stored-generated-column", "add-check-without-not-valid",
    "add-foreign-key-without-not-valid", "add-unique-constraint", "create-index-without-concurrently",
    "delete-without-where", "update-without-where", "orm-data-migration", "truncate-table",
    "validate-in-same-transaction", "narrow-column-type", "add-exclude-constraint", "add-column-inline-constraint",
    "primary-key-using-index-nullable", "set-tablespace",
})
# style notes matter on tables that already hold data; one created earlier in the plan is as new
# as one created in the same revision (info there, see rules/_types.style_severity)
STYLE = frozenset({"prefer-bigint-primary-key", "prefer-identity", "prefer-jsonb", "prefer-text-over-varchar",
                   "prefer-timestamptz"})
# Hazards to what the deployed code reads or the data a table holds, whatever its rows
OBJECT_DEPENDENT = frozenset({"rename-table", "drop-table", "rename-column", "drop-column",
                              "drop-index-without-concurrently"})
# A rewrite or scan reads the whole table; this rate turns its size into a lock estimate. It is
# deliberately modest (a busy server, indexes rebuilt too); callers with a measured rate pass it.
DEFAULT_BYTES_PER_SECOND = 50 * 1024 * 1024


@dataclass(frozen=True)
class LiveTable:
    rows: int                                   # pg_class.reltuples (an estimate; -1 = never analyzed)
    bytes: int                                  # pg_total_relation_size
    column_types: dict = field(default_factory=dict)    # column -> format_type() text


@dataclass(frozen=True)
class PlanCreated:
    """What earlier revisions of a plan create: tables (under their latest name), columns added to
    other tables as (table, column), and index names; and the tables they rename that the plan did
    not create, as (new name, the name the table has in the database)."""
    tables: frozenset = frozenset()
    columns: frozenset = frozenset()
    indexes: frozenset = frozenset()
    renamed: frozenset = frozenset()

    def after(self, operations) -> "PlanCreated":
        """This, plus what ``operations`` (one revision's upgrade, in order) create."""
        tables, columns, indexes = set(self.tables), set(self.columns), set(self.indexes)
        renamed = dict(self.renamed)
        for operation in operations:
            table = operation.table
            if operation.kind == "create_table" and table:
                tables.add(table)
                renamed.pop(table, None)
            elif operation.kind == "rename_table" and table in tables and operation.get("new_table"):
                tables.add(operation.get("new_table"))
            elif operation.kind == "rename_table" and table and operation.get("new_table"):
                renamed[operation.get("new_table")] = renamed.pop(table, table)
            elif operation.kind == "add_column" and table and operation.get("column"):
                columns.add((table, operation.get("column")))
            elif operation.kind == "create_index" and operation.get("index"):
                indexes.add(operation.get("index"))
        return PlanCreated(frozenset(tables), frozenset(columns), frozenset(indexes), frozenset(renamed.items()))

    def live_name(self, table: str) -> str:
        """The name ``table`` has in the database before the plan runs (itself unless an earlier
        revision renamed it)."""
        return dict(self.renamed).get(table, table)

    def made(self, finding) -> str | None:
        """What of ``finding``'s subject the plan created, for the message; None when nothing."""
        if finding.table and finding.table in self.tables:
            return finding.table
        if finding.rule in ("rename-column", "drop-column") and (finding.table, finding.column) in self.columns:
            return f"{finding.table}.{finding.column}"
        index = finding.details.get("index")
        if finding.rule == "drop-index-without-concurrently" and index and index in self.indexes:
            return f"index {index}"
        return None


def judge(findings: list, live_tables: dict, *, created_by_plan=PlanCreated(), max_harmless_rows: int = 0,
          bytes_per_second: float = DEFAULT_BYTES_PER_SECOND) -> list:
    """New findings (the input is not changed). ``live_tables`` maps table name -> LiveTable for the
    tables that exist; ``created_by_plan`` (PlanCreated, or the names of tables) is what earlier
    revisions of the plan create; a table with at most ``max_harmless_rows`` rows counts as empty
    (the documented threshold)."""
    if not isinstance(created_by_plan, PlanCreated):
        created_by_plan = PlanCreated(tables=frozenset(created_by_plan))
    return [_judge_one(finding, live_tables, created_by_plan, max_harmless_rows, bytes_per_second)
            for finding in findings]


def _judge_one(finding, live_tables, created_by_plan: PlanCreated, max_harmless_rows, bytes_per_second):
    if finding.rule in STYLE and finding.table and finding.severity != "info" and (
            finding.table in created_by_plan.tables or finding.table not in live_tables):
        return dataclasses.replace(finding, severity="info")
    if finding.severity == "info" or finding.rule not in ROW_DEPENDENT | OBJECT_DEPENDENT:
        return finding
    made = created_by_plan.made(finding)
    if made is not None:
        return _demoted(finding, f"{made} created by this plan")
    table = finding.table
    if not table:
        return finding
    live_name = created_by_plan.live_name(table)
    if finding.rule not in ROW_DEPENDENT:
        if live_name == table and table not in live_tables:
            # nothing can hold data in it or read it: the statement runs only if something in
            # this run made it, or is skipped by the revision's own check
            return _demoted(finding, f"{table} does not exist in the database")
        return finding
    if live_name not in live_tables:
        return _demoted(finding, f"{table} does not exist yet")
    live = live_tables[live_name]
    if finding.rule == "change-column-type-unverified" and finding.column in live.column_types:
        decided = _decide_type(finding, live.column_types[finding.column])
        if decided is not None:
            finding = decided
            if finding.severity == "info":
                return finding
    if 0 <= live.rows <= max_harmless_rows:
        return _demoted(finding, f"{table} is empty" if live.rows == 0 else f"{table} has {live.rows} rows")
    seconds = live.bytes / bytes_per_second
    rows = f"~{live.rows:,} rows" if live.rows >= 0 else "never analyzed"
    # the estimate in seconds too: a rehearsal shows it next to the lock time it measured
    return dataclasses.replace(finding, details={**finding.details, "lock_seconds_estimate": round(seconds, 3)},
                               message=f"{finding.message} ({table}: {rows}, {_size(live.bytes)}; "
                                                f"the lock lasts roughly {_duration(seconds)}, an estimate at "
                                                f"{bytes_per_second / 1024 ** 2:g} MB/s "
                                                "(validation_rewrite_mb_per_second))")


def _decide_type(finding, live_type: str):
    old_key, new_key = sql_type_key(live_type), finding.details.get("new_type_key")
    if old_key is None or new_key is None:
        return None
    verdict = compare_keys(old_key, new_key)
    if verdict in ("same", "coercible"):
        return _demoted(finding, f"{finding.table}.{finding.column} is {live_type}: a catalog-only change")
    if verdict in ("rewrite", "narrowing"):
        from .registry import RULES

        rule = RULES["change-column-type" if verdict == "rewrite" else "narrow-column-type"]
        return dataclasses.replace(finding, rule=rule.id, severity=rule.severity, why=rule.why,
                                   do_instead=rule.do_instead,
                                   message=f"{finding.message}; it is {live_type} now, so the table is rewritten")
    return None


def _demoted(finding, reason: str):
    return dataclasses.replace(finding, severity="info", message=f"{finding.message} (harmless here: {reason})")


def _size(count: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1024:
            return f"{count:.0f} {unit}"
        count /= 1024
    return f"{count:.1f} TB"


def _duration(seconds: float) -> str:
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"
