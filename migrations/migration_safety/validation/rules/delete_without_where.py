"""Rule delete-without-where."""
from ..model import Rule


def check(op, context):
    if op.kind == "delete" and not op.get("where") and not op.table_created_here:
        if op.via == "orm":
            return f"session.query({op.get('model')}).delete() has no filter: every row of {op.label} goes"
        return f"DELETE FROM {op.label} has no WHERE clause: every row goes"
    return None


RULE = Rule(
    id='delete-without-where',
    severity='error',
    summary='DELETE without WHERE deletes every row.',
    why="A DELETE with no WHERE clause removes the whole table's content, row by row, holding locks on all of it.",
    do_instead='Add the WHERE clause that names the rows; for large deletes work in batches (DELETE ... WHERE id IN (SELECT ... LIMIT n)).',
    check=check,
)
