"""Rule prefer-bigint-primary-key."""
from ..model import Rule
from ._types import column_type, is_bigserial, style_severity


def check(op, context):
    if op.kind == "column" and op.get("primary_key") and column_type(op) in ("int", "serial") and not is_bigserial(op):
        return f"primary key {op.get('column')} is a 32-bit integer; prefer bigint", style_severity(op)
    return None


RULE = Rule(
    id='prefer-bigint-primary-key',
    severity='warning',
    summary='Prefer bigint for integer primary keys.',
    why='An int primary key runs out at 2.1 billion; changing its type later rewrites the table and every referencing foreign key.',
    do_instead='Use `sa.BigInteger()` / `bigint` for surrogate keys.',
    check=check,
)
