"""Rule prefer-timestamptz."""
from ..model import Rule
from ._types import column_type, style_severity


def check(op, context):
    if op.kind == "column" and column_type(op) == "timestamp":
        return f"column {op.get('column')} is timestamp without time zone; prefer timestamptz", style_severity(op)
    return None


RULE = Rule(
    id='prefer-timestamptz',
    severity='warning',
    summary='Prefer timestamp with time zone.',
    why='timestamp without time zone stores wall-clock time with no zone: values shift meaning when servers, sessions or users change zone.',
    do_instead='Use `sa.DateTime(timezone=True)` / `timestamptz`.',
    check=check,
)
