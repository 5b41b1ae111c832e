"""Rule drop-column."""
from ..model import Rule


def check(op, context):
    if op.kind == "drop_column" and not op.table_created_here:
        column = op.get("column")
        return f"dropping column {op.label}.{column}" if column else f"dropping a column of {op.label}"
    return None


RULE = Rule(
    id='drop-column',
    severity='error',
    summary='Dropping a column deletes its data and breaks code that still reads it.',
    why="ALTER TABLE ... DROP COLUMN loses the column's data, and application code still selecting it (including ORMs that list every column) fails until it is deployed without it.",
    do_instead='Remove every use of the column from the code and deploy; then drop it in a later migration, marked `# migration-safety: ignore[drop-column] <reason>`.',
    check=check,
)
