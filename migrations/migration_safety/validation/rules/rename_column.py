"""Rule rename-column."""
from ..model import Rule


def check(op, context):
    if op.kind == "rename_column" and not op.table_created_here:
        return f"renaming a column of {op.label} breaks queries of the running code"
    return None


RULE = Rule(
    id='rename-column',
    severity='error',
    summary='Renaming a column breaks the code that is still running.',
    why='Queries of the deployed application still name the old column and fail until the new code is out.',
    do_instead='Add the new column, write both, backfill, switch reads, then drop the old column in a later release.',
    check=check,
)
