"""Rule narrow-column-type."""
from ..model import Rule


def check(op, context):
    if op.kind == "alter_type" and op.get("verdict") == "narrowing" and not op.rows_known_absent:
        return (f"{op.label}.{op.get('column') or 'a column'} ({op.get('change')}) loses precision, scale or length: "
                "the table is rewritten and existing values are rounded or rejected")
    return None


RULE = Rule(
    id='narrow-column-type',
    severity='error',
    summary='A type change that reduces precision, scale or length rewrites the table and alters its values.',
    why='Fewer fractional digits (`TIME(3)` from `TIME`, `NUMERIC(12,2)` to `(12,0)`) or a smaller numeric or varchar limit is no catalog-only change: PostgreSQL rewrites every row under ACCESS EXCLUSIVE, rounding values silently or failing on the first one that no longer fits, even when `existing_type` is given.',
    do_instead='Keep the wider type and constrain new values with a `CHECK ... NOT VALID` (validated later); if the narrower type is required, add a new column, backfill it with an explicit, reviewed rounding in batches, switch the code, then drop the old column.',
    check=check,
)
