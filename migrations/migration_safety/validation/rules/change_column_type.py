"""Rule change-column-type."""
from ..model import Rule


def check(op, context):
    if op.kind == "alter_type" and op.get("verdict") == "rewrite" and not op.rows_known_absent:
        change = f" ({op.get('change')})" if op.get("change") else ""
        return (f"changing the type of {op.label}.{op.get('column') or 'a column'}{change} rewrites the table "
                "under an ACCESS EXCLUSIVE lock")
    return None


RULE = Rule(
    id='change-column-type',
    severity='error',
    summary="Changing a column's type rewrites the table under an ACCESS EXCLUSIVE lock.",
    why='Most type changes rewrite the whole table and its indexes while holding ACCESS EXCLUSIVE: no reads or writes until it finishes, minutes on a large table.',
    do_instead='Add a new column of the new type, backfill it in batches, switch the code, then drop the old column.',
    check=check,
)
