"""Rule cluster-table."""
from ..model import Rule


def check(op, context):
    if op.kind == "cluster":
        return "CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='cluster-table',
    severity='error',
    summary='CLUSTER rewrites the table under an ACCESS EXCLUSIVE lock.',
    why='CLUSTER reorders the whole table while it is locked against reads and writes.',
    do_instead='Do it in a maintenance window outside migrations, or use pg_repack.',
    check=check,
)
