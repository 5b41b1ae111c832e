"""Rule change-column-type."""
from ..model import Rule


def check(op, context):
    if op.kind == "alter_type" and not op.table_created_here:
        return f"changing a column type of {op.table} rewrites the table under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='change-column-type',
    severity='error',
    summary="Changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock.",
    why='Most type changes rewrite the whole table and its indexes while holding ACCESS EXCLUSIVE: no reads or writes until it finishes, minutes on a large table.',
    do_instead='Add a new column of the new type, backfill it in batches, switch the code, then drop the old column.',
    check=check,
)
