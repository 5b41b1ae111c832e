"""Rule truncate-table."""
from ..model import Rule


def check(op, context):
    if op.kind == "truncate" and not op.table_created_here:
        return f"TRUNCATE {op.label} deletes every row"
    return None


RULE = Rule(
    id='truncate-table',
    severity='error',
    summary='TRUNCATE deletes every row.',
    why='TRUNCATE removes all rows at once under an ACCESS EXCLUSIVE lock; it cannot be undone short of restoring a backup.',
    do_instead='Delete the rows you mean with a WHERE clause, in batches, or move them to an archive table first.',
    check=check,
)
