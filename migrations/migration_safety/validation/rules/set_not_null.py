"""Rule set-not-null."""
from ..model import Rule


def check(op, context):
    if op.kind == "set_not_null" and not op.rows_known_absent:
        return f"setting NOT NULL on a column of {op.label} scans the table under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='set-not-null',
    severity='warning',
    summary='SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock.',
    why='PostgreSQL checks every row while holding ACCESS EXCLUSIVE, blocking reads and writes for the length of a full table scan.',
    do_instead='Add `CHECK (col IS NOT NULL) NOT VALID`, then `VALIDATE CONSTRAINT` in a later migration (a weaker lock); on PostgreSQL 12+ `SET NOT NULL` then skips the scan, and the check can be dropped.',
    check=check,
)
