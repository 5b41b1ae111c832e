"""Rule prefer-identity."""
from ..model import Rule
from ._types import is_serial, style_severity


def check(op, context):
    if op.kind == "column" and is_serial(op):
        return f"column {op.get('column')} is serial; prefer an identity column", style_severity(op)
    return None


RULE = Rule(
    id='prefer-identity',
    severity='info',
    summary='Prefer identity columns over serial.',
    why='serial creates a separately owned sequence with looser permissions and dump semantics; identity columns are the SQL-standard replacement.',
    do_instead='`sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True)` / `GENERATED ALWAYS AS IDENTITY`.',
    check=check,
)
