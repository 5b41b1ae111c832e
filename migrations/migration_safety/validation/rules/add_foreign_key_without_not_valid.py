"""Rule add-foreign-key-without-not-valid."""
from ..model import Rule


def check(op, context):
    if op.kind == "add_constraint" and op.get("constraint_type") == "foreign" and not op.get("not_valid") and not op.rows_known_absent:
        return f"foreign key on {op.label} without NOT VALID blocks writes while it checks every row"
    return None


RULE = Rule(
    id='add-foreign-key-without-not-valid',
    severity='warning',
    summary='A foreign key without NOT VALID scans both tables while blocking writes.',
    why='Adding a foreign key validates every existing row while holding SHARE ROW EXCLUSIVE on both tables: writes to either wait for the whole scan.',
    do_instead='Add it with `NOT VALID` (`postgresql_not_valid=True`), then `ALTER TABLE ... VALIDATE CONSTRAINT` in a later migration, which only takes SHARE UPDATE EXCLUSIVE.',
    check=check,
)
