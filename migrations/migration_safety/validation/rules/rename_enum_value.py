"""Rule rename-enum-value."""
from ..model import Rule


def check(op, context):
    if op.kind == "rename_enum_value" and not op.table_created_here:
        return (f"renaming value '{op.get('value')}' of enum {op.get('type_name')} breaks the running code "
                "that writes or compares it")
    return None


RULE = Rule(
    id='rename-enum-value',
    severity='error',
    summary='Renaming an enum value breaks the code that is still running.',
    why="ALTER TYPE ... RENAME VALUE changes the value in place: every INSERT, UPDATE or WHERE of the deployed application that still uses the old spelling fails with 'invalid input value for enum'.",
    do_instead='Add the new value (`ADD VALUE`), deploy code that accepts both, migrate the rows in batches, then stop writing the old value; an enum value cannot be dropped, so leave it or recreate the type later.',
    check=check,
)
