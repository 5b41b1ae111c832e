"""Rule add-exclude-constraint."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_constraint" and op.get("constraint_type") == "exclude" and not op.rows_known_absent:
        return f"adding an EXCLUDE constraint to {op.label} builds its index under an ACCESS EXCLUSIVE lock"
    return None


RULE = Rule(
    id='add-exclude-constraint',
    severity='error',
    summary='Adding an EXCLUDE constraint builds its index while the table is locked against reads and writes.',
    why='ALTER TABLE ... ADD EXCLUDE holds ACCESS EXCLUSIVE while it builds the (usually GiST) index and checks every pair of rows; unlike UNIQUE there is no `USING INDEX` form and no `NOT VALID`, so the lock lasts the whole build.',
    do_instead='Create it with the table when you can; on a populated table enforce the rule in the application or with a trigger first, then add the constraint in a maintenance window, with a short `lock_timeout`.',
    check=check,
)
