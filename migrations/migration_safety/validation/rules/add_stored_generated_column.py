"""Rule add-stored-generated-column."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_column" and op.get("generated_stored") and not op.rows_known_absent:
        return f"adding stored generated column {op.get('column') or ''} to {op.label} rewrites the table"
    return None


RULE = Rule(
    id='add-stored-generated-column',
    severity='error',
    summary='Adding a stored generated column to an existing table rewrites it.',
    why='A STORED generated column (sa.Computed) is computed and written for every existing row, which rewrites the table under an ACCESS EXCLUSIVE lock.',
    do_instead='Add a plain nullable column, fill it with a trigger for new rows and a batched backfill for old ones; or compute the value in a view or the query.',
    check=check,
)
