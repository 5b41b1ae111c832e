"""Rule prefer-jsonb."""
from ..model import Rule
from ._types import column_type, style_severity


def check(op, context):
    if op.kind == "column" and column_type(op) == "json":
        return f"column {op.get('column')} uses json; prefer jsonb", style_severity(op)
    return None


RULE = Rule(
    id='prefer-jsonb',
    severity='warning',
    summary='Prefer jsonb over json.',
    why='json stores the text as given: no indexing (GIN), no equality operator, every access reparses it.',
    do_instead='Use `postgresql.JSONB` / `jsonb`.',
    check=check,
)
