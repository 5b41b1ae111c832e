"""Rule drop-table."""
from ..model import Rule


def check(op, context):
    if op.kind == "drop_table" and not op.table_created_here:
        return f"dropping table {op.label} deletes its data"
    return None


RULE = Rule(
    id='drop-table',
    severity='error',
    summary='Dropping a table deletes its data for good.',
    why='DROP TABLE removes the table and every row in it; the running application still reading it starts failing, and only a backup brings the data back.',
    do_instead='Stop using the table in the code and deploy that first; rename it or keep it for a release, then drop it in a later migration with `# migration-safety: ignore[drop-table] <reason>`.',
    check=check,
)
