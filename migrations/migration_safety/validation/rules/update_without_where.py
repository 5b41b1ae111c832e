"""Rule update-without-where."""
from ..model import Rule


def check(op, context):
    if op.kind == "update" and not op.get("where") and not op.rows_known_absent:
        if op.via == "orm":
            return f"session.query({op.get('model')}).update() has no filter: every row of {op.label} is rewritten"
        return f"UPDATE {op.label} has no WHERE clause: every row is rewritten"
    return None


RULE = Rule(
    id='update-without-where',
    severity='warning',
    summary='UPDATE without WHERE rewrites every row.',
    why='An UPDATE with no WHERE clause rewrites every row of the table in one transaction: it locks them all, doubles the table on disk until vacuum, and may overwrite data.',
    do_instead='Restrict it with WHERE, and backfill large tables in batches outside the schema migration.',
    check=check,
)
