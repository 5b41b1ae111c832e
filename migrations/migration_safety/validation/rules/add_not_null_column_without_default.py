"""Rule add-not-null-column-without-default."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_column" and not op.get("nullable") and not op.get("has_default") and not op.rows_known_absent:
        return f"adding NOT NULL column {op.get('column') or ''} to {op.label} without a server default"
    return None


RULE = Rule(
    id='add-not-null-column-without-default',
    severity='error',
    summary='A NOT NULL column without a default fails on a table with rows.',
    why='Adding a NOT NULL column without DEFAULT errors out as soon as the table has a row; with a volatile default it rewrites the table.',
    do_instead='Add the column nullable (or with a constant server default), backfill in batches, then set NOT NULL through a NOT VALID check constraint.',
    check=check,
)
