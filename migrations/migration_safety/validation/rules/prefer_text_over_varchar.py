"""Rule prefer-text-over-varchar."""
from ..model import Rule
from ._types import column_type, style_severity


def check(op, context):
    if op.kind == "column" and column_type(op) == "varchar":
        return f"column {op.get('column')} is varchar(n); prefer text with a check constraint", style_severity(op)
    return None


RULE = Rule(
    id='prefer-text-over-varchar',
    severity='info',
    summary='Prefer text (with a check constraint) over varchar(n).',
    why='varchar(n) is no faster than text in PostgreSQL, and widening the limit later is a schema change on a live table.',
    do_instead='Use `sa.Text()`; when a limit matters, add `CHECK (char_length(col) <= n)` which is easy to change with NOT VALID.',
    check=check,
)
