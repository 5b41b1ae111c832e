"""Rule concurrently-in-transaction."""
from ..model import Rule


def check(op, context):
    if op.kind in ("create_index", "drop_index", "reindex") and op.get("concurrently") and not op.in_autocommit:
        if op.get("through") == "sql file":
            return ("CONCURRENTLY in a file without the `-- migration-safety: no-transaction` header fails inside "
                    "the file's transaction")
        return "CONCURRENTLY outside op.get_context().autocommit_block() fails inside the migration transaction"
    return None


RULE = Rule(
    id='concurrently-in-transaction',
    severity='error',
    summary='CONCURRENTLY cannot run inside a transaction block.',
    why="CREATE/DROP INDEX CONCURRENTLY and REINDEX CONCURRENTLY fail with 'cannot run inside a transaction block' in Alembic's migration transaction.",
    do_instead='Wrap it in `with op.get_context().autocommit_block():` (and prefer transaction_per_migration=True).',
    do_instead_sql='Head the file with `-- migration-safety: no-transaction`, with the CONCURRENTLY statement in a file of its own.',
    check=check,
)
