"""Rule no-transaction-without-need: a plain-SQL migration file headed
``-- migration-safety: no-transaction`` although none of its statements needs it."""
from __future__ import annotations

import re

from ..model import Rule

# Statements PostgreSQL refuses inside a transaction block, or (ALTER TYPE ... ADD VALUE) whose
# new value cannot be used in the transaction that added it; a CALL or a DO block may COMMIT,
# which needs the same. Matched on the statement upper-cased, comments removed.
_NEEDS_NO_TRANSACTION = [re.compile(pattern, re.DOTALL) for pattern in (
    r"^(CREATE\s+(UNIQUE\s+)?INDEX|DROP\s+INDEX|REINDEX)\b.*\bCONCURRENTLY\b",
    r"^REINDEX\s+(\(.*?\)\s*)?(SCHEMA|DATABASE|SYSTEM)\b",
    r"^ALTER\s+TABLE\b.*\bDETACH\s+PARTITION\b.*\bCONCURRENTLY\b",
    r"^ALTER\s+TYPE\b.*\bADD\s+VALUE\b",
    r"^VACUUM\b",
    r"^(CREATE|DROP)\s+(DATABASE|TABLESPACE|SUBSCRIPTION)\b",
    r"^ALTER\s+DATABASE\b.*\bSET\s+TABLESPACE\b",
    r"^ALTER\s+SYSTEM\b",
    r"^CLUSTER\s*;?$",
    r"^CALL\b",
    r"^DO\b.*\b(COMMIT|ROLLBACK)\b",
)]
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


def needs_no_transaction(statement: str) -> bool:
    code = " ".join(_COMMENTS.sub(" ", statement).split()).upper()
    return any(pattern.search(code) for pattern in _NEEDS_NO_TRANSACTION)


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
