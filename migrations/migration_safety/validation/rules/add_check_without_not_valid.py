"""Rule add-check-without-not-valid."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_constraint" and op.get("constraint_type") == "check" and not op.get("not_valid") and not op.rows_known_absent:
        added = f" (added for {op.get('reason')})" if op.get("reason") else ""
        return f"check constraint on {op.label}{added} without NOT VALID scans the table under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='add-check-without-not-valid',
    severity='warning',
    summary='A check constraint without NOT VALID scans the table under an ACCESS EXCLUSIVE lock.',
    why='ADD CONSTRAINT ... CHECK verifies every row while holding ACCESS EXCLUSIVE.',
    do_instead='Add it `NOT VALID`, then `VALIDATE CONSTRAINT` in a later migration.',
    check=check,
)
