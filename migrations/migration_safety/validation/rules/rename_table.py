"""Rule rename-table."""
from ..model import Rule


def check(op, context):
    if op.kind == "rename_table" and not op.table_created_here:
        return f"renaming table {op.label} breaks queries of the running code"
    return None


RULE = Rule(
    id='rename-table',
    severity='error',
    summary='Renaming a table breaks the code that is still running.',
    why='The deployed application keeps querying the old name until the new code is out: every such query fails in between.',
    do_instead='Create the new table (or a view under the new name), move the code to it, and drop the old name in a later release.',
    check=check,
)
