"""Rule drop-index-without-concurrently."""
from ..model import Rule


def check(op, context):
    if op.kind == "drop_index" and not op.get("concurrently") and not op.table_created_here:
        return "dropping an index without CONCURRENTLY locks its table against reads and writes"
    return None


RULE = Rule(
    id='drop-index-without-concurrently',
    severity='warning',
    summary='DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table.',
    why='A plain DROP INDEX locks the table against reads and writes, and waits behind any running query first.',
    do_instead='`DROP INDEX CONCURRENTLY` (`postgresql_concurrently=True`) inside `op.get_context().autocommit_block()`.',
    do_instead_sql='`DROP INDEX CONCURRENTLY` in a file of its own headed `-- migration-safety: no-transaction`.',
    check=check,
)
