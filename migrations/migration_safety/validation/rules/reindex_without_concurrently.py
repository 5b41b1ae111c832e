"""Rule reindex-without-concurrently."""
from ..model import Rule


def check(op, context):
    if op.kind == "reindex" and not op.get("concurrently"):
        return "REINDEX without CONCURRENTLY blocks writes while it rebuilds"
    return None


RULE = Rule(
    id='reindex-without-concurrently',
    severity='warning',
    summary='REINDEX without CONCURRENTLY blocks writes (and reads using the index).',
    why='A plain REINDEX locks the table against writes and the index against reads while it rebuilds.',
    do_instead='`REINDEX ... CONCURRENTLY` (PostgreSQL 12+) inside `op.get_context().autocommit_block()`.',
    do_instead_sql='`REINDEX ... CONCURRENTLY` (PostgreSQL 12+) in a file of its own headed `-- migration-safety: no-transaction`.',
    check=check,
)
