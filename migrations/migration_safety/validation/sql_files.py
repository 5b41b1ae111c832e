"""Plain-SQL migration files under the same rules as the SQL inside ``op.execute``: each file is
read by PostgreSQL's parser (``sql.py``) and its operations are checked in order, as one function's
would be. A file headed ``-- migration-safety: no-transaction`` runs in autocommit, which is what
the CONCURRENTLY rules read. The folder's own problems (duplicates, gaps, missing UP/DOWN,
dependency cycles) come in as findings of their rules, and the rules of SQL files themselves
(``check_sql_file``: a no-transaction header without need). Each finding's "do instead" is the
SQL file's recipe where a rule has one (the header instead of ``autocommit_block``). Lines are
silenced with ``-- migration-safety: ignore[rule] reason``."""
from __future__ import annotations

import re
from pathlib import Path

from .checker import RevisionFile, _Reporter, check_operations
from .model import ValidationConfig, ValidationReport
from .registry import RULES, SQL_FILE_RULES
from .source import OperationCollector
from .sql import code_offset, read_sql

SUPPRESSION = re.compile(r"--\s*migration-safety:\s*ignore\[([\w\-, ]+)\]\s*(.*)$")


def read_sql_file(path: Path) -> RevisionFile:
    """The file as the rules see it: its lines, suppressions and operations (the wrapper's view:
    the file's own BEGIN/COMMIT and schema_migrations statements are not part of it)."""
    from ..migration_files.sql_file import read_script

    return _revision_file(read_script(Path(path)))


def _revision_file(script) -> RevisionFile:
    path = script.path
    revision_file = RevisionFile(Path(path), lines=script.text.splitlines())
    collector = OperationCollector(None)
    for statement in script.statements:
        # the statement's line is that of its code; its text may start with the comments above it
        first_line = statement.line - statement.text.count("\n", 0, code_offset(statement.text))
        for operation in read_sql(statement.text, first_line):
            operation.in_autocommit = script.no_transaction
            operation.details["through"] = "sql file"
            collector._place(operation)
    revision_file.operations["upgrade"] = collector.operations
    for number, text in enumerate(revision_file.lines, start=1):
        match = SUPPRESSION.search(text)
        if match:
            ids = {part.strip() for part in match.group(1).split(",") if part.strip()}
            revision_file.suppressions[number] = (ids, match.group(2).strip())
    return revision_file


def validate_sql_files(paths: list, config: ValidationConfig, *, problems=(),
                       direction: str = "upgrade") -> ValidationReport:
    report = ValidationReport()
    reporter = _Reporter(config, report, direction)
    from ..migration_files.sql_file import read_script

    for path in paths:
        script = read_script(Path(path))
        revision_file = _revision_file(script)
        revision_file.operations = {direction: revision_file.operations["upgrade"]}
        check_operations(revision_file, config, reporter)
        for rule in SQL_FILE_RULES:
            for line, message in rule.check_sql_file(script, config):
                reporter.add(rule.id, revision_file, line, message, phase=direction)
        report.files_checked += 1
    for problem in problems:
        reporter.add(problem.rule, RevisionFile(Path(problem.path)), problem.line, problem.message, phase=direction)
    for finding in report.findings + report.accepted:     # the SQL file's recipe, not Alembic's
        finding.do_instead = RULES[finding.rule].do_instead_for("sql")
    report.findings.sort(key=lambda f: (f.file, f.line, f.rule))
    return report
