"""Rule lock-table."""
from ..model import Rule


def check(op, context):
    if op.kind == "lock_table" and not op.table_created_here:
        return f"LOCK TABLE {op.label} blocks the application until commit"
    return None


RULE = Rule(
    id='lock-table',
    severity='warning',
    summary='An explicit LOCK TABLE blocks the application.',
    why='LOCK TABLE (ACCESS EXCLUSIVE by default) stops every other query on the table until the migration commits.',
    do_instead='Remove it; if ordering matters, use a weaker lock mode and keep the transaction short with lock_timeout.',
    check=check,
)
