"""The static report judged against the database an upgrade is about to change: the catalog facts
``judge`` needs (rows, size, column types of the tables the findings name) and the tables, columns
and indexes earlier revisions of the plan create. The run pipeline, ``upgrade --dry-run`` and
``validate --database`` each call ``judge_against_database`` once, with a reader of the catalog:
this module never connects."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from .judge import LiveTable, PlanCreated, judge


def judge_against_database(report, plan, safety, read_tables: Callable[[set], dict]):
    """``report`` (a ValidationReport, or None) with the findings of the plan's revisions judged
    against the live catalog. The facts come in as data: ``read_tables(names)`` answers table name
    -> {rows, bytes, column_types} for the tables that exist (postgres.live_tables reads them), and
    is called only when there is something to judge. Findings in files outside the plan are left
    as they are."""
    if report is None or not report.findings or plan is None or plan.is_empty:
        return report
    created_before = _created_before_each_step(plan.steps)
    names = set()
    for finding in report.findings:
        if finding.table:
            created = created_before.get(Path(finding.file).resolve())
            # a table an earlier step renamed is read under the name it has in the database
            names |= {finding.table, created.live_name(finding.table) if created else finding.table}
    facts = read_tables(names)
    live = {name: LiveTable(**table) for name, table in facts.items()}
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


def _created_before_each_step(steps) -> dict:
    """File of each planned step -> the tables, columns and indexes earlier steps create (a step's
    own creations are judged by the rules already: ``table_created_here``). Nothing outside the
    run can hold data in them or read them yet, so renaming, dropping or rebuilding them is no
    hazard. A table the plan created keeps counting under the name a later step renames it to."""
    created, before = PlanCreated(), {}
    for step in steps:
        path = Path(step.path).resolve()
        before[path] = created
        created = created.after(_upgrade_operations(path))
    return before


def _upgrade_operations(path: Path) -> list:
    from .checker import read_file
    from .sql_files import read_sql_file

    try:
        revision_file = read_sql_file(path) if path.suffix == ".sql" else read_file(path)
    except Exception:  # an unreadable file has findings of its own; it creates nothing we know of
        return []
    return revision_file.operations.get("upgrade", [])
