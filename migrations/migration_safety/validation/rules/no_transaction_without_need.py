"""Rule no-transaction-without-need: a plain-SQL migration file headed
``-- migration-safety: no-transaction`` although none of its statements needs it."""
from __future__ import annotations

from ..model import Rule
from ..sql import needs_no_transaction


def check_sql_file(script, context):
    if not script.no_transaction or any(needs_no_transaction(s.text) for s in script.statements):
        return []
    from ...migration_files.sql_file import NO_TRANSACTION

    text = script.text
    header = NO_TRANSACTION.search(text)
    line = text.count("\n", 0, header.start()) + 1 if header else 1
    return [(line, f"{script.path.name} runs without a transaction, but none of its statements needs to: each "
                   "commits on its own, so a failure halfway leaves the file half applied")]


RULE = Rule(
    id='no-transaction-without-need',
    severity='warning',
    summary='A SQL migration file runs outside a transaction although none of its statements needs to.',
    why="A file headed `-- migration-safety: no-transaction` runs statement by statement, each committed at once: "
        "a failure halfway leaves the statements before it applied, never retried, and the run must be restored "
        "from the backup, where in its transaction it would simply have been rolled back.",
    do_instead="Remove the header, so the wrapper runs the file in one transaction. Keep it only for statements "
               "PostgreSQL refuses in a transaction (CREATE/DROP INDEX CONCURRENTLY, REINDEX CONCURRENTLY, "
               "ALTER TYPE ... ADD VALUE whose value is used later, VACUUM, ...), each in a small file of its own.",
    check_sql_file=check_sql_file,
)
